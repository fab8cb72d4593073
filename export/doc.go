// Package export turns a trained quantization-aware nn model into a
// true-integer intmodel.Model: weights as 1..8-bit signed codes (packed
// densely on write), per-channel or per-tensor weight scales, int32 biases
// with S_b = S_W·S_X and zero point 0, and per-channel requantization
// multipliers M = S_W·S_X/S_Y as a Q31 mantissa and a shift. Batch norms of
// ConvBn layers are folded into the convolution (running statistics) before
// export; fused ReLUs become clamp bounds; max-pooling, flatten and
// (evaluation-time identity) dropout pass through.
//
// Every integer parameter comes from nn.IntegerParams, the function the
// fake-quant model's integer-exact evaluation computes with, and the
// requantization both sides apply is package fixedpoint's. So the exported
// model run by package intruntime gives the fake-quant model's predictions
// and, layer by layer, the same activation codes.
//
// FromNet rejects what has no exact integer form, with an error naming the
// layer: FP32 (unquantized) models or layers, weights with a nonzero zero
// point (affine weight schemes), power-of-two or float-format quantizers,
// more than 8 bits, per-channel activations, dilated convolutions, average
// pooling, batch norms and ReLUs that are not fused.
package export
