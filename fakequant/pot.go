package fakequant

import (
	"fmt"
	"math"
)

// PoTParams are the parameters of power-of-two (logarithmic) quantization,
// Q(x) = sign(x)·2^round(log2|x|).
//
// A code is a sign bit plus Bits exponent bits. One exponent code is kept for
// zero, so the exponents span the 2^Bits - 1 values [MinExp(), MaxExp]:
// with Bits = 1 the grid is ternary {0, ±2^MaxExp}; with Bits = 3 it has
// 7 magnitudes 2^(MaxExp-6) .. 2^MaxExp.
//
// Rounding is in the log domain: |x| rounds up to 2^(k+1) when
// |x| >= √2·2^k (no float is exactly there, so there are no ties).
// Exponents above MaxExp saturate to ±2^MaxExp; exponents below MinExp
// flush to zero (so |x| < 2^(MinExp-1/2) becomes 0). Zero stays zero.
type PoTParams struct {
	Bits   int // exponent bits, 1..8
	MaxExp int // largest exponent; -126..127 so that 2^MaxExp is a normal float32
}

// MinExp returns the smallest exponent of the grid, MaxExp - 2^Bits + 2.
func (p PoTParams) MinExp() int { return p.MaxExp - (1 << p.Bits) + 2 }

// Validate reports whether p can be used.
func (p PoTParams) Validate() error {
	if p.Bits < 1 || p.Bits > 8 {
		return fmt.Errorf("%w: power-of-two exponent bits %d, want 1..8", ErrInvalidParams, p.Bits)
	}
	if p.MaxExp < -126 || p.MaxExp > 127 {
		return fmt.Errorf("%w: power-of-two max exponent %d, want -126..127", ErrInvalidParams, p.MaxExp)
	}
	return nil
}

// String renders p, e.g. "pot3[2^-4, 2^2]".
func (p PoTParams) String() string {
	return fmt.Sprintf("pot%d[2^%d, 2^%d]", p.Bits, p.MinExp(), p.MaxExp)
}

// Log2Round returns round(log2|x|) with the log-domain rounding of
// PoTParams, for finite non-zero x.
func Log2Round(x float64) int {
	f, e := math.Frexp(math.Abs(x)) // |x| = f·2^e, f in [0.5, 1)
	// log2|x| = (e-1) + log2(2f), 2f in [1, 2): round up iff 2f >= √2.
	// float64(√2) lies above the true √2 with no float64 in between, so
	// comparing against it is exact.
	if 2*f >= math.Sqrt2 {
		return e
	}
	return e - 1
}

// MaxExpFor returns the MaxExp that puts max|x| on the grid's top,
// Log2Round(maxAbs) clamped to the float32 normal range; 0 for maxAbs 0.
func MaxExpFor(maxAbs float32) int {
	if !(maxAbs > 0) || math.IsInf(float64(maxAbs), 0) {
		if math.IsInf(float64(maxAbs), 1) {
			return 127
		}
		return 0
	}
	return min(max(Log2Round(float64(maxAbs)), -126), 127)
}

// potValue quantizes one value; in reports whether it was not saturated.
// NaN maps to 0 with in = false; ±Inf saturate.
func potValue(x float64, minE, maxE int) (v float64, in bool) {
	if x == 0 {
		return x, true
	}
	if x != x {
		return 0, false
	}
	e := maxE + 1
	if !math.IsInf(x, 0) {
		e = Log2Round(x)
	}
	in = true
	if e > maxE {
		e, in = maxE, false
	}
	if e < minE {
		return 0, true
	}
	return math.Copysign(math.Ldexp(1, e), x), in
}

// FakeQuantizePoT writes the power-of-two quantization of src to dst (see
// PoTParams) and, when mask is not nil, mask[i] = false where src[i]
// saturated at ±2^MaxExp (or was NaN): the straight-through gradient is zero
// there. Values flushed to zero keep a true mask (their error is rounding,
// not clipping). dst may alias src; it does not allocate.
func FakeQuantizePoT(dst []float32, mask []bool, src []float32, p PoTParams) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if len(dst) != len(src) || (mask != nil && len(mask) != len(src)) {
		return fmt.Errorf("%w: dst %d, mask %d, src %d elements", ErrShape, len(dst), len(mask), len(src))
	}
	minE, maxE := p.MinExp(), p.MaxExp
	for i, x := range src {
		v, in := potValue(float64(x), minE, maxE)
		dst[i] = float32(v)
		if mask != nil {
			mask[i] = in
		}
	}
	return nil
}

// fakeQuantizePoT64 is FakeQuantizePoT in float64 for the gradient-check path.
func fakeQuantizePoT64(dst []float64, mask []bool, src []float64, p PoTParams) {
	minE, maxE := p.MinExp(), p.MaxExp
	for i, x := range src {
		v, in := potValue(x, minE, maxE)
		dst[i] = v
		if mask != nil {
			mask[i] = in
		}
	}
}
