package kernels

//go:noescape
func winoInAVX512(v, p *float32, a *winoInArgs)

//go:noescape
func winoGemmAVX512(kc int, a, b, c *float32, ldc, pairs, n int)

//go:noescape
func winoDotAVX512(w, v *float32, ldt, t int, du *float32, ldu, ob, cb, acc int)

//go:noescape
func padRowsAVX512(dst, src *float32, a *padArgs)

//go:noescape
func padRowsMapAVX512(dst, src *float32, a *padMapArgs)

//go:noescape
func padRowsMapFQAVX512(dst, src *float32, a *padMapArgs)

//go:noescape
func winoDyAVX512(v, p *float32, a *winoInArgs)

//go:noescape
func winoOutAVX512(y, m *float32, a *winoOutArgs)

// winogradCPU reports whether kernel fk's CPU runs Winograd convolutions:
// the transforms are assembly (16 tiles a vector on AVX-512, 8 on AVX2,
// winograd8_amd64.go), the GEMMs that kernel's microkernels.
func winogradCPU(fk floatKernel) bool { return fk == fkAVX512 || fk == fkAVX2 }

// wino512 reports whether kernel fk's CPU runs the AVX-512 Winograd
// assembly; AVX2 CPUs run F(4×4, 3×3) by their own transforms
// (winograd48.go, where wino48Use) and F(2×2, 3×3) by winograd8_amd64.go.
func wino512(fk floatKernel) bool { return fk == fkAVX512 }

// winoTransformAsm runs the input transform's assembly (the output
// gradient's when dy) over one image's a.nc padded planes p into v, after
// checking that every access is in bounds.
func winoTransformAsm(dy bool, v, p []float32, a *winoInArgs) {
	_ = p[a.nc*a.plane/4-1]
	last := a.t0 + a.tiles - 1
	_ = v[(15*a.ldx+(a.nc-1)*a.cs+(last>>5)*a.ps)/4+last&31]
	if dy {
		winoDyAVX512(&v[0], &p[0], a)
		return
	}
	winoInAVX512(&v[0], &p[0], a)
}

// winoOutAsm runs the output transform's assembly from m into one image's
// planes y (geometry g), after checking that every access is in bounds.
func winoOutAsm(y, m []float32, g winoGeom, a *winoOutArgs) {
	_ = y[g.o*g.oh*g.ow-1]
	_ = m[(15*a.ldx+(g.o-1)*a.mcs)/4+g.tiles()-1]
	winoOutAVX512(&y[0], &m[0], a)
}

// padRows copies nc planes of rows × w floats from src (planes sp floats
// apart, rows w apart) into dst (planes dp apart, rows dr apart), by the
// assembly for fkAVX512: the planes of 7×7 were a copy call per 28-byte row.
func padRows(fk floatKernel, dst, src []float32, nc, rows, w, sp, dp, dr int) {
	if nc <= 0 || rows <= 0 || w <= 0 {
		return
	}
	if !wino512(fk) {
		if fk == fkAVX2 && padRows8(dst, src, nc, rows, w, sp, dp, dr, nil) {
			return
		}
		padRowsGo(dst, src, nc, rows, w, sp, dp, dr)
		return
	}
	_, _ = dst[(nc-1)*dp+(rows-1)*dr+w-1], src[(nc-1)*sp+(rows-1)*w+w-1]
	a := padArgs{nc: nc, rows: rows, w: w, srcPlane: 4 * sp, dstPlane: 4 * dp, dstRow: 4 * dr, srcRow: 4 * w}
	padRowsAVX512(&dst[0], &src[0], &a)
}

// padRowsMap is padRows with plane p's values mapped by m (m.a[p]·x +
// m.b[p], clamped to [0, m.hi]: the batch norm's output, its kernels' bits,
// then fake-quantized where m.fq is not nil) on their way, by the assembly
// for fkAVX512.
func padRowsMap(fk floatKernel, dst, src []float32, nc, rows, w, sp, dp, dr int, m *inMap) {
	if nc <= 0 || rows <= 0 || w <= 0 {
		return
	}
	if !wino512(fk) {
		if fk == fkAVX2 && padRows8(dst, src, nc, rows, w, sp, dp, dr, m) {
			return
		}
		padRowsMapGo(dst, src, nc, rows, w, sp, dp, dr, m)
		return
	}
	_, _ = dst[(nc-1)*dp+(rows-1)*dr+w-1], src[(nc-1)*sp+(rows-1)*w+w-1]
	_, _ = m.a[nc-1], m.b[nc-1]
	a := padMapArgs{padArgs: padArgs{nc: nc, rows: rows, w: w, srcPlane: 4 * sp, dstPlane: 4 * dp, dstRow: 4 * dr, srcRow: 4 * w},
		a: &m.a[0], b: &m.b[0], hi: m.hi, fq: m.fq}
	if m.fq != nil {
		padRowsMapFQAVX512(&dst[0], &src[0], &a)
		return
	}
	padRowsMapAVX512(&dst[0], &src[0], &a)
}

