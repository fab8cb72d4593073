package compress

import (
	"errors"
	"fmt"
)

// ErrRelative reports invalid relative-position input.
var ErrRelative = errors.New("compress: invalid relative positions")

// Paper defaults for the relative-position width.
const (
	ConvRelBits = 8 // conv layers (rank-4 weights)
	FCRelBits   = 5 // fully connected and other layers
)

// DefaultRelBits returns the paper's width for a weight of this shape: 8 bits
// for conv kernels (rank 4), 5 bits otherwise.
func DefaultRelBits(shape []int) int {
	if len(shape) == 4 {
		return ConvRelBits
	}
	return FCRelBits
}

// EncodeRelative encodes the kept positions of mask (row-major flattened
// weights) as relative-position symbols of the given width (1..16 bits).
// With M = 2^bits - 1, symbol s in 1..M means "the next kept weight is s
// positions after the previous one" (the first is counted from position -1),
// and symbol 0 is a filler meaning "advance M positions, no weight", used when
// a gap exceeds M. Positions after the last kept weight need no symbol.
func EncodeRelative(mask []bool, bits int) ([]int32, error) {
	if bits < 1 || bits > 16 {
		return nil, fmt.Errorf("%w: width %d bits, want 1..16", ErrRelative, bits)
	}
	m := 1<<bits - 1
	var syms []int32
	prev := -1
	for i, keep := range mask {
		if !keep {
			continue
		}
		gap := i - prev
		for gap > m {
			syms = append(syms, 0)
			gap -= m
		}
		syms = append(syms, int32(gap))
		prev = i
	}
	return syms, nil
}

// DecodeRelative rebuilds the mask of n weights from relative-position
// symbols. It rejects symbols outside [0, 2^bits), positions past n and
// trailing fillers (which the encoder never writes).
func DecodeRelative(syms []int32, bits, n int) ([]bool, error) {
	if bits < 1 || bits > 16 {
		return nil, fmt.Errorf("%w: width %d bits, want 1..16", ErrRelative, bits)
	}
	if n < 0 {
		return nil, fmt.Errorf("%w: length %d", ErrRelative, n)
	}
	m := 1<<bits - 1
	mask := make([]bool, n)
	pos := -1
	for i, s := range syms {
		if s < 0 || int(s) > m {
			return nil, fmt.Errorf("%w: symbol %d at entry %d outside [0, %d]", ErrRelative, s, i, m)
		}
		if s == 0 {
			if i == len(syms)-1 {
				return nil, fmt.Errorf("%w: trailing filler", ErrRelative)
			}
			pos += m
			continue
		}
		pos += int(s)
		if pos >= n {
			return nil, fmt.Errorf("%w: entry %d at position %d, layer has %d weights", ErrRelative, i, pos, n)
		}
		mask[pos] = true
	}
	return mask, nil
}
