package numerics

import (
	"errors"
	"math"
	"testing"
)

var (
	inf  = float32(math.Inf(1))
	nan  = float32(math.NaN())
	negZ = float32(math.Copysign(0, -1))
)

// same reports whether a and b are the same float32 value, telling -0 from
// +0 and treating all NaNs as equal.
func same(a, b float32) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

func TestFormatParams(t *testing.T) {
	for _, test := range []struct {
		f                            Format
		bits, bias, minExp, maxExp   int
		maxFinite, minNormal, minSub float32
	}{
		{FP32, 32, 127, -126, 127, 3.4028234663852886e38, 1.1754943508222875e-38, 1.401298464324817e-45},
		{FP16, 16, 15, -14, 15, 65504, 6.103515625e-05, 5.960464477539063e-08},
		{BF16, 16, 127, -126, 127, 3.3895313892515355e38, 1.1754943508222875e-38, 9.183549615799121e-41},
		{TF32, 19, 127, -126, 127, 3.4011621342146535e38, 1.1754943508222875e-38, 1.1479437019748901e-41},
		{FP8E4M3, 8, 7, -6, 8, 448, 0.015625, 0.001953125},
		{FP8E5M2, 8, 15, -14, 15, 57344, 6.103515625e-05, 1.52587890625e-05},
	} {
		f := test.f
		if err := f.Validate(); err != nil {
			t.Errorf("%v: %v", f, err)
		}
		if f.Bits() != test.bits || f.Bias() != test.bias || f.MinExp() != test.minExp || f.MaxExp() != test.maxExp {
			t.Errorf("%v: bits %d bias %d exp [%d, %d]", f, f.Bits(), f.Bias(), f.MinExp(), f.MaxExp())
		}
		if f.MaxFinite() != test.maxFinite || f.MinNormal() != test.minNormal || f.MinSubnormal() != test.minSub {
			t.Errorf("%v: max %g minNormal %g minSub %g", f, f.MaxFinite(), f.MinNormal(), f.MinSubnormal())
		}
	}
}

func TestFormatValidate(t *testing.T) {
	for _, f := range []Format{
		{ExpBits: 1, MantBits: 3},
		{ExpBits: 9, MantBits: 3},
		{ExpBits: 5, MantBits: 0},
		{ExpBits: 5, MantBits: 24},
		{ExpBits: 8, MantBits: 7, FiniteOnly: true},
	} {
		if err := f.Validate(); !errors.Is(err, ErrFormat) {
			t.Errorf("%v: Validate() = %v", f, err)
		}
	}
	if _, err := FormatByName("FP9"); !errors.Is(err, ErrFormat) {
		t.Errorf("FormatByName(FP9) error %v", err)
	}
	for _, c := range []struct {
		name string
		want Format
	}{
		{"BF16", BF16}, {"bf16", BF16}, {"FP32", FP32}, {"tf32", TF32}, {"fp16", FP16},
		{"FP8E4M3", FP8E4M3}, {"fp8_e4m3", FP8E4M3}, {"E4M3", FP8E4M3}, {"e5m2", FP8E5M2}, {"FP8-E5M2", FP8E5M2},
	} {
		if f, err := FormatByName(c.name); err != nil || f != c.want {
			t.Errorf("FormatByName(%q) = %v, %v", c.name, f, err)
		}
	}
}

