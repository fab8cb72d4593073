package numerics

import (
	"fmt"
	"math"
	"strconv"
)

// Class is the kind of value a float pattern holds.
type Class int

const (
	ClassZero Class = iota
	ClassSubnormal
	ClassNormal
	ClassInf
	ClassNaN
)

func (c Class) String() string {
	switch c {
	case ClassZero:
		return "zero"
	case ClassSubnormal:
		return "subnormal"
	case ClassNormal:
		return "normal"
	case ClassInf:
		return "infinity"
	case ClassNaN:
		return "NaN"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Parts is a float pattern split into its fields: the sign bit s, the biased
// exponent field e and the fraction field f.
type Parts struct {
	Format   Format
	Sign     uint32 // 0 or 1
	Exponent uint32 // biased exponent field, ExpBits wide
	Fraction uint32 // fraction (mantissa) field, MantBits wide
}

// Decompose splits pattern p of the format into its fields; bits above
// Bits() are ignored.
func (f Format) Decompose(p uint32) Parts {
	m := uint(f.MantBits)
	return Parts{
		Format:   f,
		Sign:     p >> (uint(f.ExpBits) + m) & 1,
		Exponent: p >> m & (1<<uint(f.ExpBits) - 1),
		Fraction: p & (1<<m - 1),
	}
}

// Decompose32 splits the float32 x into its FP32 fields.
func Decompose32(x float32) Parts { return FP32.Decompose(math.Float32bits(x)) }

// Compose returns the pattern with the given fields; a field wider than the
// format allows is an error wrapping ErrPattern.
func (f Format) Compose(sign, exponent, fraction uint32) (uint32, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	switch {
	case sign > 1:
		return 0, fmt.Errorf("%w: %v: sign %d is not 0 or 1", ErrPattern, f, sign)
	case exponent >= 1<<uint(f.ExpBits):
		return 0, fmt.Errorf("%w: %v: exponent field %d does not fit %d bits", ErrPattern, f, exponent, f.ExpBits)
	case fraction >= 1<<uint(f.MantBits):
		return 0, fmt.Errorf("%w: %v: fraction field %d does not fit %d bits", ErrPattern, f, fraction, f.MantBits)
	}
	return sign<<uint(f.ExpBits+f.MantBits) | exponent<<uint(f.MantBits) | fraction, nil
}

// Compose32 returns the float32 with the given FP32 fields.
func Compose32(sign, exponent, fraction uint32) (float32, error) {
	p, err := FP32.Compose(sign, exponent, fraction)
	return math.Float32frombits(p), err
}

// Pattern returns the pattern the fields make (fields are masked to their
// widths).
func (p Parts) Pattern() uint32 {
	f := p.Format
	return (p.Sign&1)<<uint(f.ExpBits+f.MantBits) |
		(p.Exponent&(1<<uint(f.ExpBits)-1))<<uint(f.MantBits) |
		p.Fraction&(1<<uint(f.MantBits)-1)
}

// Class returns what the fields encode.
func (p Parts) Class() Class {
	f := p.Format
	top := uint32(1)<<uint(f.ExpBits) - 1
	full := uint32(1)<<uint(f.MantBits) - 1
	switch {
	case p.Exponent == 0 && p.Fraction == 0:
		return ClassZero
	case p.Exponent == 0:
		return ClassSubnormal
	case p.Exponent != top:
		return ClassNormal
	case f.FiniteOnly && p.Fraction != full:
		return ClassNormal
	case f.FiniteOnly || p.Fraction != 0:
		return ClassNaN
	}
	return ClassInf
}

// SignBits returns the sign field as a 1-character bit string.
func (p Parts) SignBits() string { return BitString(uint64(p.Sign), 1) }

// ExponentBits returns the exponent field as an ExpBits-character bit string.
func (p Parts) ExponentBits() string { return BitString(uint64(p.Exponent), p.Format.ExpBits) }

// FractionBits returns the fraction field as a MantBits-character bit string.
func (p Parts) FractionBits() string { return BitString(uint64(p.Fraction), p.Format.MantBits) }

// String returns the three fields separated by spaces, e.g. -13.625 in FP32
// is "1 10000010 10110100000000000000000".
func (p Parts) String() string {
	return p.SignBits() + " " + p.ExponentBits() + " " + p.FractionBits()
}

// Significand returns 1.f for normal numbers and 0.f for zeros and
// subnormals (0 for Inf and NaN).
func (p Parts) Significand() float64 {
	s := math.Ldexp(float64(p.Fraction), -p.Format.MantBits)
	switch p.Class() {
	case ClassNormal:
		return 1 + s
	case ClassZero, ClassSubnormal:
		return s
	}
	return 0
}

// Exp returns the unbiased exponent: e - bias for normal numbers, 1 - bias
// for zeros and subnormals (0 for Inf and NaN).
func (p Parts) Exp() int {
	switch p.Class() {
	case ClassNormal:
		return int(p.Exponent) - p.Format.Bias()
	case ClassZero, ClassSubnormal:
		return p.Format.MinExp()
	}
	return 0
}

// Value returns (-1)^s · Significand · 2^Exp exactly, ±Inf or NaN.
func (p Parts) Value() float64 {
	var v float64
	switch p.Class() {
	case ClassInf:
		v = math.Inf(1)
	case ClassNaN:
		return math.NaN()
	default:
		v = math.Ldexp(p.Significand(), p.Exp())
	}
	if p.Sign == 1 {
		v = -v
	}
	return v
}

// Formula writes the value out with the IEEE formula, e.g. for -13.625 in
// FP32 "(-1)^1 * 1.703125 * 2^(130-127) = -13.625"; subnormals and zeros
// show 0.f · 2^(1-bias).
func (p Parts) Formula() string {
	c := p.Class()
	switch c {
	case ClassNaN:
		return "NaN"
	case ClassInf:
		return fmt.Sprintf("(-1)^%d * Inf = %s", p.Sign, fmtG(p.Value()))
	}
	e := p.Exponent
	if c != ClassNormal {
		e = 1
	}
	return fmt.Sprintf("(-1)^%d * %s * 2^(%d-%d) = %s",
		p.Sign, fmtG(p.Significand()), e, p.Format.Bias(), fmtG(p.Value()))
}

func fmtG(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