// winoGemmAsm computes C = A·B as winoGemm does, in one call, where the
// assembly covers it (AVX-512, rows a multiple of 8; AVX2, rows a multiple
// of 4); false (nothing done) otherwise.
func winoGemmAsm(fk floatKernel, pa []float32, m, k int, b []float32, n int, c []float32, ldc int) bool {
	if fk == fkAVX2 {
		return winoGemm8(pa, m, k, b, n, c, ldc)
	}
	if fk != fkAVX512 || m%(2*mr) != 0 || m == 0 || n <= 0 || k <= 0 {
		return false
	}
	panels := (n + nr - 1) / nr
	_, _, _ = pa[m*k-1], b[panels*nr*k-1], c[(m-1)*ldc+n-1]
	winoGemmAVX512(k, &pa[0], &b[0], &c[0], ldc, m/(2*mr), n)
	return true
}

// winoDotAsm sets du (o × c, row stride c) to W·Vᵀ (plus du when acc) for
// W (o rows) and V (c rows) of t floats, rows ldt apart, where the
// assembly covers it (AVX-512: o and c multiples of 4; AVX2: o even, c a
// multiple of 4); false (nothing done) otherwise.
func winoDotAsm(fk floatKernel, w, v []float32, ldt, t int, du []float32, o, c int, acc bool) bool {
	if fk == fkAVX2 {
		return winoDot8(w, v, ldt, t, du, o, c, acc)
	}
	if fk != fkAVX512 || o%4 != 0 || c%4 != 0 || o == 0 || c == 0 || t <= 0 {
		return false
	}
	_, _, _ = w[(o-1)*ldt+t-1], v[(c-1)*ldt+t-1], du[o*c-1]
	ac := 0
	if acc {
		ac = 1
	}
	winoDotAVX512(&w[0], &v[0], ldt, t, &du[0], c, o/4, c/4, ac)
	return true
}

//go:noescape
func wino4InAVX512(v, p *float32, a *wino4InArgs)

//go:noescape
func wino4OutAVX512(y, m *float32, a *wino4OutArgs)

//go:noescape
func wino4OutAffAVX512(y, m *float32, a *wino4OutArgs)

//go:noescape
func wino4OutClampAVX512(y, m *float32, a *wino4OutArgs)

//go:noescape
func wino4InRowsAVX512(v, p *float32, a *wino4InArgs)

//go:noescape
func wino4OutRowsAVX512(y, m *float32, a *wino4OutArgs)

//go:noescape
func wino4OutRowsAffAVX512(y, m *float32, a *wino4OutArgs)

//go:noescape
func wino4OutRowsClampAVX512(y, m *float32, a *wino4OutArgs)

//go:noescape
func wino4OutRowsResAVX512(y, m *float32, a *wino4OutArgs)

//go:noescape
func wino4OutRowsResClampAVX512(y, m *float32, a *wino4OutArgs)

//go:noescape
func wino4DyAVX512(v, p *float32, a *wino4InArgs)

//go:noescape
func wino4DyRowsAVX512(v, p *float32, a *wino4InArgs)

//go:noescape
func wino4InQuadAVX512(v, p *float32, a *wino4InArgs)

//go:noescape
func wino4DyQuadAVX512(v, p *float32, a *wino4InArgs)

//go:noescape
func wino4OutQuadAVX512(y, m *float32, a *wino4OutArgs)

//go:noescape
func wino4OutQuadAffAVX512(y, m *float32, a *wino4OutArgs)

//go:noescape
func wino4OutQuadClampAVX512(y, m *float32, a *wino4OutArgs)

