package main

import (
	"context"
	"errors"
	"io"
)

// runPhone runs the simulated phone. Owned by the SIP work (issue 4).
func runPhone(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("phone: not built yet")
}
