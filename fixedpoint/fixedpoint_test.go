package fixedpoint

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestSaturatingRoundingDoublingHighMul(t *testing.T) {
	for _, test := range []struct{ a, b, want int32 }{
		{math.MinInt32, math.MinInt32, math.MaxInt32}, // the one overflow
		{math.MinInt32, math.MaxInt32, -2147483647},   // −2^31·(2^31−1)/2^31 = −(2^31−1)
		{math.MaxInt32, math.MaxInt32, 2147483646},    // (2^31−1)²/2^31 = 2^31 − 2 + 2^-31
		{1 << 30, 1 << 30, 1 << 29},                   // 0.5·0.5 = 0.25 in Q31
		{3, 1 << 30, 2},                               // 3·0.5 = 1.5: positive tie rounds up
		{-3, 1 << 30, -1},                             // −1.5: negative tie rounds toward zero
		{-5, 1 << 30, -2},                             // −2.5 → −2
		{5, 1 << 30, 3},                               // 2.5 → 3
		{-7, 1 << 29, -2},                             // −1.75 → −2
		{100, 0, 0},
		{1, 1, 0}, // 2^-31 → 0
	} {
		if got := SaturatingRoundingDoublingHighMul(test.a, test.b); got != test.want {
			t.Errorf("SRDHM(%d, %d) = %d, want %d", test.a, test.b, got, test.want)
		}
	}
}

func TestRoundingDivideByPOT(t *testing.T) {
	for _, test := range []struct {
		x    int32
		exp  int
		want int32
	}{
		{7, 0, 7}, {-7, 0, -7}, // shift 0 is the identity
		{3, 1, 2}, {-3, 1, -2}, // ±1.5: ties away from zero
		{5, 2, 1}, {-5, 2, -1}, // ±1.25
		{6, 2, 2}, {-6, 2, -2}, // ±1.5
		{7, 2, 2}, {-7, 2, -2}, // ±1.75
		{math.MaxInt32, 31, 1}, {math.MinInt32, 31, -1}, // ≈1 and −1 exactly
		{1 << 29, 31, 0}, {1<<30 - 1, 31, 0}, {1 << 30, 31, 1}, // 0.25, <0.5, 0.5 tie → 1
		{-(1 << 30), 31, -1}, {-(1 << 30) + 1, 31, 0}, // −0.5 tie → −1
		{math.MinInt32, 30, -2},
	} {
		if got := RoundingDivideByPOT(test.x, test.exp); got != test.want {
			t.Errorf("RDBP(%d, %d) = %d, want %d", test.x, test.exp, got, test.want)
		}
	}
}

func TestMultiplyByQuantizedMultiplier(t *testing.T) {
	for _, test := range []struct {
		x, m0 int32
		shift int
		want  int32
	}{
		// M = 0.5·2^-1 = 0.25: 100·0.25 = 25; 102·0.25 = 25.5 → 26 (tie away
		// from zero in the final shift); −102 → −26.
		{100, 1 << 30, -1, 25}, {102, 1 << 30, -1, 26}, {-102, 1 << 30, -1, -26},
		// Double rounding: x = 3, M = 0.5·2^-1: SRDHM gives 1.5 → 2, then 2/2 = 1
		// (the exact product 0.75 would also give 1); x = −3: SRDHM −1.5 → −1,
		// then −1/2 = −0.5 → −1.
		{3, 1 << 30, -1, 1}, {-3, 1 << 30, -1, -1},
		// M = 0.75 (shift 0): 10·0.75 = 7.5 → 8.
		{10, 1610612736, 0, 8},
		// M = 0.75·2^2 = 3 (left shift): 10·3 = 30; −7·3 = −21.
		{10, 1610612736, 2, 30}, {-7, 1610612736, 2, -21},
		// Large left shift saturates 5·2^30 to 2^31−1 before the multiply:
		// (2^31−1)·0.5 = 2^30 − 0.5, a positive tie → 2^30.
		{5, 1 << 30, 30, 1 << 30},
		// Smallest shift, M = 0.5·2^-31: (2^31−1)·2^-32 = 0.5 − 2^-32 exactly
		// would round to 0, but SRDHM first rounds (2^31−1)/2 up to 2^30, and
		// 2^30/2^31 = 0.5 then rounds away from zero → 1 (double rounding).
		{math.MaxInt32, 1 << 30, -31, 1},
		{math.MinInt32, 1 << 30, -31, -1}, // −0.5 exactly → away from zero
		// Zero multiplier.
		{12345, 0, 0, 0},
	} {
		if got := MultiplyByQuantizedMultiplier(test.x, test.m0, test.shift); got != test.want {
			t.Errorf("MBQM(%d, %d, %d) = %d, want %d", test.x, test.m0, test.shift, got, test.want)
		}
	}
}

// For right shifts the double rounding differs from exact rounding by at
// most one step; check that on random data with an exact big.Rat reference.
func TestMultiplyByQuantizedMultiplierClose(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		x := int32(rng.Uint32())
		m0 := int32(1<<30 + rng.IntN(1<<30))
		shift := -rng.IntN(20)
		got := MultiplyByQuantizedMultiplier(x, m0, shift)
		exact := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(int64(x)), big.NewInt(int64(m0))), new(big.Int).Lsh(big.NewInt(1), uint(31-shift)))
		f, _ := exact.Float64()
		if d := float64(got) - f; d > 1 || d < -1 {
			t.Fatalf("MBQM(%d, %d, %d) = %d, exact %g", x, m0, shift, got, f)
		}
	}
}