func TestDecompose32(t *testing.T) {
	for _, test := range []struct {
		x       float32
		s, e, f uint32
		bits    string
		class   Class
		formula string
	}{
		// -13.625 = -1101.101b = -1.101101b·2^3: e = 3+127 = 130.
		{-13.625, 1, 130, 0x5A0000, "1 10000010 10110100000000000000000", ClassNormal,
			"(-1)^1 * 1.703125 * 2^(130-127) = -13.625"},
		{1, 0, 127, 0, "0 01111111 00000000000000000000000", ClassNormal,
			"(-1)^0 * 1 * 2^(127-127) = 1"},
		{0.1, 0, 123, 0x4CCCCD, "0 01111011 10011001100110011001101", ClassNormal,
			"(-1)^0 * 1.600000023841858 * 2^(123-127) = 0.10000000149011612"},
		{negZ, 1, 0, 0, "1 00000000 00000000000000000000000", ClassZero,
			"(-1)^1 * 0 * 2^(1-127) = -0"},
		{1.401298464324817e-45, 0, 0, 1, "0 00000000 00000000000000000000001", ClassSubnormal,
			"(-1)^0 * 1.1920928955078125e-07 * 2^(1-127) = 1.401298464324817e-45"},
		{5.877471754111438e-39, 0, 0, 0x400000, "0 00000000 10000000000000000000000", ClassSubnormal,
			"(-1)^0 * 0.5 * 2^(1-127) = 5.877471754111438e-39"},
		{-inf, 1, 255, 0, "1 11111111 00000000000000000000000", ClassInf, "(-1)^1 * Inf = -Inf"},
		{math.Float32frombits(0x7FC00000), 0, 255, 0x400000, "0 11111111 10000000000000000000000", ClassNaN, "NaN"},
	} {
		p := Decompose32(test.x)
		if p.Sign != test.s || p.Exponent != test.e || p.Fraction != test.f {
			t.Errorf("%g: fields %d %d %#x, want %d %d %#x", test.x, p.Sign, p.Exponent, p.Fraction, test.s, test.e, test.f)
		}
		if p.String() != test.bits {
			t.Errorf("%g: %s, want %s", test.x, p, test.bits)
		}
		if p.Class() != test.class {
			t.Errorf("%g: class %v, want %v", test.x, p.Class(), test.class)
		}
		if p.Formula() != test.formula {
			t.Errorf("%g: formula %q, want %q", test.x, p.Formula(), test.formula)
		}
		if v := float32(p.Value()); !same(v, test.x) {
			t.Errorf("%g: Value() = %g", test.x, v)
		}
		back, err := Compose32(test.s, test.e, test.f)
		if err != nil || math.Float32bits(back) != math.Float32bits(test.x) {
			t.Errorf("%g: Compose32 = %g, %v", test.x, back, err)
		}
		if pb, n, err := ParseBits(test.bits); err != nil || n != 32 || uint32(pb) != math.Float32bits(test.x) {
			t.Errorf("%g: ParseBits(%s) = %#x, %d, %v", test.x, test.bits, pb, n, err)
		}
	}
	for _, c := range [][3]uint32{{2, 0, 0}, {0, 256, 0}, {0, 0, 1 << 23}} {
		if _, err := Compose32(c[0], c[1], c[2]); !errors.Is(err, ErrPattern) {
			t.Errorf("Compose32%v error %v", c, err)
		}
	}
}

