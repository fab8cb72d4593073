package main

import (
	"context"
	"errors"
	"io"
)

// runSweep is a placeholder until the sweep command lands.
func runSweep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("not implemented yet")
}
