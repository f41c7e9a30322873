package tts

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckText(t *testing.T) {
	for name, c := range map[string]struct {
		text string
		want error
	}{
		"plain":          {"Dear Mr Alex, the amount of 200,000$ is due.", nil},
		"newlines, tabs": {"line one\n\tline two\r\n", nil},
		"markup is text": {"<speak>[[h@l'oU]]</speak> &amp;", nil},
		"non-latin":      {"Xin chào, cảm ơn bạn", nil},
		"exactly 1000":   {strings.Repeat("é", 1000), nil},
		"empty":          {"", ErrEmptyText},
		"blank":          {" \n\t ", ErrEmptyText},
		"1001 chars":     {strings.Repeat("a", 1001), ErrTextTooLong},
		"NUL":            {"a\x00b", ErrControlChar},
		"escape":         {"hi\x1b[31m", ErrControlChar},
		"DEL":            {"a\x7fb", ErrControlChar},
		"C1 control":     {"a\u0085b", ErrControlChar},
		"invalid UTF-8":  {"caf\xe9", ErrBadEncoding},
	} {
		err := CheckText(c.text)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
	// The error says where the problem is.
	if err := CheckText("ab\x07"); err == nil || !strings.Contains(err.Error(), "U+0007 at character 3") {
		t.Errorf("position missing: %v", err)
	}
	if err := CheckText("ok\xff"); err == nil || !strings.Contains(err.Error(), "byte 2") {
		t.Errorf("byte offset missing: %v", err)
	}
}

func TestNormalize(t *testing.T) {
	v, err := Voice{Lang: " EN-us ", Pitch: 0, Rate: 9}.Normalize()
	if err != nil || v != (Voice{Lang: "en-us", Gender: "female", Pitch: 0, Rate: 9}) {
		t.Fatalf("got %+v %v", v, err)
	}
	for _, bad := range []Voice{{Gender: "robot"}, {Pitch: -1}, {Pitch: 10}, {Rate: -1}, {Rate: 10}} {
		if _, err := bad.Normalize(); !errors.Is(err, ErrBadVoice) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, err := (Voice{Rate: 12}).Normalize(); err == nil || !strings.Contains(err.Error(), "rate 12") {
		t.Errorf("error does not name the field: %v", err)
	}
}

func FuzzCheckText(f *testing.F) {
	for _, s := range []string{"", " ", "hello", "a\x00", "caf\xe9", strings.Repeat("x", 1001), "<speak>", "\u0085", "\t\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckText(s) != nil {
			return
		}
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxTextLen || strings.TrimSpace(s) == "" {
			t.Fatalf("accepted %q", s)
		}
		for _, r := range s {
			if r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r == 0x7f {
				t.Fatalf("accepted control %U in %q", r, s)
			}
		}
	})
}