func TestQuantizeMultiplier(t *testing.T) {
	for i, test := range []struct {
		m     float64
		m0    int32
		shift int
	}{
		{0, 0, 0},
		{0.5, 1 << 30, 0},                 // 0.5·2^0: m0 = 0.5·2^31
		{1, 1 << 30, 1},                   // 0.5·2^1: m ≥ 1 → left shift
		{0.75, 1610612736, 0},             // 0.75·2^31
		{0.1, 1717986918, -3},             // 0.8·2^-3, 0.8·2^31 = 1717986918.4 → 1717986918
		{0.5 + 0x1p-32, 1<<30 + 1, 0},     // q·2^31 = 2^30 + 0.5: tie rounds away from zero
		{1 - 0x1p-40, 1 << 30, 1},         // q·2^31 rounds to 2^31 → halve, shift+1
		{0x1p-32, 1 << 30, -31},           // 0.5·2^-31: smallest kept shift
		{0x1p-33, 0, 0},                   // 0.5·2^-32: shift −32 < −31 flushes
		{0x1p30, 1<<31 - 1, 30},           // shift 31 > 30 saturates
		{-0.5, -(1 << 30), 0},             // negative, as TFLite
		{math.NaN(), 0, 0},                // not finite → 0
		{1.0 / 255, 1077952576, -7},       // (128/255)·2^-7; 128/255·2^31 = 1077952576.25
		{0.99 * 0x1p-31, 2126008812, -31}, // q = 0.99, round(0.99·2^31) = 2126008812
	} {
		m0, shift := QuantizeMultiplier(test.m)
		if m0 != test.m0 || shift != test.shift {
			t.Errorf("%d: QuantizeMultiplier(%g) = (%d, %d), want (%d, %d)", i, test.m, m0, shift, test.m0, test.shift)
		}
	}
}

func TestRequantMultiplier(t *testing.T) {
	// S_W = 0.5, S_X = 0.25, S_Y = 0.5: M = 0.25 = 0.5·2^-1 → (2^30, −1).
	// S_W = 0.03, S_X = 0.1, S_Y = 0.2: M = 0.015 (in float64 from the
	// float32 scales) = 0.96·2^-6.
	if m0, sh := RequantMultiplier(0.5, 0.25, 0.5); m0 != 1<<30 || sh != -1 {
		t.Errorf("RequantMultiplier(0.5, 0.25, 0.5) = (%d, %d), want (%d, -1)", m0, sh, 1<<30)
	}
	m := float64(float32(0.03)) * float64(float32(0.1)) / float64(float32(0.2))
	wm0, wsh := QuantizeMultiplier(m)
	if m0, sh := RequantMultiplier(0.03, 0.1, 0.2); m0 != wm0 || sh != wsh || sh != -6 {
		t.Errorf("RequantMultiplier(0.03, 0.1, 0.2) = (%d, %d), want (%d, %d) with shift -6", m0, sh, wm0, wsh)
	}
}

func TestQuantizeBias(t *testing.T) {
	for _, test := range []struct {
		b, sw, sx float32
		want      int32
	}{
		{1, 0.5, 0.25, 8},        // 1/0.125 = 8
		{0.3125, 0.5, 0.25, 3},   // 2.5 → 3: ties away from zero
		{-0.3125, 0.5, 0.25, -3}, // −2.5 → −3
		{0.25, 0.5, 0.25, 2},
		{0.1875, 0.5, 0.25, 2}, // 1.5 → 2
		{0, 0.5, 0.25, 0},
		{1e30, 1e-10, 1e-10, math.MaxInt32}, // saturates
		{-1e30, 1e-10, 1e-10, math.MinInt32},
		{float32(math.NaN()), 1, 1, 0},
	} {
		if got := QuantizeBias(test.b, test.sw, test.sx); got != test.want {
			t.Errorf("QuantizeBias(%g, %g, %g) = %d, want %d", test.b, test.sw, test.sx, got, test.want)
		}
	}
}

func TestRequantize(t *testing.T) {
	for _, test := range []struct {
		acc        int64
		m0         int32
		shift      int
		zy, lo, hi int32
		want       int32
		why        string
	}{
		{102, 1 << 30, -1, 10, 0, 255, 36, "102·0.25 = 25.5 → 26, + 10"},
		{-102, 1 << 30, -1, 10, 0, 255, 0, "−26 + 10 = −16, clamped to 0"},
		{-102, 1 << 30, -1, 10, 10, 255, 10, "fused ReLU: lo = Z_Y"},
		{2000, 1 << 30, -1, 10, 0, 255, 255, "500 + 10 clamped to 255"},
		{1 << 40, 1 << 30, -31, 0, -128, 127, 1, "saturates to 2^31−1 first: ≈ 0.5 → 1"},
		{-(1 << 40), 1 << 30, -31, 0, -128, 127, -1, "saturates to −2^31: −0.5 → −1"},
	} {
		if got := Requantize(test.acc, test.m0, test.shift, test.zy, test.lo, test.hi); got != test.want {
			t.Errorf("Requantize(%d, %d, %d, %d, [%d, %d]) = %d, want %d (%s)", test.acc, test.m0, test.shift, test.zy, test.lo, test.hi, got, test.want, test.why)
		}
	}
}
