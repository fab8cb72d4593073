package numerics

import (
	"errors"
	"math"
	"testing"
)

func TestFixed8_4(t *testing.T) {
	f := Fixed{8, 4}
	if f.Min() != -8 || f.Max() != 7.9375 || f.Resolution() != 0.0625 {
		t.Errorf("%v: range [%g, %g] step %g", f, f.Min(), f.Max(), f.Resolution())
	}
	for i, test := range []struct {
		x    float64
		raw  int64
		bits string
	}{
		{2.6875, 43, "0010.1011"}, // 2 + 1/2 + 1/8 + 1/16
		{-2.6875, -43, "1101.0101"},
		{0, 0, "0000.0000"},
		{7.9375, 127, "0111.1111"},
		{-8, -128, "1000.0000"},
		{8, 127, "0111.1111"},   // saturates
		{100, 127, "0111.1111"}, // saturates
		{-8.03, -128, "1000.0000"},
		{math.Inf(-1), -128, "1000.0000"},
		{0.03125, 0, "0000.0000"},   // half a step: tie to even 0
		{0.09375, 2, "0000.0010"},   // 1.5 steps: tie to even 2
		{0.15625, 2, "0000.0010"},   // 2.5 steps: tie to even 2
		{-0.09375, -2, "1111.1110"}, // -1.5 steps: tie to even -2
		{0.1, 2, "0000.0010"},       // 1.6 steps
		{3.14159, 50, "0011.0010"},  // 50.27 steps: 3.125
	} {
		raw, err := f.Encode(test.x)
		if err != nil || raw != test.raw {
			t.Errorf("%d: Encode(%g) = %d, %v; want %d", i, test.x, raw, err, test.raw)
		}
		if s := f.BitString(raw); s != test.bits {
			t.Errorf("%d: BitString(%d) = %s, want %s", i, raw, s, test.bits)
		}
		back, err := f.ParseBits(test.bits)
		if err != nil || back != test.raw {
			t.Errorf("%d: ParseBits(%s) = %d, %v", i, test.bits, back, err)
		}
	}
	if v := f.Decode(43); v != 2.6875 {
		t.Errorf("Decode(43) = %g", v)
	}
}

func TestFixedArith(t *testing.T) {
	for i, test := range []struct {
		f         Fixed
		a, b      float64
		sum, prod float64
	}{
		// fixed<8,4>: products have 8 fraction bits, rounded back to 4.
		{Fixed{8, 4}, 2.6875, 1.5, 4.1875, 4},       // 43·24 = 1032 = 64.5·16: tie to even 64
		{Fixed{8, 4}, 2.75, 1.5, 4.25, 4.125},       // 44·24 = 1056 = 66·16 exactly
		{Fixed{8, 4}, 7, 1, 7.9375, 7},              // sum saturates
		{Fixed{8, 4}, 3, 3, 6, 7.9375},              // product saturates
		{Fixed{8, 4}, -8, -1, -8, 7.9375},           // -9 saturates; 8 saturates
		{Fixed{8, 4}, -2.5, 3.5, 1, -8},             // -8.75 saturates
		{Fixed{8, 4}, -0.0625, 0.5, 0.4375, 0},      // -0.5 steps: tie to even 0
		{Fixed{8, 4}, 0.1875, 0.25, 0.4375, 0.0625}, // 0.75 steps → 1
		{Fixed{8, 4}, -0.1875, 0.25, 0.0625, -0.0625},
		{Fixed{8, 4}, -0.1875, 0.5, 0.3125, -0.125}, // -1.5 steps: tie to even -2
		// fixed<32,16>.
		{Fixed{32, 16}, 1.5, -2.25, -0.75, -3.375},
		{Fixed{32, 16}, 100, 400, 500, 32767.9999847412109375},
		{Fixed{32, 16}, -32768, -1, -32768, 32767.9999847412109375},
		{Fixed{32, 16}, 30000, 30000, 32767.9999847412109375, 32767.9999847412109375},
		{Fixed{32, 16}, 0.0000152587890625, 0.5, 0.5000152587890625, 0}, // 2^-16·2^-1: tie to 0
		// fixed<64,32> and fixed<64,0>: int64 overflow must saturate.
		{Fixed{64, 0}, 9e18, 9e18, 9223372036854775807, 9223372036854775807},
		{Fixed{64, 0}, -9e18, -9e18, -9223372036854775808, 9223372036854775807},
		{Fixed{64, 32}, 3e9, -3e9, -2.3283064365386963e-10, -2147483648}, // both saturate: (2^31-2^-32) + -2^31
		{Fixed{64, 32}, 65536.5, 1.5, 65538, 98304.75},
	} {
		a, err := test.f.Encode(test.a)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := test.f.Encode(test.b)
		if got := test.f.Decode(test.f.Add(a, b)); got != test.sum {
			t.Errorf("%d %v: %g + %g = %.17g, want %.17g", i, test.f, test.a, test.b, got, test.sum)
		}
		if got := test.f.Decode(test.f.Mul(a, b)); got != test.prod {
			t.Errorf("%d %v: %g * %g = %.17g, want %.17g", i, test.f, test.a, test.b, got, test.prod)
		}
	}
}

func TestFixed32_16(t *testing.T) {
	f := Fixed{32, 16}
	if f.MinRaw() != -2147483648 || f.MaxRaw() != 2147483647 {
		t.Errorf("raw range [%d, %d]", f.MinRaw(), f.MaxRaw())
	}
	if f.Min() != -32768 || f.Max() != 32767.9999847412109375 || f.Resolution() != 0.0000152587890625 {
		t.Errorf("range [%g, %g] step %g", f.Min(), f.Max(), f.Resolution())
	}
	for _, test := range []struct {
		x   float64
		raw int64
		v   float64
	}{
		{1.5, 98304, 1.5},
		{3.14159265358979, 205887, 3.1415863037109375}, // 205887.416 steps
		{-1, -65536, -1},
		{40000, 2147483647, 32767.9999847412109375},
	} {
		raw, _ := f.Encode(test.x)
		if raw != test.raw || f.Decode(raw) != test.v {
			t.Errorf("Encode(%g) = %d (%g), want %d (%g)", test.x, raw, f.Decode(raw), test.raw, test.v)
		}
	}
	if p := f.Pattern(-65536); p != 0xFFFF0000 {
		t.Errorf("Pattern(-65536) = %#x", p)
	}
	if s := f.BitString(98304); s != "0000000000000001.1000000000000000" {
		t.Errorf("BitString(1.5) = %s", s)
	}
}

func TestFixedErrors(t *testing.T) {
	for _, f := range []Fixed{{0, 0}, {65, 0}, {8, 8}, {8, -1}} {
		if err := f.Validate(); !errors.Is(err, ErrFormat) {
			t.Errorf("%v: Validate() = %v", f, err)
		}
		if _, err := f.Encode(1); !errors.Is(err, ErrFormat) {
			t.Errorf("%v: Encode error %v", f, err)
		}
	}
	if _, err := (Fixed{8, 4}).Encode(math.NaN()); !errors.Is(err, ErrNaN) {
		t.Errorf("Encode(NaN) error %v", err)
	}
	if _, err := (Fixed{8, 4}).FromPattern(0x100); !errors.Is(err, ErrPattern) {
		t.Errorf("FromPattern(0x100) error %v", err)
	}
	if v, err := (Fixed{64, 10}).FromPattern(^uint64(0)); err != nil || v != -1 {
		t.Errorf("fixed<64,10> FromPattern(all ones) = %d, %v", v, err)
	}
}
