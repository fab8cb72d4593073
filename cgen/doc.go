// Package cgen generates dependency-free C99 from an integer model
// (intmodel.Model), for microcontrollers: a header with one inference
// function and the model's sizes, a source file with the layer sequence
// unrolled for this model and the kernels it needs, and the constant weights.
//
// The generated code computes exactly what package intruntime computes, bit
// for bit: int32 accumulation of weight × (input − zero point), the raw int32
// bias, and the requantization of package fixedpoint (gemmlowp's
// SaturatingRoundingDoublingHighMul and RoundingDivideByPOT, TFLite's
// MultiplyByQuantizedMultiplier with its double rounding), zero point and
// clamp. It has no malloc and no floating point unless Options.FloatIO asks
// for the input quantization and output dequantization. Sub-byte weights stay
// packed in flash as in the model file and are unpacked a row at a time.
// Activations live in one static arena planned by liveness: a tensor's
// buffer lives until its last reader (graph models read tensors by edge),
// buffers are reused once dead, and pools, adds and flatten work in place
// when nothing later reads their input (Report compares the plan with one
// buffer per activation). Defining QATGO_ARM_DSP when compiling for a core
// with the DSP extension (Cortex-M4, M7, M33) selects the dense layers' dot
// products on SMLAD and SXTB16, with the same results.
//
// Supported layers, in sequence or as a graph (Model.Inputs): Conv2d (dense,
// grouped and depthwise, the last two as a direct loop over the group's
// channels and window), Linear, MaxPool2d, AvgPool2d (with or without
// requantization), GlobalAvgPool, Add (TFLite's int8 ADD), Concat
// (requantizing inputs on another grid) and Flatten. Anything else is
// refused by name, wrapping ErrUnsupported; a new op is one case in opFor
// and an emit function.
package cgen
