//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// vecRowOps gives rowOps the vector row loops, unless the CPU lacks AVX-512.
func vecRowOps() (copyRow, addRow func(d, s []float32), ok bool) {
	return copy8, add8, simdEnabled
}

// copy8 copies s into d (same length), 8 floats per vector.
func copy8(d, s []float32) {
	d = d[:len(s)]
	for len(s) >= 8 {
		archsimd.LoadFloat32x8((*[8]float32)(s[:8])).Store((*[8]float32)(d[:8]))
		d, s = d[8:], s[8:]
	}
	for k, v := range s {
		d[k] = v
	}
}

// add8 adds s into d (same length), 8 floats per vector.
func add8(d, s []float32) {
	d = d[:len(s)]
	for len(s) >= 8 {
		dp := (*[8]float32)(d[:8])
		archsimd.LoadFloat32x8(dp).Add(archsimd.LoadFloat32x8((*[8]float32)(s[:8]))).Store(dp)
		d, s = d[8:], s[8:]
	}
	for k, v := range s {
		d[k] += v
	}
}
