// Package fakequant implements linear (affine) quantization: the quantization
// scheme and its parameters (scale, zero point), the float32 kernels that
// quantize, dequantize and fake-quantize tensors per tensor or per channel,
// power-of-two quantization, and the gorgonia ops that insert
// quantize→dequantize into a training graph with a straight-through gradient
// (or learned ranges, LSQ).
//
// A Quantizer is a value a layer holds for one tensor (its weight or its
// output activation). It composes a QScheme with an Observer that chooses the
// range; package observers provides the observers. The split follows PyTorch's
// observer / fake-quantize design: observers know nothing about graphs and
// fakequant knows nothing about training loops.
//
// Contents:
//
//   - kernels on plain slices (dst first, no allocation): Quantize,
//     Dequantize and FakeQuantize, per tensor or per channel along an axis of
//     a row-major shape, bit-exact with PyTorch's CPU fake-quant kernel
//     (q = Z + nearbyint(x·float32(1/S)), ties to even; mask = q on the grid
//     before clamping; NaN and -Inf go to qmin, +Inf to qmax, mask false);
//   - power-of-two quantization (FakeQuantizePoT, PoTParams);
//   - quantizers (the Quantizer interface): Affine (observer ranges,
//     straight-through gradient), LSQ (learned scale and zero point with
//     PyTorch's _fake_quantize_learnable_* gradients; options give the LSQ
//     paper's step initialisation and gradient scale, see WithMeanInit and
//     WithGradScaling; its float32 backward is one fused pass), PoT and
//     Identity.
//     Their gorgonia ops read the enabled/observing switches at run time, so
//     one graph serves training and evaluation; every op instance hashes
//     uniquely; float32 and float64 inputs are supported (float64 for
//     gradient checks, see internal/gradcheck).
package fakequant
