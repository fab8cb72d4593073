//go:build !cgo

package onnx

import "fmt"

// This build has no cgo, so onnxruntime cannot be loaded; every entry point
// returns an error wrapping ErrNoRuntime.

func errNoCgo() error { return errNoCgoLib("") }

func errNoCgoLib(lib string) error {
	if lib != "" {
		lib = " to load " + lib
	}
	return fmt.Errorf("%w%s: this program was built without cgo (CGO_ENABLED=0); rebuild with cgo and a C compiler to run ONNX models", ErrNoRuntime, lib)
}

// LoadRuntime needs cgo; see the cgo build.
func LoadRuntime(libPath string) error { return errNoCgoLib(libPath) }

// RuntimeVersion is "" without cgo.
func RuntimeVersion() string { return "" }

// Session needs cgo; see the cgo build.
type Session struct{}

// NewSession needs cgo; see the cgo build.
func NewSession(model []byte, opts SessionOptions) (*Session, error) { return nil, errNoCgo() }

// HasCodes is false without cgo.
func (s *Session) HasCodes() bool { return false }

// OutputSize is 0 without cgo.
func (s *Session) OutputSize() int { return 0 }

// Run needs cgo; see the cgo build.
func (s *Session) Run(x []float32, n int) (logits []float32, codes []int32, err error) {
	return nil, nil, errNoCgo()
}

// InputSize is 0 without cgo.
func (s *Session) InputSize() int { return 0 }

// Close does nothing without cgo.
func (s *Session) Close() error { return nil }
