package main

import (
	"context"
	"errors"
	"io"
)

// runExport is a placeholder until the export command lands.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("not implemented yet")
}
