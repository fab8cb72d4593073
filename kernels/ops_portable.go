package kernels

// The batch norm, clamp and depthwise loops are the assembly ones where the
// CPU has them, in every build: the GOEXPERIMENT=simd build had archsimd
// AVX-512 twins of the plain loops, but not of the fused ones (a clamp's or
// a folded quantizer's mask inside the batch norm's sums, a worker's
// planes in one call), and trained vgg-small at a third of the default
// build's speed, MobileNetV2 at two thirds (measured 2026-12-06).

// vecDwKernels: the assembly loops where the CPU has them.
func vecDwKernels() (dwKernels[float32], bool) { return asmDw() }

// vecClamp: the assembly kernels where the CPU has them.
func vecClamp() (fwd func(y, x []float32, hi float32), grad func(dx, x, dy []float32, hi float32), ok bool) {
	return asmClamp()
}

// vecBnKernels: the assembly loops where the CPU has them.
func vecBnKernels() (bnKernels[float32], bool) { return asmBn() }