// Decomposition of narrow formats, including E4M3's top binade.
func TestDecomposeNarrow(t *testing.T) {
	for _, test := range []struct {
		f       Format
		p       uint32
		bits    string
		class   Class
		formula string
	}{
		{FP16, 0x3C00, "0 01111 0000000000", ClassNormal, "(-1)^0 * 1 * 2^(15-15) = 1"},
		{FP16, 0x7BFF, "0 11110 1111111111", ClassNormal, "(-1)^0 * 1.9990234375 * 2^(30-15) = 65504"},
		{FP16, 0x0001, "0 00000 0000000001", ClassSubnormal, "(-1)^0 * 0.0009765625 * 2^(1-15) = 5.960464477539063e-08"},
		{FP16, 0xFC00, "1 11111 0000000000", ClassInf, "(-1)^1 * Inf = -Inf"},
		{BF16, 0xC049, "1 10000000 1001001", ClassNormal, "(-1)^1 * 1.5703125 * 2^(128-127) = -3.140625"},
		{FP8E4M3, 0x7E, "0 1111 110", ClassNormal, "(-1)^0 * 1.75 * 2^(15-7) = 448"},
		{FP8E4M3, 0x78, "0 1111 000", ClassNormal, "(-1)^0 * 1 * 2^(15-7) = 256"},
		{FP8E4M3, 0xFF, "1 1111 111", ClassNaN, "NaN"},
		{FP8E4M3, 0x01, "0 0000 001", ClassSubnormal, "(-1)^0 * 0.125 * 2^(1-7) = 0.001953125"},
		{FP8E5M2, 0x7B, "0 11110 11", ClassNormal, "(-1)^0 * 1.75 * 2^(30-15) = 57344"},
		{FP8E5M2, 0x7C, "0 11111 00", ClassInf, "(-1)^0 * Inf = +Inf"},
		{FP8E5M2, 0x7D, "0 11111 01", ClassNaN, "NaN"},
		{TF32, 0x5FC00, "1 01111111 0000000000", ClassNormal, "(-1)^1 * 1 * 2^(127-127) = -1"},
	} {
		p := test.f.Decompose(test.p)
		if p.String() != test.bits || p.Class() != test.class || p.Formula() != test.formula {
			t.Errorf("%v %#x: %s %v %q, want %s %v %q", test.f, test.p, p, p.Class(), p.Formula(), test.bits, test.class, test.formula)
		}
		if p.Pattern() != test.p {
			t.Errorf("%v %#x: Pattern() = %#x", test.f, test.p, p.Pattern())
		}
		if q, err := test.f.Compose(p.Sign, p.Exponent, p.Fraction); err != nil || q != test.p {
			t.Errorf("%v %#x: Compose = %#x, %v", test.f, test.p, q, err)
		}
		if v, d := p.Value(), test.f.Decode(test.p); !same(float32(v), d) {
			t.Errorf("%v %#x: Value %g, Decode %g", test.f, test.p, v, d)
		}
	}
}

