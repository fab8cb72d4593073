package numerics

import (
	"fmt"
	"math"
	"strings"
)

// Format is a binary floating-point format with a sign bit, ExpBits exponent
// bits and MantBits mantissa (fraction) bits, bias 2^(ExpBits-1)-1, an
// implicit leading 1 for normal numbers and subnormals at exponent field 0.
// A pattern is held right-aligned in a uint32: sign at bit ExpBits+MantBits.
//
// Formats narrower than float32 (ExpBits <= 8, MantBits <= 23) can be
// rounded to from float32; every value of such a format is a float32, so
// Round returns the rounded value as a float32.
//
// A Format is a plain value: the predefined formats below are meant to be
// copied, never assigned to.
type Format struct {
	Name     string
	ExpBits  int // k: 2..8
	MantBits int // 1..23
	// FiniteOnly marks formats without infinities, such as OCP FP8 E4M3
	// ("E4M3FN"): the all-ones exponent field holds normal numbers, except
	// S.1…1.1…1, the only NaN; rounding saturates overflow (and ±Inf) to
	// ±MaxFinite. Without it the format is IEEE-like: the all-ones exponent
	// holds ±Inf (fraction 0) and NaNs, and overflow rounds to ±Inf.
	FiniteOnly bool
}

// The predefined formats. FP8E4M3 and FP8E5M2 follow the OCP 8-bit floating
// point specification: E4M3 has no infinities, max 448, NaN S.1111.111 and
// saturates on overflow; E5M2 is IEEE-like, max 57344.
var (
	FP32    = Format{Name: "FP32", ExpBits: 8, MantBits: 23}
	FP16    = Format{Name: "FP16", ExpBits: 5, MantBits: 10}
	BF16    = Format{Name: "BF16", ExpBits: 8, MantBits: 7}
	TF32    = Format{Name: "TF32", ExpBits: 8, MantBits: 10}
	FP8E4M3 = Format{Name: "FP8E4M3", ExpBits: 4, MantBits: 3, FiniteOnly: true}
	FP8E5M2 = Format{Name: "FP8E5M2", ExpBits: 5, MantBits: 2}
)

// Formats returns the predefined formats, widest first, in a new slice.
func Formats() []Format { return []Format{FP32, TF32, BF16, FP16, FP8E5M2, FP8E4M3} }

// FormatByName returns the predefined format with the given name. Case,
// '_', '-' and spaces are ignored, and the 8-bit formats may drop the "FP8"
// prefix: "bf16", "FP8E4M3", "fp8_e5m2" and "E4M3" all resolve.
func FormatByName(name string) (Format, error) {
	key := strings.ToUpper(strings.NewReplacer("_", "", "-", "", " ", "").Replace(name))
	if strings.HasPrefix(key, "E") {
		key = "FP8" + key
	}
	for _, f := range Formats() {
		if f.Name == key {
			return f, nil
		}
	}
	return Format{}, fmt.Errorf("%w: no float format named %q", ErrFormat, name)
}

func (f Format) String() string {
	if f.Name != "" {
		return f.Name
	}
	s := fmt.Sprintf("E%dM%d", f.ExpBits, f.MantBits)
	if f.FiniteOnly {
		s += "FN"
	}
	return s
}

// Validate reports whether the format can be rounded to from float32:
// 2 <= ExpBits <= 8, 1 <= MantBits <= 23, and FiniteOnly only with fewer
// than 8 exponent bits (its extra binade must still be a float32).
func (f Format) Validate() error {
	if f.ExpBits < 2 || f.ExpBits > 8 {
		return fmt.Errorf("%w: %v: %d exponent bits (want 2..8)", ErrFormat, f, f.ExpBits)
	}
	if f.MantBits < 1 || f.MantBits > 23 {
		return fmt.Errorf("%w: %v: %d mantissa bits (want 1..23)", ErrFormat, f, f.MantBits)
	}
	if f.FiniteOnly && f.ExpBits == 8 {
		return fmt.Errorf("%w: %v: a finite-only format needs fewer than 8 exponent bits", ErrFormat, f)
	}
	return nil
}

// Bits returns the width of a pattern, 1 + ExpBits + MantBits.
func (f Format) Bits() int { return 1 + f.ExpBits + f.MantBits }

