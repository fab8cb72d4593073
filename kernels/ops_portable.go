//go:build !(goexperiment.simd && amd64)

package kernels

// The portable twins of the AVX-512 loops of the newer ops: none here.

// vecDwKernels: the assembly loops where the CPU has them (archsimd ones in
// the GOEXPERIMENT=simd build).
func vecDwKernels() (dwKernels[float32], bool) { return asmDw() }

// vecClamp: the assembly kernels where the CPU has them (archsimd ones in
// the GOEXPERIMENT=simd build).
func vecClamp() (fwd func(y, x []float32, hi float32), grad func(dx, x, dy []float32, hi float32), ok bool) {
	return asmClamp()
}

// vecBnKernels: the assembly loops where the CPU has them (archsimd ones in
// the GOEXPERIMENT=simd build).
func vecBnKernels() (bnKernels[float32], bool) { return asmBn() }
