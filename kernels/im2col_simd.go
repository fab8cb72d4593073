//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// im2colFast is im2col for float32 and horizontal stride 1 with the row
// copies done 8 floats per vector move: LeNet-5's conv2 copies rows of 8,
// where a copy() call (memmove) cost more than the data it moved. It
// reports false (doing nothing) on a CPU without AVX-512.
func im2colFast(col, x []float32, g geom) bool {
	if !simdEnabled {
		return false
	}
	n := g.cols()
	r := 0
	for ci := 0; ci < g.c; ci++ {
		plane := x[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				dst := col[r*n : (r+1)*n]
				r++
				lo, hi := validRange(g.ow, 1, j*g.dw-g.pw, g.w)
				for oy := 0; oy < g.oh; oy++ {
					row := dst[oy*g.ow : (oy+1)*g.ow]
					iy := oy*g.sh - g.ph + i*g.dh
					if iy < 0 || iy >= g.h {
						clear(row)
						continue
					}
					clear(row[:lo])
					clear(row[hi:])
					ix := lo + j*g.dw - g.pw
					copy8(row[lo:hi], plane[iy*g.w+ix:iy*g.w+ix+hi-lo])
				}
			}
		}
	}
	return true
}

// col2imFast is col2im for float32 and horizontal stride 1 with the row
// additions done 8 floats per vector.
func col2imFast(dx, col []float32, g geom) bool {
	if !simdEnabled {
		return false
	}
	n := g.cols()
	r := 0
	for ci := 0; ci < g.c; ci++ {
		plane := dx[ci*g.h*g.w : (ci+1)*g.h*g.w]
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				src := col[r*n : (r+1)*n]
				r++
				lo, hi := validRange(g.ow, 1, j*g.dw-g.pw, g.w)
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.sh - g.ph + i*g.dh
					if iy < 0 || iy >= g.h {
						continue
					}
					ix := lo + j*g.dw - g.pw
					add8(plane[iy*g.w+ix:iy*g.w+ix+hi-lo], src[oy*g.ow+lo:oy*g.ow+hi])
				}
			}
		}
	}
	return true
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
