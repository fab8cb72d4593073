// Package intmodel is the exported true-integer model of qatgo: its in-memory
// form, its file format, the packing of sub-byte integers and the conversion
// of a real requantization multiplier into TFLite's fixed-point form.
//
// A Model is an input quantization (scale, zero point, width and signedness
// of the input codes, and the input shape C×H×W), a list of layers in
// topological order (Conv2d, dense, grouped or depthwise; Linear, MaxPool2d,
// AvgPool2d, Flatten, Add, Concat, GlobalAvgPool) with the graph's edges
// (Inputs: which tensors each layer reads; none for a sequential model) and
// the output dequantization that turns the last layer's codes into float32
// logits. Add is TFLite's int8 residual add (each input rescaled by a
// fixed-point multiplier relative to twice the larger input scale, summed,
// requantized); Concat requantizes the inputs whose quantization differs
// from its output's; the average pools rescale window sums (Rescale).
// ReLU and ReLU6 are fused into clamp bounds (ClampFor).
// Conv2d and Linear are quantized layers: they hold symmetric signed weights
// (zero point 0) of 1..8 bits, int32 biases with S_b = S_W·S_X and Z_b = 0
// (the file also stores the folded bias q_b − Z_X·Σ_k q_W[c,k] that an
// integer kernel adds to Σ q_W·q_X, and the loader checks it), the per-channel requantization multiplier M = S_W·S_X/S_Y as a Q31
// mantissa and a shift (see QuantizeMultiplier), and output clamp bounds into
// which ReLU is fused. Everything the integer runtime (package intruntime)
// needs is integer; the float32 scales are kept for inspection and for the
// boundaries (quantizing the input, dequantizing the logits).
//
// Files start with the magic "QATGOINT" and a format version (2; version 1
// files, sequential models, still load), carry a JSON
// manifest and a binary blob of weights packed at their bit width (see Pack),
// and end with a CRC-32C of everything before it. Read and Decode validate
// everything and return errors, never panic, on corrupt or truncated input.
package intmodel
