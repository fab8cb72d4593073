package main

import (
	"context"
	"errors"
	"io"
)

// runCompress is a placeholder until the compress command lands.
func runCompress(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("not implemented yet")
}