// Bias returns 2^(ExpBits-1) - 1 (127 for FP32, 15 for FP16, 7 for E4M3).
func (f Format) Bias() int { return 1<<(f.ExpBits-1) - 1 }

// MinExp returns the unbiased exponent of the smallest normal number,
// 1 - Bias (subnormals share it).
func (f Format) MinExp() int { return 1 - f.Bias() }

// MaxExp returns the unbiased exponent of the largest finite number: Bias,
// or Bias+1 for a FiniteOnly format.
func (f Format) MaxExp() int {
	if f.FiniteOnly {
		return f.Bias() + 1
	}
	return f.Bias()
}

// MaxFinite returns the largest finite value: 65504 for FP16, 448 for E4M3,
// 57344 for E5M2.
func (f Format) MaxFinite() float32 { return math.Float32frombits(f.maxBits()) }

// MinNormal returns 2^MinExp, the smallest positive normal value.
func (f Format) MinNormal() float32 { return pow2(f.MinExp()) }

// MinSubnormal returns 2^(MinExp-MantBits), the smallest positive value.
func (f Format) MinSubnormal() float32 {
	if e := f.MinExp() - f.MantBits; e < -126 {
		return math.Float32frombits(1 << (e + 149)) // a float32 subnormal
	}
	return pow2(f.MinExp() - f.MantBits)
}

// pow2 returns 2^e for -126 <= e <= 127.
func pow2(e int) float32 { return math.Float32frombits(uint32(e+127) << 23) }

// maxBits returns the float32 bits of MaxFinite.
func (f Format) maxBits() uint32 {
	shift := uint32(23 - f.MantBits)
	frac := uint32(1)<<f.MantBits - 1
	if f.FiniteOnly {
		frac-- // the all-ones fraction at the top exponent is NaN
	}
	return uint32(f.MaxExp()+127)<<23 | frac<<shift
}

// rounder holds what rounding float32 bits to a format needs, computed once
// per slice.
type rounder struct {
	shift     uint32  // float32 fraction bits dropped, 23 - MantBits
	wide      bool    // ExpBits == 8: the float32 exponent range is the format's
	minNormal uint32  // float32 bits of MinNormal
	maxBits   uint32  // float32 bits of MaxFinite
	ovf       uint32  // magnitude bits an overflow gives: +Inf or MaxFinite
	magic     float32 // 2^(MinExp-MantBits+23): x+magic-magic rounds x to the subnormal grid
}

func (f Format) rounder() rounder {
	r := rounder{
		shift:     uint32(23 - f.MantBits),
		wide:      f.ExpBits == 8,
		minNormal: uint32(f.MinExp()+127) << 23,
		maxBits:   f.maxBits(),
		ovf:       0x7F800000,
	}
	if f.FiniteOnly {
		r.ovf = r.maxBits
	}
	if !r.wide {
		r.magic = pow2(f.MinExp() - f.MantBits + 23)
	}
	return r
}

// round returns the float32 bits of b rounded to the format.
func (r *rounder) round(b uint32) uint32 {
	if r.shift == 0 {
		return b // FP32 itself
	}
	sign := b & 0x80000000
	a := b ^ sign
	if a >= 0x7F800000 {
		if a > 0x7F800000 {
			// NaN: quiet it and drop the payload bits the format lacks.
			// For a FiniteOnly format any NaN is its one NaN.
			return sign | (a|0x00400000)&^(1<<r.shift-1)
		}
		return sign | r.ovf
	}
	if r.wide || a >= r.minNormal {
		// The format's grid in this binade is every 2^shift-th float32 bit
		// pattern: add just under half a step, plus one when the kept part
		// is odd (ties to even), then truncate. A carry out of the fraction
		// correctly moves to the next binade. With 8 exponent bits this also
		// covers the subnormals, which float32 shares.
		a = (a + (1<<r.shift>>1 - 1) + (a >> r.shift & 1)) &^ (1<<r.shift - 1)
	} else {
		// Below MinNormal the grid step is fixed, 2^(MinExp-MantBits):
		// adding magic (whose ulp is that step) makes the float32 adder
		// round to nearest even on that grid; the subtraction is exact.
		x := math.Float32frombits(a)
		a = math.Float32bits(float32(x+r.magic) - r.magic)
	}
	if a > r.maxBits {
		a = r.ovf
	}
	return sign | a
}

