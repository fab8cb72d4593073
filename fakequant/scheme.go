package fakequant

import (
	"errors"
	"fmt"
)

// Granularity says how many (scale, zero point) pairs a tensor gets.
type Granularity int

const (
	// PerTensor uses one scale and zero point for the whole tensor.
	PerTensor Granularity = iota
	// PerChannel uses one scale and zero point per slice along QScheme.Axis
	// (the output channel of a weight).
	PerChannel
)

func (g Granularity) String() string {
	switch g {
	case PerTensor:
		return "per-tensor"
	case PerChannel:
		return "per-channel"
	}
	return fmt.Sprintf("Granularity(%d)", int(g))
}

// QScheme describes an integer grid: its width, signedness, how the range maps
// onto it and at which granularity.
type QScheme struct {
	// Bits is the integer width, 1..16.
	Bits int
	// Signed selects two's complement [-2^(b-1), 2^(b-1)-1] over [0, 2^b-1].
	Signed bool
	// Symmetric forces a range symmetric around zero: [-max|r|, max|r|].
	// Signed symmetric schemes have zero point 0; unsigned symmetric ones use
	// PyTorch's mid-point rule, Z = 2^(b-1) (128 for 8 bits).
	Symmetric bool
	// NarrowRange drops the most negative code of a signed grid
	// ([-127, 127] for 8 bits) so that the grid is symmetric. Signed only.
	NarrowRange bool
	// Granularity is PerTensor or PerChannel.
	Granularity Granularity
	// Axis is the channel axis for PerChannel (0 for conv and linear
	// weights, which are stored output-channel first).
	Axis int
}

// ErrInvalidScheme is returned (wrapped) for schemes that cannot be built.
var ErrInvalidScheme = errors.New("fakequant: invalid quantization scheme")

// Validate reports whether s is a grid that can be used.
func (s QScheme) Validate() error {
	if s.Bits < 1 || s.Bits > 16 {
		return fmt.Errorf("%w: bits=%d, want 1..16", ErrInvalidScheme, s.Bits)
	}
	if s.NarrowRange && !s.Signed {
		return fmt.Errorf("%w: narrow range needs a signed grid", ErrInvalidScheme)
	}
	if s.NarrowRange && s.Bits < 2 {
		return fmt.Errorf("%w: narrow range needs at least 2 bits", ErrInvalidScheme)
	}
	if s.Granularity != PerTensor && s.Granularity != PerChannel {
		return fmt.Errorf("%w: granularity %d", ErrInvalidScheme, int(s.Granularity))
	}
	if s.Granularity == PerChannel && s.Axis < 0 {
		return fmt.Errorf("%w: per-channel axis %d < 0", ErrInvalidScheme, s.Axis)
	}
	return nil
}

// QRange returns the smallest and largest integer codes of the grid.
func (s QScheme) QRange() (qmin, qmax int32) {
	if s.Signed {
		qmin, qmax = -(1 << (s.Bits - 1)), (1<<(s.Bits-1))-1
		if s.NarrowRange {
			qmin++
		}
		return qmin, qmax
	}
	return 0, (1 << s.Bits) - 1
}

// String renders the scheme compactly, e.g. "int8 sym per-channel(axis 0)".
func (s QScheme) String() string {
	t := "uint"
	if s.Signed {
		t = "int"
	}
	m := "affine"
	if s.Symmetric {
		m = "sym"
	}
	if s.NarrowRange {
		m += " narrow"
	}
	g := s.Granularity.String()
	if s.Granularity == PerChannel {
		g = fmt.Sprintf("per-channel(axis %d)", s.Axis)
	}
	return fmt.Sprintf("%s%d %s %s", t, s.Bits, m, g)
}

// QParams are the parameters of one quantized tensor: r = Scale·(q - ZeroPoint).
// Per-tensor params have one entry; per-channel params one per channel. The
// scheme travels with them so that export never has to rediscover it.
type QParams struct {
	Scheme    QScheme
	Scale     []float32
	ZeroPoint []int32
}

// ErrNotObserved is returned for parameters asked of an observer or quantizer
// that has seen no data yet.
var ErrNotObserved = errors.New("fakequant: no range observed yet")