// Hand-worked rounding: ties to even, subnormals, overflow, NaN, -0.
func TestRound(t *testing.T) {
	for i, test := range []struct {
		f    Format
		x    float32
		want float32
		p    uint32 // the pattern Encode gives
	}{
		// FP16: 10 fraction bits; step 2^-10 in [1, 2).
		{FP16, 1, 1, 0x3C00},
		{FP16, -2, -2, 0xC000},
		{FP16, 0.1, 0.0999755859375, 0x2E66},
		{FP16, 1.00048828125, 1, 0x3C00},           // 1 + 2^-11: tie, 1 is even
		{FP16, 1.00146484375, 1.001953125, 0x3C02}, // 1 + 3·2^-11: tie, 1+2^-9 is even
		{FP16, 65504, 65504, 0x7BFF},
		{FP16, 65519, 65504, 0x7BFF}, // just below max + half step (16)
		{FP16, 65520, inf, 0x7C00},   // max + half step: tie, goes up to Inf
		{FP16, -1e6, -inf, 0xFC00},
		{FP16, 5.960464477539063e-08, 5.960464477539063e-08, 0x0001},  // 2^-24, min subnormal
		{FP16, 2.9802322387695312e-08, 0, 0x0000},                     // 2^-25: tie, 0 is even
		{FP16, 4.470348358154297e-08, 5.960464477539063e-08, 0x0001},  // 1.5·2^-25
		{FP16, 8.940696716308594e-08, 1.1920928955078125e-07, 0x0002}, // 3·2^-25: tie to 2·2^-24
		{FP16, -1.4901161193847656e-08, negZ, 0x8000},                 // -2^-26 underflows to -0
		{FP16, 6.097555160522461e-05, 6.097555160522461e-05, 0x03FF},  // largest subnormal
		{FP16, 6.100535392761231e-05, 6.103515625e-05, 0x0400},        // half-way up to min normal
		{FP16, negZ, negZ, 0x8000},
		{FP16, inf, inf, 0x7C00},
		{FP16, nan, nan, 0x7E00},
		// BF16: 7 fraction bits, float32's exponent range.
		{BF16, 1, 1, 0x3F80},
		{BF16, 1.00390625, 1, 0x3F80},        // 1 + 2^-8: tie, 1 is even
		{BF16, 1.01171875, 1.015625, 0x3F82}, // 1 + 3·2^-8: tie, 1+2^-6 is even
		{BF16, 3.1415927, 3.140625, 0x4049},
		{BF16, -3.1415927, -3.140625, 0xC049},
		{BF16, 3.4028234663852886e38, inf, 0x7F80}, // float32 max overflows
		{BF16, 3.3895313892515355e38, 3.3895313892515355e38, 0x7F7F},
		{BF16, 9.183549615799121e-41, 9.183549615799121e-41, 0x0001}, // 2^-133, min subnormal
		{BF16, 4.591774807899561e-41, 0, 0x0000},                     // 2^-134: tie to 0
		{BF16, 1.401298464324817e-45, 0, 0x0000},                     // float32 min subnormal
		{BF16, -inf, -inf, 0xFF80},
		{BF16, nan, nan, 0x7FC0},
		{BF16, negZ, negZ, 0x8000},
		// TF32: 10 fraction bits, float32's exponent range; 19-bit patterns.
		{TF32, 1, 1, 0x1FC00},
		{TF32, -1, -1, 0x5FC00},
		{TF32, 1.00048828125, 1, 0x1FC00},
		{TF32, 1.00146484375, 1.001953125, 0x1FC02},
		{TF32, 0.1, 0.0999755859375, 0x1EE66},
		{TF32, 3.4028234663852886e38, inf, 0x3FC00},
		{TF32, nan, nan, 0x3FE00},
		// E4M3: 3 fraction bits; no Inf; saturates at 448.
		{FP8E4M3, 1, 1, 0x38},
		{FP8E4M3, 1.0625, 1, 0x38},    // 1 + 1/16: tie, 1 is even
		{FP8E4M3, 1.1875, 1.25, 0x3A}, // 1 + 3/16: tie, 1.25 is even
		{FP8E4M3, 0.3, 0.3125, 0x2A},  // step 1/32 in [1/4, 1/2): 9.6 steps → 10
		{FP8E4M3, 17, 16, 0x58},       // step 2 in [16, 32): tie, 16 is even
		{FP8E4M3, 19, 20, 0x5A},       // tie, 20 is even
		{FP8E4M3, 448, 448, 0x7E},     // max normal S.1111.110
		{FP8E4M3, 464, 448, 0x7E},     // tie between 448 and 480 (not a value): 448 is even
		{FP8E4M3, 465, 448, 0x7E},     // would round to 480: saturates
		{FP8E4M3, 1e6, 448, 0x7E},     // saturates
		{FP8E4M3, -500, -448, 0xFE},   // saturates
		{FP8E4M3, inf, 448, 0x7E},     // no infinity: saturates
		{FP8E4M3, -inf, -448, 0xFE},
		{FP8E4M3, nan, nan, 0x7F},                 // S.1111.111
		{FP8E4M3, 0.001953125, 0.001953125, 0x01}, // 2^-9, min subnormal
		{FP8E4M3, 0.0009765625, 0, 0x00},          // 2^-10: tie, 0 is even
		{FP8E4M3, 0.0029296875, 0.00390625, 0x02}, // 3·2^-10: tie, 2·2^-9 is even
		{FP8E4M3, 0.0136, 0.013671875, 0x07},      // 6.96 steps → 7, largest subnormal
		{FP8E4M3, 0.0147, 0.015625, 0x08},         // 7.53 steps → min normal 2^-6
		{FP8E4M3, -0.0005, negZ, 0x80},
		{FP8E4M3, negZ, negZ, 0x80},
		// E5M2: 2 fraction bits; IEEE-like, max 57344.
		{FP8E5M2, 1, 1, 0x3C},
		{FP8E5M2, 1.125, 1, 0x3C},   // tie, 1 is even
		{FP8E5M2, 1.375, 1.5, 0x3E}, // tie, 1.5 is even
		{FP8E5M2, 57344, 57344, 0x7B},
		{FP8E5M2, 61439, 57344, 0x7B}, // below max + half step (4096)
		{FP8E5M2, 61440, inf, 0x7C},   // tie, goes up to Inf
		{FP8E5M2, -1e9, -inf, 0xFC},
		{FP8E5M2, inf, inf, 0x7C},
		{FP8E5M2, nan, nan, 0x7E},
		{FP8E5M2, 1.52587890625e-05, 1.52587890625e-05, 0x01}, // 2^-16, min subnormal
		{FP8E5M2, 7.62939453125e-06, 0, 0x00},                 // 2^-17: tie, 0 is even
		{FP8E5M2, 2.288818359375e-05, 3.0517578125e-05, 0x02}, // 3·2^-17: tie to 2·2^-16
		{FP8E5M2, negZ, negZ, 0x80},
		// FP32 is the identity.
		{FP32, 0.1, 0.1, 0x3DCCCCCD},
		{FP32, -13.625, -13.625, 0xC15A0000},
	} {
		got := test.f.Round(test.x)
		if !same(got, test.want) {
			t.Errorf("%d %v: Round(%g) = %g, want %g", i, test.f, test.x, got, test.want)
		}
		p := test.f.Encode(test.x)
		if p != test.p {
			t.Errorf("%d %v: Encode(%g) = %#x, want %#x", i, test.f, test.x, p, test.p)
		}
		if d := test.f.Decode(p); !same(d, test.want) {
			t.Errorf("%d %v: Decode(%#x) = %g, want %g", i, test.f, p, d, test.want)
		}
		dst := []float32{0}
		RoundSlice(dst, []float32{test.x}, test.f)
		if !same(dst[0], test.want) {
			t.Errorf("%d %v: RoundSlice(%g) = %g, want %g", i, test.f, test.x, dst[0], test.want)
		}
	}
}

