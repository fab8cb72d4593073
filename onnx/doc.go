// Package onnx writes qatgo's true-integer models (intmodel.Model) as ONNX
// files (opset 13, IR version 7) that onnxruntime and other ONNX consumers
// run.
//
// The graph takes float32 images [N, C, H, W] ("input"), quantizes them as
// qatgo does (q = clamp(Z + nearbyint(x·float32(1/S))), spelled Mul +
// QuantizeLinear with scale 1, because QuantizeLinear divides by S), runs
// the layers on uint8 codes (signed activation codes are stored offset by
// 128, which leaves every q − Z unchanged), and dequantizes the last layer's
// codes with DequantizeLinear into float32 logits ("logits"). MaxPool2d is
// MaxPool on uint8, Flatten is Flatten, and a fused ReLU or a sub-byte
// activation width is the output clamp.
//
// Conv2d and Linear have two representations (Format):
//
//   - Integer (the default) is ConvInteger / MatMulInteger with int8
//     weights, an int32 bias Add, and the gemmlowp/TFLite fixed-point
//     requantization (saturated left shift, SaturatingRoundingDoublingHighMul
//     by the Q31 M0, RoundingDivideByPOT, + Z_Y, clamp) written out as int64
//     Mul, Add, Less, Where, Div and Clip ops. onnxruntime computes exactly
//     the codes of qatgo's integer runtime with it, bit for bit.
//   - QLinear is QLinearConv with per-channel weight scales and the int32
//     bias (a Linear becomes a 1×1 QLinearConv, since QLinearMatMul has no
//     bias). It is the conventional, compact QOperator form, but consumers
//     requantize in floating point (onnxruntime: float32(acc)·float32(S_X·S_W/S_Y),
//     rounded half to even, no double rounding), so a fraction of a percent
//     of codes differ by ±1 from qatgo's fixed-point result.
//
// AvgPool2d (the ONNX default domain has no integer AveragePool) is a
// depthwise all-ones ConvInteger giving window sums, divided by the number
// of in-bounds elements with TFLite's rounding, in both formats; with a
// Requant, and GlobalAvgPool (a window of the whole plane), the sums of
// q − Z_in go through the Rescale's fixed-point multiplier instead.
//
// Graph models: each layer reads its input tensors by the model's edges.
// Grouped and depthwise convolutions are ConvInteger (or QLinearConv) with
// the group attribute. Add (TFLite's int8 ADD: both inputs shifted left by
// 20 bits and scaled by their multipliers, summed, requantized) and the
// per-input requantization of Concat are written with the same int64 ops as
// the convolutions' requantization, then Concat along channels. In the
// Integer format every op gives exactly intruntime's codes.
package onnx
