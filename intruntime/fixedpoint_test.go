package intruntime

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
