package numerics

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// Fixed is the two's complement fixed-point format fixed<w,b>: Width bits in
// all, Frac of them after the binary point. A value is held as its raw
// integer r (an int64 in [MinRaw, MaxRaw]) and means r·2^-Frac. fixed<8,4>
// has a sign bit, 3 integer bits and 4 fraction bits.
type Fixed struct {
	Width int // w: 1..64
	Frac  int // b: 0..w-1
}

// Validate reports whether 1 <= Width <= 64 and 0 <= Frac < Width.
func (f Fixed) Validate() error {
	if f.Width < 1 || f.Width > 64 {
		return fmt.Errorf("%w: %v: width %d not in 1..64", ErrFormat, f, f.Width)
	}
	if f.Frac < 0 || f.Frac >= f.Width {
		return fmt.Errorf("%w: %v: fraction bits %d not in 0..%d", ErrFormat, f, f.Frac, f.Width-1)
	}
	return nil
}

func (f Fixed) String() string { return fmt.Sprintf("fixed<%d,%d>", f.Width, f.Frac) }

// MinRaw returns -2^(w-1), the smallest raw integer (0 for an invalid format).
func (f Fixed) MinRaw() int64 {
	if f.Validate() != nil {
		return 0
	}
	return -1 << (f.Width - 1)
}

// MaxRaw returns 2^(w-1)-1, the largest raw integer (0 for an invalid format).
func (f Fixed) MaxRaw() int64 {
	if f.Validate() != nil {
		return 0
	}
	return int64(uint64(1)<<(f.Width-1) - 1)
}

// Min returns the smallest value, -2^(w-1-b).
func (f Fixed) Min() float64 { return f.Decode(f.MinRaw()) }

// Max returns the largest value, 2^(w-1-b) - 2^-b (rounded to float64 when
// w > 53).
func (f Fixed) Max() float64 { return f.Decode(f.MaxRaw()) }

// Resolution returns 2^-b, the step between neighbouring values.
func (f Fixed) Resolution() float64 { return math.Ldexp(1, -f.Frac) }

// Encode returns the raw integer nearest to x·2^b (ties to even), saturated
// to [MinRaw, MaxRaw]; ±Inf saturate. NaN is an error wrapping ErrNaN.
func (f Fixed) Encode(x float64) (int64, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	if math.IsNaN(x) {
		return 0, fmt.Errorf("%w: %v", ErrNaN, f)
	}
	// Scaling by a power of two is exact unless it overflows to Inf, which
	// saturates below as it should.
	v := math.RoundToEven(math.Ldexp(x, f.Frac))
	lim := math.Ldexp(1, f.Width-1) // 2^(w-1), exact in float64
	switch {
	case v >= lim:
		return f.MaxRaw(), nil
	case v < -lim:
		return f.MinRaw(), nil
	}
	return int64(v), nil
}

// Decode returns raw·2^-b (rounded to nearest float64 when |raw| > 2^53).
func (f Fixed) Decode(raw int64) float64 { return math.Ldexp(float64(raw), -f.Frac) }

func (f Fixed) sat(v int64) int64 { return min(max(v, f.MinRaw()), f.MaxRaw()) }

// Add returns a+b saturated to [MinRaw, MaxRaw]. Operands are raw integers
// of f; operands outside the range are clamped first. An invalid format
// gives 0.
func (f Fixed) Add(a, b int64) int64 {
	a, b = f.sat(a), f.sat(b)
	s := a + b
	// Overflow of int64 itself only happens for w = 64: same-sign operands
	// whose sum changed sign.
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		if a >= 0 {
			return f.MaxRaw()
		}
		return f.MinRaw()
	}
	return f.sat(s)
}

// Mul returns the product a·b of two raw integers of f: the exact product
// has 2b fraction bits; it is rounded back to b fraction bits, to nearest
// with ties to even, then saturated to [MinRaw, MaxRaw]. Operands outside
// the range are clamped first. An invalid format gives 0.
func (f Fixed) Mul(a, b int64) int64 {
	if f.Validate() != nil {
		return 0
	}
	a, b = f.sat(a), f.sat(b)
	neg := (a < 0) != (b < 0)
	hi, lo := bits.Mul64(absU(a), absU(b)) // |a·b| as 128 bits
	// Round |a·b| / 2^b to nearest, ties to even; since the rule is
	// symmetric, rounding the magnitude rounds the signed product.
	if s := uint(f.Frac); s > 0 {
		rem := lo & (1<<s - 1)
		q := lo>>s | hi<<(64-s)
		hi >>= s
		half := uint64(1) << (s - 1)
		if rem > half || rem == half && q&1 == 1 {
			var c uint64
			q, c = bits.Add64(q, 1, 0)
			hi += c
		}
		lo = q
	}
	// Saturate the magnitude: |result| may be at most 2^(w-1)-1, or 2^(w-1)
	// when negative.
	lim := uint64(1) << (f.Width - 1)
	switch {
	case hi != 0 || lo > lim || lo == lim && !neg:
		if neg {
			return f.MinRaw()
		}
		return f.MaxRaw()
	case neg:
		return int64(-lo) // -2^63 wraps to itself, as wanted
	}
	return int64(lo)
}

func absU(v int64) uint64 {
	if v < 0 {
		return -uint64(v)
	}
	return uint64(v)
}

// Pattern returns the w-bit two's complement pattern of raw (right-aligned).
func (f Fixed) Pattern(raw int64) uint64 {
	if f.Validate() != nil {
		return 0
	}
	return uint64(raw) & (^uint64(0) >> (64 - f.Width))
}

// FromPattern returns the raw integer of a w-bit two's complement pattern;
// bits above w are an error wrapping ErrPattern.
func (f Fixed) FromPattern(p uint64) (int64, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	if f.Width < 64 && p>>f.Width != 0 {
		return 0, fmt.Errorf("%w: %#x has bits above the %d bits of %v", ErrPattern, p, f.Width, f)
	}
	// Sign-extend from bit w-1.
	s := 64 - f.Width
	return int64(p<<s) >> s, nil
}

// BitString returns the pattern of raw with a '.' before the fraction bits:
// fixed<8,4> 2.6875 (raw 43) is "0010.1011". With b = 0 there is no point.
func (f Fixed) BitString(raw int64) string {
	s := BitString(f.Pattern(raw), f.Width)
	if f.Frac == 0 || f.Validate() != nil {
		return s
	}
	var sb strings.Builder
	sb.WriteString(s[:f.Width-f.Frac])
	sb.WriteByte('.')
	sb.WriteString(s[f.Width-f.Frac:])
	return sb.String()
}

// ParseBits parses a w-bit string (with or without the '.') into a raw
// integer.
func (f Fixed) ParseBits(s string) (int64, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	p, n, err := ParseBits(s)
	if err != nil {
		return 0, err
	}
	if n != f.Width {
		return 0, fmt.Errorf("%w: %q has %d bits, %v needs %d", ErrPattern, s, n, f, f.Width)
	}
	return f.FromPattern(p)
}
