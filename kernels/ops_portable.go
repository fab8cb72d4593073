//go:build !(goexperiment.simd && amd64)

package kernels

// The portable twins of the AVX-512 loops of the newer ops: none here.

// vecDwKernels has vector loops in the AVX-512 build only.
func vecDwKernels() (dwKernels[float32], bool) { return dwKernels[float32]{}, false }

// vecRelu6 has vector loops in the AVX-512 build only.
func vecRelu6() (fwd func(y, x []float32), grad func(dx, x, dy []float32), ok bool) {
	return nil, nil, false
}
