package intmodel

import "github.com/qatgo/qatgo/fixedpoint"

// The shift range QuantizeMultiplier returns for a nonzero multiplier
// (fixedpoint's).
const (
	MinShift = fixedpoint.MinShift
	MaxShift = fixedpoint.MaxShift
)

// QuantizeMultiplier splits a real multiplier m into a Q31 mantissa m0 and
// an exponent shift with m ≈ m0·2^(shift−31), following TFLite's
// QuantizeMultiplier. It is fixedpoint.QuantizeMultiplier, the definition
// shared with the fake-quant model's integer-exact evaluation; see there for
// the rounding, flushing and saturation rules.
func QuantizeMultiplier(m float64) (m0 int32, shift int) { return fixedpoint.QuantizeMultiplier(m) }
