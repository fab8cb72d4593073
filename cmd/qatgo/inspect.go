package main

import (
	"context"
	"errors"
	"io"
)

// runInspect is a placeholder until the inspect command lands.
func runInspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("not implemented yet")
}
