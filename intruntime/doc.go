// Package intruntime runs an intmodel.Model with integers only: uint8/int8
// activation codes, int8 weights, int32 accumulators and gemmlowp/TFLite
// fixed-point requantization. Floats appear only at the two boundaries:
// quantizing the float32 input (QuantizeInput) and dequantizing the logits.
//
// Convolutions are lowered to an integer GEMM, a few images at a time so
// that the packed operand and the accumulators stay in cache (conv.go);
// the input patches are packed straight into the GEMM's layout, by one
// byte permutation per 64-byte block where the geometry allows. A 2×2 max
// pool after a convolution is taken on its int32 accumulators before the
// (monotone) requantization. The GEMM and the helpers around it have a
// portable Go version and Go assembly ones chosen at run time from the CPU
// (implFor), with bit-identical results: AMX-INT8 TDPBSUD on 16×16 tiles of
// C (Intel Xeon since Sapphire Rapids, layers of 8 k-quads or more: the
// packed B layout is the B tile's; stride-1 convolutions of 16 channels or
// more as one GEMM per kernel row read straight from the input's planes,
// tapconv.go); AVX512-VNNI VPDPBUSD on zmm (the same tap convolutions
// on 8-row weight panels) and
// AVX-VNNI's VEX VPDPBUSD on ymm (exact for any int8 weights); AVX2
// VPMADDUBSW + VPMADDWD (in GOEXPERIMENT=simd builds, archsimd's
// AVX-512BW form of it where there is no VNNI); arm64 SDOT on the codes
// flipped to signed, plus 128·Σw. VPMADDUBSW saturates its int16 pair
// sums, so on layers whose weights are not proven safe against the
// largest input code the AVX2 kernel multiplies the weights as int16 by
// VPMADDWD (exact; the same tap convolutions on 4-row panels) and the
// archsimd one splits the unsafe pairs into two safe parts (see gemm.go).
// On AVX2 CPUs without VNNI, stride-1 3×3 convolutions with an even
// number of input channels run as exact integer Winograd F(4×4, 3×3) or
// F(2×2, 3×3) instead (winograd.go): the transforms' G scaled to integers,
// int16 transformed values paired for VPMADDWD, the scale divided out of
// the outputs exactly (a shift, or 9's inverse modulo 2³² and a shift),
// 4x or 2.25x fewer multiplies than the direct sums; larger stride-1
// kernels (up to 9×9, over at least 4 input channels) as the sum of
// their 3×3 blocks, each block's input the same frames read 3 rows or
// columns further (LeNet-5's 5×5 conv2: 2.5x fewer multiplies). A
// Winograd layer's only producer writes its rows straight into the
// layer's zero-point frames. A grayscale model's 3×3 first layer (at most
// 10 taps, relu8 outputs) runs in one pass that keeps the taps' codes in
// registers and requantizes there (stemconv.go).
//
// Graph models run layer by layer with one buffer per tensor, each layer
// reading its inputs' buffers. Grouped and depthwise convolutions have
// their own direct kernel (graph.go: an int32 accumulator plane per output
// channel over its group's (InChannels/Groups)·KernelH·KernelW inputs, then
// the same per-channel requantization), not a GEMM per group; with
// AVX-512 VBMI and VNNI a depthwise 3×3 on rows of at most 62 codes picks
// each kernel row's codes for 16 outputs from a window of its input plane
// by one byte permute (dwPermPlan); with AVX2 a stride-1 one with padding
// 1 reads its planes directly, each tap's codes for 16 outputs merged with
// the zero point by masks (dwMaskPlan); else it runs as one flat pass over
// zero-point frames. A residual add is one lookup per element in its table
// of all 65,536 input code pairs (or, with VBMI, from the two inputs'
// 256-entry tables by byte permutes; on AVX2, where one affine function
// of the two codes, shifted and clamped, gives the table's code for every
// pair, by two VPMADDWDs for 8 outputs: addLinear), built with intmodel's
// fixed-point definition; concat (a copy, or a requantization per input) and the
// rescaling average pools work on the codes with intmodel's fixed-point
// definitions.
//
// A Runner preallocates every buffer for a batch size and then runs batches
// without allocating; it can split a batch across worker goroutines.
// TimeLayers and LayerTimes tell which layers the time goes to.
package intruntime