// Round returns x rounded to the nearest value of the format, ties to even,
// with the format's subnormals. Overflow gives ±Inf for IEEE-like formats
// and ±MaxFinite for FiniteOnly ones (which also saturate ±Inf). A NaN stays
// a (quiet) NaN; -0 stays -0. FP32 returns x unchanged. Round returns NaN
// for an invalid format.
func (f Format) Round(x float32) float32 {
	if f.Validate() != nil {
		return float32(math.NaN())
	}
	r := f.rounder()
	return math.Float32frombits(r.round(math.Float32bits(x)))
}

// RoundSlice sets dst[i] = f.Round(src[i]) for every i; dst and src may be
// the same slice. It does not allocate. It is a kernel for fake-quant: it
// panics if len(dst) != len(src) or f is invalid (check f.Validate once
// when the format is chosen).
func RoundSlice(dst, src []float32, f Format) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("numerics: RoundSlice: len(dst) = %d, len(src) = %d", len(dst), len(src)))
	}
	if err := f.Validate(); err != nil {
		panic("numerics: RoundSlice: " + err.Error())
	}
	r := f.rounder()
	if r.shift == 0 {
		copy(dst, src)
		return
	}
	if r.wide {
		roundWide(dst, src, r.shift)
	} else {
		roundNarrow(dst, src, &r)
	}
}

// roundWideScalar and roundNarrowScalar are round() for a whole slice, with the
// branches a typical tensor never takes turned into selects. They are
// separate small functions so that the loop's constants stay in registers.
// The mask on the shift tells the compiler it is below 32, which saves the
// oversized-shift fix-up.

// roundWideScalar rounds to a format with 8 exponent bits (BF16, TF32): rounding
// up past MaxFinite lands exactly on the +Inf pattern and Inf stays Inf, so
// only NaN needs a case.
func roundWideScalar(dst, src []float32, shift uint32) {
	s := shift & 31
	half, mask := uint32(1)<<s>>1-1, uint32(1)<<s-1
	dst = dst[:len(src)]
	for i, x := range src {
		b := math.Float32bits(x)
		sign := b & 0x80000000
		a := b ^ sign
		n := (a + half + (a >> s & 1)) &^ mask
		if a > 0x7F800000 {
			n = (a | 0x00400000) &^ mask
		}
		dst[i] = math.Float32frombits(sign | n)
	}
}

// roundNarrowScalar rounds to a format with fewer than 8 exponent bits.
func roundNarrowScalar(dst, src []float32, r *rounder) {
	s := r.shift & 31
	half, mask := uint32(1)<<s>>1-1, uint32(1)<<s-1
	minNormal, maxBits, ovf, magic := r.minNormal, r.maxBits, r.ovf, r.magic
	dst = dst[:len(src)]
	for i, x := range src {
		b := math.Float32bits(x)
		sign := b & 0x80000000
		a := b ^ sign
		n := (a + half + (a >> s & 1)) &^ mask
		if a < minNormal {
			n = math.Float32bits(float32(math.Float32frombits(a)+magic) - magic)
		}
		if n > maxBits {
			n = ovf // also ±Inf in: +Inf bits exceed any MaxFinite
		}
		if a > 0x7F800000 {
			n = (a | 0x00400000) &^ mask
		}
		dst[i] = math.Float32frombits(sign | n)
	}
}

// Encode rounds x to the format (as Round does) and returns its pattern,
// right-aligned in the low Bits() bits. NaN encodes as the format's quiet
// NaN carrying the top payload bits of x (S.1…1.1…1 for FiniteOnly
// formats). Encode returns 0 for an invalid format.
func (f Format) Encode(x float32) uint32 {
	if f.Validate() != nil {
		return 0
	}
	r := f.rounder()
	b := r.round(math.Float32bits(x))
	sign := b >> 31 << (f.ExpBits + f.MantBits)
	a := b &^ 0x80000000
	expMask := uint32(1)<<f.ExpBits - 1
	switch {
	case a > 0x7F800000:
		if f.FiniteOnly {
			return sign | expMask<<f.MantBits | (1<<f.MantBits - 1)
		}
		return sign | expMask<<f.MantBits | (a&0x7FFFFF)>>r.shift
	case a == 0x7F800000:
		return sign | expMask<<f.MantBits
	case a >= r.minNormal:
		e := a>>23 - 127 + uint32(f.Bias())
		return sign | e<<f.MantBits | (a&0x7FFFFF)>>r.shift
	case r.wide:
		return sign | a>>r.shift // float32 subnormal: same grid
	default:
		// a is a multiple of the subnormal step 2^(MinExp-MantBits); the
		// fraction field is that multiple (exact power-of-two scaling).
		return sign | uint32(math.Float32frombits(a)*pow2(f.MantBits-f.MinExp()))
	}
}

