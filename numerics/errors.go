package numerics

import "errors"

// Sentinel errors; the errors returned by this package wrap one of them, so
// callers can test with errors.Is.
var (
	// ErrFormat reports an invalid format (bit widths out of their range).
	ErrFormat = errors.New("numerics: invalid format")
	// ErrRange reports a value outside the range of a format.
	ErrRange = errors.New("numerics: value out of range")
	// ErrPattern reports a bit pattern that does not fit a format, or a
	// malformed bit string.
	ErrPattern = errors.New("numerics: invalid bit pattern")
	// ErrNaN reports a NaN given to a format that cannot hold one.
	ErrNaN = errors.New("numerics: NaN has no encoding")
)