// The typed encoders agree with the Format methods.
func TestTypedCodecs(t *testing.T) {
	for _, x := range []float32{0, 1, -2.5, 0.1, 3e-5, 1e-7, 448, 500, 6e4, 1e5, inf, nan} {
		if EncodeFP16(x) != uint16(FP16.Encode(x)) || !same(DecodeFP16(EncodeFP16(x)), FP16.Round(x)) {
			t.Errorf("FP16 %g", x)
		}
		if EncodeBF16(x) != uint16(BF16.Encode(x)) || !same(DecodeBF16(EncodeBF16(x)), BF16.Round(x)) {
			t.Errorf("BF16 %g", x)
		}
		if EncodeTF32(x) != TF32.Encode(x) || !same(DecodeTF32(EncodeTF32(x)), TF32.Round(x)) {
			t.Errorf("TF32 %g", x)
		}
		if EncodeE4M3(x) != uint8(FP8E4M3.Encode(x)) || !same(DecodeE4M3(EncodeE4M3(x)), FP8E4M3.Round(x)) {
			t.Errorf("E4M3 %g", x)
		}
		if EncodeE5M2(x) != uint8(FP8E5M2.Encode(x)) || !same(DecodeE5M2(EncodeE5M2(x)), FP8E5M2.Round(x)) {
			t.Errorf("E5M2 %g", x)
		}
	}
}

func TestInvalidFormat(t *testing.T) {
	bad := Format{ExpBits: 9, MantBits: 3}
	if v := bad.Round(1); v == v {
		t.Errorf("Round with invalid format = %g, want NaN", v)
	}
	if _, err := bad.Compose(0, 0, 0); !errors.Is(err, ErrFormat) {
		t.Errorf("Compose error %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("RoundSlice with mismatched lengths did not panic")
			}
		}()
		RoundSlice(make([]float32, 2), make([]float32, 3), BF16)
	}()
}

func TestClassString(t *testing.T) {
	for c, want := range []string{"zero", "subnormal", "normal", "infinity", "NaN", "Class(5)"} {
		if got := Class(c).String(); got != want {
			t.Errorf("Class(%d) = %q, want %q", c, got, want)
		}
	}
}
