// Package kernels provides the fast float32 kernels that training needs on a
// CPU: a packed, blocked GEMM on plain slices (Go assembly microkernels for
// AVX-512, AVX2+FMA and arm64 NEON, chosen at run time; gonum's Sgemm on
// other CPUs), im2col/col2im — implicit where the geometry allows: a
// stride-1 convolution as wide as its input packs its GEMM operands straight
// from the planes (shiftpack.go); 3×3 stride-1 layers of 16 to 256
// channels in and out run by Winograd F(4×4, 3×3) (winograd4.go on
// AVX-512 CPUs, winograd48.go on AVX2 ones; F(2×2, 3×3), winograd.go, on
// planes whose 4×4 tiles would waste more) — and gorgonia ops
// whose forward and backward
// passes write their outputs in place into buffers the op instance owns:
// 2-D convolution (dense, grouped, and depthwise with a direct kernel), max
// pooling, global average pooling, fully connected layers, batch norm, ReLU
// and ReLU6, the residual Add and the channel concatenation. Each op's doc
// comment gives its exact semantics, which are PyTorch's.
//
// The ops exist because gorgonia's own Conv2d, MaxPool2D and matrix multiply
// spend most of a LeNet-5 training step outside the multiply itself: they
// transpose NHWC results back to NCHW, broadcast biases by copying, and
// allocate every step. The ops here write NCHW directly with a fused bias and
// reuse their buffers across steps.
//
// Every op supports Float32 (the fast path) and Float64 (used for numeric
// gradient checks; correct but not tuned). An op instance belongs to the one
// graph node it was applied to: its output buffer is reused by the next run,
// so a caller who keeps an output across runs must copy it.
package kernels
