package flow

import "strings"

// Problem is one thing wrong with a request, located by its JSON path.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// String renders "path: message".
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Problems is every problem found in a document. It is an error when not empty.
type Problems []Problem

// Error joins the problems with "; ".
func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, "; ")
}

// ValidateOptions configure validation.
type ValidateOptions struct {
	// Languages reports whether the TTS engine speaks lang; nil accepts any.
	Languages func(lang string) bool
}
