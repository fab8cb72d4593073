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

// sumBiasFast is sumBias for float32 with vector loops: 16-lane partial sums
// along inner (a convolution's output positions), or whole rows added at a
// time when inner is 1 (a linear layer). It reports false for other shapes
// and on a CPU without AVX-512.
func sumBiasFast(db, dy []float32, outer, inner int) bool {
	if !simdEnabled {
		return false
	}
	C := len(db)
	switch {
	case inner == 1:
		clear(db)
		for o := 0; o < outer; o++ {
			add8(db, dy[o*C:(o+1)*C])
		}
		return true
	case inner >= 16:
		clear(db)
		n16 := inner &^ 15
		var part [16]float32
		for o := 0; o < outer; o++ {
			for c := 0; c < C; c++ {
				seg := dy[(o*C+c)*inner : (o*C+c+1)*inner]
				acc := archsimd.LoadFloat32x16((*[16]float32)(seg[:16]))
				for i := 16; i < n16; i += 16 {
					acc = acc.Add(archsimd.LoadFloat32x16((*[16]float32)(seg[i : i+16])))
				}
				acc.Store(&part)
				var s float32
				for _, v := range part {
					s += v
				}
				for _, v := range seg[n16:] {
					s += v
				}
				db[c] += s
			}
		}
		return true
	}
	return false
}
