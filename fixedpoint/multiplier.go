package fixedpoint

import "math"

// The shift range QuantizeMultiplier returns for a nonzero multiplier.
const (
	// MinShift: multipliers below about 2^-32 would shift every bit out;
	// they are flushed to (0, 0) instead (TFLite's rule).
	MinShift = -31
	// MaxShift: multipliers of 2^30 and more saturate to (2^31−1, 30)
	// (TFLite's rule; the runtime's left shift cannot go further).
	MaxShift = 30
)

// QuantizeMultiplier splits a real multiplier m into a Q31 mantissa m0 and
// an exponent shift with m ≈ m0·2^(shift−31), following TFLite's
// QuantizeMultiplier:
//
//   - m == 0 gives (0, 0);
//   - otherwise m = q·2^shift with q in [0.5, 1) (frexp), and
//     m0 = round(q·2^31), rounding half away from zero; if that rounds up
//     to 2^31, m0 = 2^30 and shift+1; so m0 is in [2^30, 2^31);
//   - shift < MinShift (m below about 2^-32) flushes to (0, 0);
//   - shift > MaxShift (m ≥ 2^30) saturates to (2^31−1, 30).
//
// m ≥ 1 is allowed: it gives a positive shift (a left shift at run time).
// Negative m gives a negative m0 as TFLite does; NaN and ±Inf give (0, 0).
// Requantization multipliers S_W·S_X/S_Y are positive and finite.
func QuantizeMultiplier(m float64) (m0 int32, shift int) {
	if m == 0 || math.IsNaN(m) || math.IsInf(m, 0) {
		return 0, 0
	}
	q, e := math.Frexp(m)
	qf := int64(math.Round(q * (1 << 31)))
	if qf == 1<<31 || qf == -(1<<31) {
		qf /= 2
		e++
	}
	if e < MinShift {
		return 0, 0
	}
	if e > MaxShift {
		if qf < 0 {
			return -(1<<31 - 1), MaxShift
		}
		return 1<<31 - 1, MaxShift
	}
	return int32(qf), e
}

// RequantMultiplier is the requantization multiplier of one output channel
// of a quantized layer, M = S_W·S_X/S_Y computed in float64 from the
// float32 scales, as QuantizeMultiplier's (m0, shift).
func RequantMultiplier(sw, sx, sy float32) (m0 int32, shift int) {
	return QuantizeMultiplier(float64(sw) * float64(sx) / float64(sy))
}

// QuantizeBias returns the int32 bias code q_b = round(b/(S_W·S_X)) of a
// float bias b (scale S_b = S_W·S_X, zero point 0), computed in float64 and
// rounded half away from zero (TFLite's std::round), saturated to the int32
// range; NaN gives 0.
func QuantizeBias(b, sw, sx float32) int32 {
	v := math.Round(float64(b) / (float64(sw) * float64(sx)))
	switch {
	case v != v:
		return 0
	case v > math.MaxInt32:
		return math.MaxInt32
	case v < math.MinInt32:
		return math.MinInt32
	}
	return int32(v)
}
