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
package fakequant
