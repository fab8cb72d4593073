package fixedpoint

import "math"

// SaturatingRoundingDoublingHighMul returns the high 32 bits of 2·a·b,
// rounded to nearest (gemmlowp): (a·b + nudge) / 2^31 with nudge = 2^30 for
// a·b ≥ 0 and 1 − 2^30 otherwise, the division truncating toward zero. So
// positive ties round up (1.5 → 2) and negative ties toward zero
// (−1.5 → −1). The one overflow, a = b = −2^31, saturates to 2^31 − 1.
func SaturatingRoundingDoublingHighMul(a, b int32) int32 {
	if a == b && a == math.MinInt32 {
		return math.MaxInt32
	}
	ab := int64(a) * int64(b)
	nudge := int64(1 << 30)
	if ab < 0 {
		nudge = 1 - (1 << 30)
	}
	return int32((ab + nudge) / (1 << 31))
}

// RoundingDivideByPOT returns x / 2^exp rounded to nearest, ties away from
// zero (gemmlowp): (x >> exp) + 1 if the remainder exceeds half, where
// "half" is one more for negative x. exp must be in [0, 31] (a programmer
// error otherwise: a negative exp panics, as Go's negative shifts do).
func RoundingDivideByPOT(x int32, exp int) int32 {
	mask := int32(int64(1)<<exp - 1)
	rem := x & mask
	threshold := mask >> 1
	if x < 0 {
		threshold++
	}
	r := x >> exp
	if rem > threshold {
		r++
	}
	return r
}

// MultiplyByQuantizedMultiplier returns x·m0·2^(shift−31) rounded as
// TFLite's reference (double-rounding) code does: a left shift by
// max(shift, 0), SaturatingRoundingDoublingHighMul by m0, then
// RoundingDivideByPOT by max(−shift, 0). shift must be in [−31, 30].
// Where TFLite's left shift would overflow int32 (undefined in C++), this
// saturates x·2^shift to int32 first.
func MultiplyByQuantizedMultiplier(x int32, m0 int32, shift int) int32 {
	if shift > 0 {
		v := int64(x) << shift
		x = int32(max(min(v, math.MaxInt32), math.MinInt32))
		return SaturatingRoundingDoublingHighMul(x, m0)
	}
	return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, m0), -shift)
}

// Requantize is the output stage of a quantized layer: the accumulator
// acc = q_b + Σ q_W·(q_X − Z_X) (exact, any width) is saturated to int32,
// multiplied by m0·2^(shift−31) (MultiplyByQuantizedMultiplier), offset by
// the output zero point zy and clamped to [lo, hi] (a fused ReLU raises lo
// to zy).
func Requantize(acc int64, m0 int32, shift int, zy, lo, hi int32) int32 {
	v := int32(max(min(acc, math.MaxInt32), math.MinInt32))
	return min(max(MultiplyByQuantizedMultiplier(v, m0, shift)+zy, lo), hi)
}