// wino4InAsm and wino4OutAsm run the F(4×4) transforms' assembly (rows:
// two tile rows a vector; quad: four images' 2×2 tiles by 16-byte pieces;
// else gathered; dy: the output gradient's A·dY·Aᵀ instead of Bᵀ·d·B);
// their callers (wino4Scratch.transform and output) check the bounds.
func wino4InAsm(rows, quad, dy bool, v, p []float32, a *wino4InArgs) {
	switch {
	case rows && dy:
		wino4DyRowsAVX512(&v[0], &p[0], a)
	case rows:
		wino4InRowsAVX512(&v[0], &p[0], a)
	case quad && dy:
		wino4DyQuadAVX512(&v[0], &p[0], a)
	case quad:
		wino4InQuadAVX512(&v[0], &p[0], a)
	case dy:
		wino4DyAVX512(&v[0], &p[0], a)
	default:
		wino4InAVX512(&v[0], &p[0], a)
	}
}

func wino4OutAsm(rows, quad bool, post int, y, m []float32, a *wino4OutArgs) {
	switch {
	case rows && post == postRes:
		wino4OutRowsResAVX512(&y[0], &m[0], a)
	case rows && post == postResClamp:
		wino4OutRowsResClampAVX512(&y[0], &m[0], a)
	case rows && post == postAffine:
		wino4OutRowsAffAVX512(&y[0], &m[0], a)
	case rows && post == postClamp:
		wino4OutRowsClampAVX512(&y[0], &m[0], a)
	case rows:
		wino4OutRowsAVX512(&y[0], &m[0], a)
	case quad && post == postAffine:
		wino4OutQuadAffAVX512(&y[0], &m[0], a)
	case quad && post == postClamp:
		wino4OutQuadClampAVX512(&y[0], &m[0], a)
	case quad:
		wino4OutQuadAVX512(&y[0], &m[0], a)
	case post == postAffine:
		wino4OutAffAVX512(&y[0], &m[0], a)
	case post == postClamp:
		wino4OutClampAVX512(&y[0], &m[0], a)
	default:
		wino4OutAVX512(&y[0], &m[0], a)
	}
}

//go:noescape
func wino4WeightsPackedAVX512(u *float32, ldu int, w *float32, idx *int32, tap, mask, panel, chunks int)

// wino4WeightsPackedAsm is wino4Weights by the assembly, 16 kernels a
// call, writing the 36 matrices (ldu floats apart in dst) as A operands
// packed for fk (PackA's layout: 4-row panels, rows past m ±0) for the
// GEMM rows' 16-row groups [lo, hi). The lanes run along the rows (output
// channels of the forward, input channels of the input gradient), one
// column a call. (wino4Weights in Go, 36 scattered stores a kernel, was
// 5% of resnet20's training step; the assembly into row-major matrices
// then PackA 3.7%, this 1.2%.) On AVX2 CPUs eight kernels a vector
// (wino4WeightsPacked8). False (nothing done) on CPUs without either.
func wino4WeightsPackedAsm(fk floatKernel, dst []float32, ldu int, w []float32, o, c int, back bool, lo, hi int) bool {
	if fk == fkAVX2 {
		if lo < hi {
			wino4WeightsPacked8(dst, ldu, w, o, c, back, lo, hi)
		}
		return true
	}
	if !wino512(fk) {
		return false
	}
	if lo >= hi {
		return true
	}
	m, k := o, c
	if back {
		m, k = c, o
	}
	_, _ = dst[35*ldu+(m+mr-1)/mr*mr*k-1], w[o*c*9-1]
	var idx [16]int32
	wino4LaneKernels(idx[:], c, back)
	for g := lo; g < hi; g++ {
		m0 := 16 * g
		n := min(16, m-m0)
		mask := 1<<n - 1
		chunks := 1<<(4*((n+3)/4)) - 1
		for p := range k {
			d := &dst[m0*k+4*p]
			if back {
				// input channels m0…, output channel p, turned half round
				wino4WeightsPackedAVX512(d, 4*ldu, &w[(p*c+m0)*9+8], &idx[0], -4, mask, 16*k, chunks)
			} else {
				wino4WeightsPackedAVX512(d, 4*ldu, &w[(m0*c+p)*9], &idx[0], 4, mask, 16*k, chunks)
			}
		}
	}
	return true
}

// wino4LaneKernels sets idx[l] to lane l's kernel, floats from lane 0's,
// for the weight transforms' assembly: lanes are output channels for the
// forward (kernels 9c apart), input channels for the input gradient (9).
func wino4LaneKernels(idx []int32, c int, back bool) {
	step := 9 * c
	if back {
		step = 9
	}
	for l := range idx {
		idx[l] = int32(step * l)
	}
}