// Decode returns the value of pattern p (bits above Bits() are ignored) as a
// float32, which holds every value of a valid format exactly. An IEEE NaN
// keeps its payload bits and is quieted. Decode returns NaN for an invalid
// format.
func (f Format) Decode(p uint32) float32 {
	if f.Validate() != nil {
		return float32(math.NaN())
	}
	m := uint32(f.MantBits)
	shift := 23 - m
	expMask := uint32(1)<<f.ExpBits - 1
	sign := p >> (uint32(f.ExpBits) + m) & 1 << 31
	e := p >> m & expMask
	frac := p & (1<<m - 1)
	switch {
	case f.FiniteOnly && e == expMask && frac == 1<<m-1:
		return math.Float32frombits(sign | 0x7FC00000)
	case !f.FiniteOnly && e == expMask:
		if frac == 0 {
			return math.Float32frombits(sign | 0x7F800000)
		}
		return math.Float32frombits(sign | 0x7FC00000 | frac<<shift)
	case e != 0:
		return math.Float32frombits(sign | (e+127-uint32(f.Bias()))<<23 | frac<<shift)
	case f.ExpBits == 8:
		return math.Float32frombits(sign | frac<<shift) // float32 subnormal
	default:
		v := float32(frac) * pow2(f.MinExp()-f.MantBits)
		return math.Float32frombits(sign | math.Float32bits(v))
	}
}

// The fixed-width encoders of the predefined formats. The formats are
// spelled out again here so that they cannot be changed through the
// exported variables.

// EncodeFP16 returns the IEEE binary16 pattern of x (round to nearest even).
func EncodeFP16(x float32) uint16 { return uint16(fp16().Encode(x)) }

// DecodeFP16 returns the value of an IEEE binary16 pattern.
func DecodeFP16(p uint16) float32 { return fp16().Decode(uint32(p)) }

// EncodeBF16 returns the bfloat16 pattern of x (round to nearest even).
func EncodeBF16(x float32) uint16 { return uint16(bf16().Encode(x)) }

// DecodeBF16 returns the value of a bfloat16 pattern.
func DecodeBF16(p uint16) float32 { return bf16().Decode(uint32(p)) }

// EncodeTF32 returns the 19-bit TF32 pattern of x, right-aligned.
func EncodeTF32(x float32) uint32 { return tf32().Encode(x) }

// DecodeTF32 returns the value of a 19-bit TF32 pattern (higher bits ignored).
func DecodeTF32(p uint32) float32 { return tf32().Decode(p) }

// EncodeE4M3 returns the OCP FP8 E4M3 pattern of x (saturating).
func EncodeE4M3(x float32) uint8 { return uint8(e4m3().Encode(x)) }

// DecodeE4M3 returns the value of an OCP FP8 E4M3 pattern.
func DecodeE4M3(p uint8) float32 { return e4m3().Decode(uint32(p)) }

// EncodeE5M2 returns the OCP FP8 E5M2 pattern of x (overflow to ±Inf).
func EncodeE5M2(x float32) uint8 { return uint8(e5m2().Encode(x)) }

// DecodeE5M2 returns the value of an OCP FP8 E5M2 pattern.
func DecodeE5M2(p uint8) float32 { return e5m2().Decode(uint32(p)) }

func fp16() Format { return Format{Name: "FP16", ExpBits: 5, MantBits: 10} }
func bf16() Format { return Format{Name: "BF16", ExpBits: 8, MantBits: 7} }
func tf32() Format { return Format{Name: "TF32", ExpBits: 8, MantBits: 10} }
func e4m3() Format { return Format{Name: "FP8E4M3", ExpBits: 4, MantBits: 3, FiniteOnly: true} }
func e5m2() Format { return Format{Name: "FP8E5M2", ExpBits: 5, MantBits: 2} }
