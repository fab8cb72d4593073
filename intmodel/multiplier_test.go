package intmodel

import (
	"math"
	"testing"
)

func TestQuantizeMultiplier(t *testing.T) {
	for i, test := range []struct {
		m     float64
		m0    int32
		shift int
	}{
		{0, 0, 0},
		{0.5, 1 << 30, 0},                 // 0.5·2^0: m0 = 0.5·2^31
		{1, 1 << 30, 1},                   // 0.5·2^1: m ≥ 1 → left shift
		{3, 1610612736, 2},                // 0.75·2^2, 0.75·2^31 = 1610612736
		{0.75, 1610612736, 0},             // 0.75·2^31
		{0.1, 1717986918, -3},             // 0.8·2^-3, 0.8·2^31 = 1717986918.4 → 1717986918
		{0.5 + 0x1p-32, 1<<30 + 1, 0},     // q·2^31 = 2^30 + 0.5: tie rounds away from zero
		{1 - 0x1p-40, 1 << 30, 1},         // q·2^31 rounds to 2^31 → halve, shift+1
		{0x1p-32, 1 << 30, -31},           // 0.5·2^-31: smallest kept shift
		{0x1p-33, 0, 0},                   // 0.5·2^-32: shift −32 < −31 flushes
		{0.99 * 0x1p-31, 2126008812, -31}, // 0.99·2^-31: q = 0.99, round(0.99·2^31) = 2126008812
		{0x1p30, 1<<31 - 1, 30},           // shift 31 > 30 saturates
		{-0.5, -(1 << 30), 0},             // negative, as TFLite
		{math.NaN(), 0, 0},                // not finite → 0
		{math.Inf(1), 0, 0},               //
		{1.0 / 255, 1077952576, -7},       // (128/255)·2^-7; 128/255·2^31 = 1077952576.25
	} {
		m0, shift := QuantizeMultiplier(test.m)
		if m0 != test.m0 || shift != test.shift {
			t.Errorf("%d: QuantizeMultiplier(%g) = (%d, %d), want (%d, %d)", i, test.m, m0, shift, test.m0, test.shift)
		}
		if m0 > 0 && (m0 < 1<<30 || shift < MinShift || shift > MaxShift) {
			t.Errorf("%d: (%d, %d) out of range", i, m0, shift)
		}
		if err := validMultiplier(m0, shift); m0 >= 0 && err != nil {
			t.Errorf("%d: validMultiplier(%d, %d): %v", i, m0, shift, err)
		}
	}
}

func TestQuantizeMultiplierAccuracy(t *testing.T) {
	// For every kept m, m0·2^(shift−31) is within half a Q31 step of m.
	for _, m := range []float64{1e-9, 3.3e-5, 0.00123, 0.0173, 0.25, 0.33333, 0.999, 1.5, 7.25, 1000} {
		m0, shift := QuantizeMultiplier(m)
		got := float64(m0) * math.Ldexp(1, shift-31)
		if rel := math.Abs(got-m) / m; rel > 0x1p-31 {
			t.Errorf("m=%g: (%d, %d) = %g, relative error %g", m, m0, shift, got, rel)
		}
	}
}
