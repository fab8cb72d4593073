//go:build !(goexperiment.simd && amd64)

package kernels

// vecRowOps gives rowOps, for float32, a row copy by 8-float array
// assignments (two 16-byte moves each, where copy calls memmove for
// LeNet-5's 8-float rows) and the AVX2 row add where the CPU has it (a plain
// loop otherwise); the GOEXPERIMENT=simd build has archsimd loops for both.
func vecRowOps() (copyRow, addRow func(d, s []float32), ok bool) {
	if a, ok := asmAddRow(); ok {
		return copyRow8, a, true
	}
	return copyRow8, addRowPlain, true
}

// copyRow8 copies s into d (same length), 8 floats per assignment.
func copyRow8(d, s []float32) {
	d = d[:len(s)]
	for len(s) >= 8 {
		*(*[8]float32)(d) = *(*[8]float32)(s)
		d, s = d[8:], s[8:]
	}
	for k, v := range s {
		d[k] = v
	}
}

// addRowPlain adds s into d (same length).
func addRowPlain(d, s []float32) {
	d = d[:len(s)]
	for k, v := range s {
		d[k] += v
	}
}
