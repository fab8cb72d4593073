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
//     before clamping) for every finite input with |x/S| < 2^63; NaN and
//     -Inf go to qmin, +Inf and any x/S ≥ 2^63 to qmax, mask false (see
//     "Where qatgo departs from PyTorch" below);
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
//
// # Where qatgo departs from PyTorch
//
// Two places where matching PyTorch (1.13) bit for bit would be wrong or
// arbitrary; both are decided here and pinned by TestPyTorchDepartures:
//
//   - +Inf and x/S ≥ 2^63. PyTorch's CPU kernel computes
//     int64(Z + nearbyint(x·inv)) before clamping; that conversion is
//     undefined for +Inf and for values ≥ 2^63, and on x86 yields INT64_MIN,
//     so those inputs come out as qmin — the wrong end of the grid. qatgo
//     clamps before converting and saturates them to qmax (mask false). -Inf
//     and NaN go to qmin in both.
//   - The zero point of symmetric unsigned grids. QParamsFromRange uses
//     Z = 2^(b-1) for every width b. PyTorch uses 128 for its default uint8
//     range (the same) but (qmin+qmax)//2 = 2^(b-1)-1 for a customised range
//     such as 0..15 (7 where qatgo has 8). qatgo keeps 2^(b-1) at every width
//     so that an unsigned symmetric grid is the signed one shifted by 2^(b-1):
//     both represent exactly the same values, [-2^(b-1), 2^(b-1)-1]·S.
package fakequant
