package intruntime

import "github.com/qatgo/qatgo/fixedpoint"

// The gemmlowp/TFLite fixed-point routines are defined once, in package
// fixedpoint, which the fake-quant model's integer-exact evaluation (package
// nn) shares; these forward to it so that the runtime's fast kernels are
// tested against the same definition.

// SaturatingRoundingDoublingHighMul is fixedpoint.SaturatingRoundingDoublingHighMul.
func SaturatingRoundingDoublingHighMul(a, b int32) int32 {
	return fixedpoint.SaturatingRoundingDoublingHighMul(a, b)
}

// RoundingDivideByPOT is fixedpoint.RoundingDivideByPOT.
func RoundingDivideByPOT(x int32, exp int) int32 { return fixedpoint.RoundingDivideByPOT(x, exp) }

// MultiplyByQuantizedMultiplier is fixedpoint.MultiplyByQuantizedMultiplier
// (TFLite's double rounding).
func MultiplyByQuantizedMultiplier(x int32, m0 int32, shift int) int32 {
	return fixedpoint.MultiplyByQuantizedMultiplier(x, m0, shift)
}
