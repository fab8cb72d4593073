// Package fixedpoint is the one definition of integer requantization that
// qatgo's integer runtime (package intruntime), its exporter (package
// export) and the fake-quant model's integer-exact evaluation (package nn)
// share, so that the three cannot disagree by a code.
//
// It holds gemmlowp's fixed-point primitives (SaturatingRoundingDoublingHighMul,
// RoundingDivideByPOT), TFLite's MultiplyByQuantizedMultiplier with its
// double rounding, TFLite's QuantizeMultiplier (a real multiplier M as a Q31
// mantissa M0 in [0.5, 1) and a shift), the requantization multiplier
// M = S_W·S_X/S_Y of a layer (RequantMultiplier), the int32 bias rule
// q_b = round(b/(S_W·S_X)) (QuantizeBias), and the whole output stage of a
// quantized layer (Requantize): saturate the int32 accumulator, multiply by
// M0·2^(shift−31), add Z_Y, clamp.
//
// Double rounding (TFLite's reference kernels) was chosen over the
// single-rounding variant because it is what deployed int8 kernels
// (TFLite, gemmlowp) compute; the fake-quant model simulates it exactly
// instead of approximating it with a float multiply.
package fixedpoint
