// Package intruntime runs an intmodel.Model with integers only: uint8/int8
// activation codes, int8 weights, int32 accumulators and gemmlowp/TFLite
// fixed-point requantization. Floats appear only at the two boundaries:
// quantizing the float32 input (QuantizeInput) and dequantizing the logits.
//
// Convolutions are lowered to an integer GEMM (im2col straight into the
// GEMM's packed layout). The GEMM has a portable Go kernel and, when built
// with GOEXPERIMENT=simd on amd64 and run on a CPU with AVX-512, a
// simd/archsimd kernel (VPMADDUBSW + VPMADDWD); both give bit-identical
// results. VPMADDUBSW saturates its int16 pair sums, so the fast kernel is
// used only on layers whose weights are proven safe against the largest
// input code; other layers split each weight w into ⌊w/2⌋ and w−⌊w/2⌋,
// which are always safe, and run two products (see gemm.go).
//
// A Runner preallocates every buffer for a batch size and then runs batches
// without allocating; it can split a batch across worker goroutines.
package intruntime
