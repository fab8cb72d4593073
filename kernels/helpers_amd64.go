package kernels

import (
	"math"

	"github.com/qatgo/qatgo/internal/cpufeat"
)

// Training helpers in Go assembly (helpers_amd64.s), chosen once at
// start-up: with AVX2 (and FMA) the bias-gradient sums, the batch-norm,
// depthwise-convolution and ReLU/ReLU6 loops and col2im's row add; with
// AVX-512 the 2×2 max pool (its masks and two-table permutes). The integer
// and elementwise ones give the bits of the Go loops; the summing ones stay
// within the tolerance the archsimd loops (GOEXPERIMENT=simd) are tested to.
var (
	useAVX2    = cpufeat.Host.AVX2
	usePool512 = cpufeat.Host.AVX512
)

//go:noescape
func sum16AVX2(p *float32, n int, part *[16]float32)

//go:noescape
func foldQuantizeAVX2(dst, src *float32, n int, c *[6]float32)

// foldQuantizeVec runs foldQuantize's formula over the first multiple of 8
// values by the AVX2 loop and returns how many it did (0 without AVX2).
func foldQuantizeVec(dst, src []float32, c *[6]float32) int {
	n := len(src) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	foldQuantizeAVX2(&dst[0], &src[0], n, c)
	return n
}

//go:noescape
func addRowAVX2(d, s *float32, n int)

//go:noescape
func panel32AVX2(dst, src *float32, ld, kc int)

//go:noescape
func clampAVX2(y, x *float32, n int, hi float32)

// asmClamp gives the default build's ReLU/ReLU6 kernels in AVX2, the same
// values as clampGeneric and clampGradGeneric (the gradient bit for bit;
// the forward too, up to which NaN a NaN input gives). ok is false without
// AVX2.
func asmClamp() (fwd func(y, x []float32, hi float32), grad func(dx, x, dy []float32, hi float32), ok bool) {
	return clampY, clampGradY, useAVX2
}

// clampY is clampGeneric by the AVX2 loop, the tail by the Go one.
func clampY(y, x []float32, hi float32) {
	y = y[:len(x)]
	n := len(x) &^ 7
	if n > 0 {
		clampAVX2(&y[0], &x[0], n, hi)
	}
	clampGeneric(y[n:], x[n:], hi)
}

// clampGradY is clampGradGeneric as the window (0, hi) of windowGrad32
// (the same mask: for ReLU, hi = +∞, the window's upper bound is NaN,
// which every x passes).
func clampGradY(dx, x, dy []float32, hi float32) {
	lo, h := float32(0), hi
	if math.IsInf(float64(hi), 1) {
		h = float32(math.NaN())
	}
	windowGrad32(dx, x, dy, lo, h)
}

//go:noescape
func addClampAVX2(y, a, b *float32, n int, hi float32)

// addClamp32 is clampGeneric of a + b by the AVX2 loop where the CPU has
// it, the tail by the Go one.
func addClamp32(y, a, b []float32, hi float32) {
	y, b = y[:len(a)], b[:len(a)]
	n := len(a) &^ 7
	if n > 0 && useAVX2 {
		addClampAVX2(&y[0], &a[0], &b[0], n, hi)
	} else {
		n = 0
	}
	addClampGeneric(y[n:], a[n:], b[n:], hi)
}

//go:noescape
func addAVX2(y, a, b *float32, n int)

// add32 is y = a + b by the AVX2 loop where the CPU has it, the tail by
// the Go one (elementwise: the same bits either way).
func add32(y, a, b []float32) {
	y, b = y[:len(a)], b[:len(a)]
	n := len(a) &^ 7
	if n > 0 && useAVX2 {
		addAVX2(&y[0], &a[0], &b[0], n)
	} else {
		n = 0
	}
	addGeneric(y[n:], a[n:], b[n:])
}

//go:noescape
func copyRowsAVX2(dst, src *float32, rows, n, dpitch, spitch int, tail *[8]int32)

// copyRows32 copies rows rows of n values, row r from src[r·pitch:] to
// dst[r·n:], by the AVX2 loop; false (nothing copied) without AVX2.
func copyRows32(dst, src []float32, rows, n, pitch int) bool {
	return copyRowsPitch32(dst, src, rows, n, n, pitch)
}

// copyRowsTo32 copies rows rows of n values, row r from src[r·n:] to
// dst[r·pitch:]; false (nothing copied) without AVX2.
func copyRowsTo32(dst, src []float32, rows, n, pitch int) bool {
	return copyRowsPitch32(dst, src, rows, n, pitch, n)
}

// copyRowsPitch32 copies rows rows of n values, row r from src[r·spitch:]
// to dst[r·dpitch:], by the AVX2 loop; false without AVX2.
func copyRowsPitch32(dst, src []float32, rows, n, dpitch, spitch int) bool {
	if !useAVX2 {
		return false
	}
	if rows <= 0 || n <= 0 {
		return true
	}
	_, _ = dst[(rows-1)*dpitch+n-1], src[(rows-1)*spitch+n-1] // bounds, before the assembly
	m := tailMask8(n)
	copyRowsAVX2(&dst[0], &src[0], rows, n, dpitch, spitch, &m)
	return true
}

//go:noescape
func fillAVX2(dst *float32, n int, v float32, tail *[8]int32)

// fill32 sets every value of dst to v, by the AVX2 loop where the CPU has
// it (a convolution's bias, the GEMM's initial C: Go's scalar store loop
// was 4.6% of a LeNet-5 step).
func fill32(dst []float32, v float32) {
	if !useAVX2 || len(dst) == 0 {
		fillGeneric(dst, v)
		return
	}
	m := tailMask8(len(dst))
	fillAVX2(&dst[0], len(dst), v, &m)
}

//go:noescape
func addRowsAVX2(dst, src *float32, rows, n, pitch int, tail *[8]int32)

// addRows32 adds rows rows of n values, row r from src[r·n:] into
// dst[r·pitch:], by the AVX2 loop (col2im's block form of copyRows32);
// false (nothing added) without AVX2.
func addRows32(dst, src []float32, rows, n, pitch int) bool {
	if !useAVX2 {
		return false
	}
	if rows <= 0 || n <= 0 {
		return true
	}
	_, _ = src[rows*n-1], dst[(rows-1)*pitch+n-1] // bounds, before the assembly
	m := tailMask8(n)
	addRowsAVX2(&dst[0], &src[0], rows, n, pitch, &m)
	return true
}

//go:noescape
func windowGradAVX2(dx, y, dy *float32, n int, lo, hi float32)

// windowGrad32 is windowGradGeneric by the AVX2 loop where the CPU has
// it, the tail by the Go one.
func windowGrad32(dx, y, dy []float32, lo, hi float32) {
	dx, dy = dx[:len(y)], dy[:len(y)]
	n := len(y) &^ 7
	if n > 0 && useAVX2 {
		windowGradAVX2(&dx[0], &y[0], &dy[0], n, lo, hi)
	} else {
		n = 0
	}
	windowGradGeneric(dx[n:], y[n:], dy[n:], lo, hi)
}

//go:noescape
func sumsAVX2(x *float32, n int, k float32, out *[16]float32)

//go:noescape
func gradSumsAVX2(dy, x *float32, n int, k float32, out *[16]float32)

//go:noescape
func affineAVX2(y, x *float32, n int, a, b float32)

//go:noescape
func affine2AVX2(dx, dy, x *float32, n int, a, b, c float32)

// asmBn gives the default build's batch-norm loops: AVX2 with FMA and
// 8-lane partial sums (within the tolerance the archsimd ones are tested
// to; the tails by the Go loops). ok is false without AVX2.
func asmBn() (bnKernels[float32], bool) {
	return bnKernels[float32]{sums: sumsY, gradSums: gradSumsY, affine: affineY, affine2: affine2Y,
		affineClamp: affineClampY,
		gradSumsRec: gradSumsRecY, affine2Rec: affine2RecY, planes: bnPlanesAVX2()}, useAVX2
}

// affineClampY is affineY then clampY in one pass over the plane (the
// clamp's own pass was 4% of a vgg-small step): the planes kernel on one
// plane, whose loops are theirs instruction for instruction (TestBnPlanes).
func affineClampY(y, x []float32, a, b, hi float32) {
	y = y[:len(x)]
	if len(x) == 0 {
		return
	}
	ab := [2]float32{a, b}
	tail := tailMask8(len(x))
	affineActPlanesAVX2(&y[0], &x[0], len(x), 1, &ab[0], &ab[1], hi, 1, &tail, nil)
}

//go:noescape
func gradSumsRecAVX2(dy, x *float32, n int, a, b, chi float32, clamp int, k, lo, hi float32, out *[16]float32)

//go:noescape
func affine2RecAVX2(dx, dy, x *float32, n int, ya, yb, chi float32, clamp int, a, b, c, lo, hi float32)

// recTail sets t to the batch norm's output on the tail x (fewer than 8
// values), as affineY / affineClampY compute it: what gradSumsRecY and
// affine2RecY would have read.
func recTail(t, x []float32, ya, yb, chi float32, clamp bool) {
	if len(x) == 0 {
		return
	}
	ab := [2]float32{ya, yb}
	tail := tailMask8(len(x))
	affineActPlanesAVX2(&t[0], &x[0], len(x), 1, &ab[0], &ab[1], chi, b2i(clamp), &tail, nil)
}

// gradSumsRecY is gradSumsY of windowGradGeneric(y, dy, lo, hi) with y =
// the batch norm's output (a·x + b, clamped to [0, chi] when clamp)
// recomputed from x in the loop: the same bits as recomputing it into a
// buffer (affineY or affineClampY), masking a copy of dy and summing that,
// without writing and reading either.
func gradSumsRecY(dy, x []float32, ya, yb, chi float32, clamp bool, k, lo, hi float32) (sdy, sdyx float64) {
	x = x[:len(dy)]
	n := len(dy) &^ 7
	var yt, tail [8]float32
	t := tail[:len(dy)-n]
	recTail(yt[:len(t)], x[n:], ya, yb, chi, clamp)
	windowGradGeneric(t, yt[:len(t)], dy[n:], lo, hi)
	if n == 0 {
		return gradSumsGeneric(t, x, k)
	}
	var part [16]float32
	gradSumsRecAVX2(&dy[0], &x[0], n, ya, yb, chi, b2i(clamp), k, lo, hi, &part)
	t1, t2 := gradSumsGeneric(t, x[n:], k)
	return float64(sum8(part[:8])) + t1, float64(sum8(part[8:])) + t2
}

// affine2RecY is affine2Y of windowGradGeneric(y, dy, lo, hi) with y
// recomputed from x, as gradSumsRecY.
func affine2RecY(dx, dy, x []float32, ya, yb, chi float32, clamp bool, a, b, c, lo, hi float32) {
	dx, x = dx[:len(dy)], x[:len(dy)]
	n := len(dy) &^ 7
	if n > 0 {
		affine2RecAVX2(&dx[0], &dy[0], &x[0], n, ya, yb, chi, b2i(clamp), a, b, c, lo, hi)
	}
	var yt, tail [8]float32
	t := tail[:len(dy)-n]
	recTail(yt[:len(t)], x[n:], ya, yb, chi, clamp)
	windowGradGeneric(t, yt[:len(t)], dy[n:], lo, hi)
	affine2Generic(dx[n:], t, x[n:], a, b, c)
}

func sumsY(x []float32, k float32) (s1, s2 float64) {
	n := len(x) &^ 7
	if n == 0 {
		return sumsGeneric(x, k)
	}
	var part [16]float32
	sumsAVX2(&x[0], n, k, &part)
	t1, t2 := sumsGeneric(x[n:], k)
	return float64(sum8(part[:8])) + t1, float64(sum8(part[8:])) + t2
}

func gradSumsY(dy, x []float32, k float32) (sdy, sdyx float64) {
	x = x[:len(dy)]
	n := len(dy) &^ 7
	if n == 0 {
		return gradSumsGeneric(dy, x, k)
	}
	var part [16]float32
	gradSumsAVX2(&dy[0], &x[0], n, k, &part)
	t1, t2 := gradSumsGeneric(dy[n:], x[n:], k)
	return float64(sum8(part[:8])) + t1, float64(sum8(part[8:])) + t2
}

// sum8 adds 8 partial sums pairwise.
func sum8(p []float32) float32 {
	p = p[:8]
	return ((p[0] + p[4]) + (p[1] + p[5])) + ((p[2] + p[6]) + (p[3] + p[7]))
}

// affineY is y = a·x + b, every value by one FMA (the tail by the planes
// kernel's masked one): the F(4×4) output transform applies an evaluation
// batch norm with the same FMAs on any plane (Conv2dBNEval).
func affineY(y, x []float32, a, b float32) {
	y = y[:len(x)]
	n := len(x) &^ 7
	if n > 0 {
		affineAVX2(&y[0], &x[0], n, a, b)
	}
	if n < len(x) {
		ab := [2]float32{a, b}
		tail := tailMask8(len(x) - n)
		affineActPlanesAVX2(&y[n], &x[n], len(x)-n, 1, &ab[0], &ab[1], 0, 0, &tail, nil)
	}
}

func affine2Y(dx, dy, x []float32, a, b, c float32) {
	dx, x = dx[:len(dy)], x[:len(dy)]
	n := len(dy) &^ 7
	if n > 0 {
		affine2AVX2(&dx[0], &dy[0], &x[0], n, a, b, c)
	}
	affine2Generic(dx[n:], dy[n:], x[n:], a, b, c)
}

//go:noescape
func corr4AVX2(out, in *float32, offs *int, w *float32, ntaps, oh, ow, pitch int, init float32, add int, mask *[8]int32)

//go:noescape
func corr1AVX2(out, in *float32, offs *int, w *float32, ntaps, oh, ow, pitch int, init float32, add int, mask *[8]int32)

//go:noescape
func dots4AVX2(acc *float32, dy, in *float32, offs *int, oh, ow, pitch int, mask *[8]int32)

//go:noescape
func dots1AVX2(acc *float32, dy, in *float32, offs *int, oh, ow, pitch int, mask *[8]int32)

// asmDw gives the default build's depthwise-convolution loops: corrRows
// and dotsRows in AVX2 with FMA (8 lanes, the rows' tails masked), within
// the tolerance the archsimd ones are tested to. ok is false without AVX2.
func asmDw() (dwKernels[float32], bool) {
	return dwKernels[float32]{corrRows: corrRowsY, dotsRows: dotsRowsY, lanes: 8,
		axpy: axpyY, copyRow: func(d, s []float32) { copy(d, s) },
		deint2: deint2Y, inter2: inter2Y}, useAVX2
}

//go:noescape
func axpyAVX2(dst, src *float32, n int, a float32)

// axpyY is axpyGeneric by the AVX2 FMA loop (one rounding per element
// where the Go loop has two: the depthwise input gradient is tested
// against the float64 reference), the tail by the Go loop.
func axpyY(dst, src []float32, a float32) {
	dst = dst[:len(src)]
	n := len(src) &^ 7
	if n > 0 {
		axpyAVX2(&dst[0], &src[0], n, a)
	}
	axpyGeneric(dst[n:], src[n:], a)
}

//go:noescape
func deint2AVX2(e, o, src *float32, n int)

//go:noescape
func inter2AVX2(dst, e, o *float32, n int)

// deint2Y is deint2 by the AVX2 loop, 16 values of src a step, the rest by
// the Go loop.
func deint2Y(e, o, src []float32) {
	n := len(src) / 16
	if n > 0 {
		_, _ = e[8*n-1], o[8*n-1] // bounds, before the assembly writes them
		deint2AVX2(&e[0], &o[0], &src[0], n)
	}
	deint2(e[8*n:], o[8*n:], src[16*n:])
}

// inter2Y is inter2 by the AVX2 loop, 16 values of dst a step, the rest
// by the Go loop.
func inter2Y(dst, e, o []float32) {
	n := len(dst) / 16
	if n > 0 {
		_, _, _ = dst[16*n-1], e[8*n-1], o[8*n-1]
		inter2AVX2(&dst[0], &e[0], &o[0], n)
	}
	inter2(dst[16*n:], e[8*n:], o[8*n:])
}

// tailMask8 has −1 in the first n mod 8 lanes.
func tailMask8(n int) (m [8]int32) {
	for i := range n % 8 {
		m[i] = -1
	}
	return m
}

func corrRowsY(out []float32, oh, ow int, in []float32, pitch int, offs []int, w []float32, init float32, add bool) {
	if oh <= 0 || ow <= 0 {
		return
	}
	checkRange(len(out), oh*ow, len(in), (oh-1)*pitch+ow, offs)
	w = w[:len(offs)]
	m := tailMask8(ow)
	a := 0
	if add {
		a = 1
	}
	var op *int
	var wp *float32
	if len(offs) > 0 {
		op, wp = &offs[0], &w[0]
	}
	oh4 := oh &^ 3
	if oh4 > 0 {
		corr4AVX2(&out[0], &in[0], op, wp, len(offs), oh4, ow, pitch, init, a, &m)
	}
	if oh > oh4 {
		corr1AVX2(&out[oh4*ow], &in[oh4*pitch], op, wp, len(offs), oh-oh4, ow, pitch, init, a, &m)
	}
}

func dotsRowsY(acc, dy []float32, oh, ow int, in []float32, pitch int, offs []int) {
	if oh <= 0 || ow <= 0 || len(offs) == 0 {
		return
	}
	checkRange(len(dy), oh*ow, len(in), (oh-1)*pitch+ow, offs)
	acc = acc[:8*len(offs)]
	m := tailMask8(ow)
	t := 0
	for ; t+4 <= len(offs); t += 4 {
		dots4AVX2(&acc[8*t], &dy[0], &in[0], &offs[t], oh, ow, pitch, &m)
	}
	for ; t < len(offs); t++ {
		dots1AVX2(&acc[8*t], &dy[0], &in[0], &offs[t], oh, ow, pitch, &m)
	}
}

// asmAddRow gives the default build's row add (im2col's col2im): AVX2,
// elementwise, so the same bits as the plain loop. ok is false without AVX2.
func asmAddRow() (func(d, s []float32), bool) { return addRowY, useAVX2 }

func addRowY(d, s []float32) {
	d = d[:len(s)]
	n := len(s) &^ 7
	if n > 0 {
		addRowAVX2(&d[0], &s[0], n)
	}
	for k := n; k < len(s); k++ {
		d[k] += s[k]
	}
}

// sumBiasFast is sumBias for float32 with vector loops: 16 partial sums
// along inner (a convolution's output positions), or whole rows added at a
// time when inner is 1 (a linear layer). It reports false for other shapes
// and on a CPU without AVX2.
func sumBiasFast(db, dy []float32, outer, inner int) bool {
	if !useAVX2 {
		return false
	}
	C := len(db)
	_ = dy[outer*C*inner-1]
	switch {
	case inner == 1:
		clear(db)
		n8 := C &^ 7
		for o := 0; o < outer; o++ {
			row := dy[o*C : (o+1)*C]
			if n8 > 0 {
				addRowAVX2(&db[0], &row[0], n8)
			}
			for k := n8; k < C; k++ {
				db[k] += row[k]
			}
		}
		return true
	case inner >= 16:
		clear(db)
		n16 := inner &^ 15
		var part [16]float32
		for o := 0; o < outer; o++ {
			for c := 0; c < C; c++ {
				seg := dy[(o*C+c)*inner : (o*C+c+1)*inner]
				sum16AVX2(&seg[0], n16, &part)
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

// pairIdx holds the VPERMI2PS indices that pick the even (first row) and odd
// (second row) lanes of two concatenated vectors, and 2·lane.
var pairIdx = func() (t [3][16]uint32) {
	for i := uint32(0); i < 16; i++ {
		t[0][i], t[1][i], t[2][i] = 2*i, 2*i+1, 2*i
	}
	return t
}()

//go:noescape
func pool2x2Rows512(x, y *float32, am *int32, rows, ow, base int, idx *[3][16]uint32)

//go:noescape
func pool2x2Rows512w(x, y *float32, am *int32, rows, ow, base int, idx *[3][16]uint32, pre *float32, win *[4]float32, fq *[6]float32)

// pool2x2Fast is the 2×2, stride-2, unpadded max pool of float32 planes
// lo..hi−1 of even height and width (LeNet's, VGG's), with the first
// maximum of each window in row-major order as its argmax, as poolForward:
// each row's pair maximum (the second only where strictly greater), then
// the lower pair's only where strictly greater than the upper one's, by
// vector selects (a scalar compare is a branch that mispredicts half the
// time on random data), 16 outputs a step in one pass over the row pairs
// (pool2x2Rows512; the pairs' maxima went through memory in a first pass
// before). Only where usePool2x2Fast; the caller splits the planes
// between the cores. With win, the fold's window goes into the indices
// (pool2x2Rows512w; see windowArgmax; pre: the quantizer's whole input),
// and with fq too, the pool reads pre instead of x and quantizes it as it
// loads it (fq: the quantizer's constants, see
// fakequant.QuantizingProducer).
func pool2x2Fast(st *poolState, x, y, pre []float32, win *poolWindow, fq *[6]float32, lo, hi, h, w int) {
	oh, ow := h/2, w/2
	r0, rows := lo*oh, (hi-lo)*oh
	if rows == 0 || ow == 0 {
		return
	}
	if fq != nil {
		x = pre
	}
	xs, yr, am := x[lo*h*w:hi*h*w], y[r0*ow:], st.argmax[r0*ow:]
	_, _ = yr[rows*ow-1], am[rows*ow-1]
	if win == nil {
		pool2x2Rows512(&xs[0], &yr[0], &am[0], rows, ow, lo*h*w, &pairIdx)
		return
	}
	_ = pre[hi*h*w-1]
	e := [4]float32{win.eLo, win.eHi, win.lo, win.hi}
	pool2x2Rows512w(&xs[0], &yr[0], &am[0], rows, ow, lo*h*w, &pairIdx, &pre[0], &e, fq)
}

// usePool2x2Fast reports whether pool2x2Fast has its vector loops here.
func usePool2x2Fast() bool { return usePool512 }

// copyPanel32 packs a GEMM panel of 32 contiguous columns: panel[32p:32p+32]
// = src[p·ld:p·ld+32] for p < kc, by panel32AVX2 (one copy call per row of
// 128 bytes cost more than the move); false where AVX2 is off.
func copyPanel32(panel, src []float32, ld, kc int) bool {
	if !useAVX2 || kc <= 0 {
		return false
	}
	_ = panel[32*kc-1]
	_ = src[(kc-1)*ld+31]
	panel32AVX2(&panel[0], &src[0], ld, kc)
	return true
}

//go:noescape
func deint2RowsAVX2(e, o, src *float32, rows, n, epitch, spitch int, masks *[4][8]int32)

//go:noescape
func inter2RowsAVX2(dst, e, o *float32, rows, n, dpitch, epitch int, masks *[4][8]int32)

// useRows32: the plane moves of dwRows32 have their AVX2 loops.
var useRows32 = useAVX2

// rowMasks2 are the lane masks of the last n mod 16 values of a row split
// in even and odd halves: the two halves of the row, then e and o.
func rowMasks2(n int) (m [4][8]int32) {
	t := n % 16
	for l := range 8 {
		if l < t {
			m[0][l] = -1
		}
		if l+8 < t {
			m[1][l] = -1
		}
		if l < (t+1)/2 {
			m[2][l] = -1
		}
		if l < t/2 {
			m[3][l] = -1
		}
	}
	return m
}

//go:noescape
func gather2Rows512(dst, src *float32, rows, n, dpitch, spitch int, even *[16]uint32)

//go:noescape
func scatter2AddRows512(dst, src *float32, rows, n, dpitch, spitch int, spread *[2][16]uint32)

// spreadIdx holds the VPERMPS indices that put values 0–7 (first) and 8–15
// (second) of a vector on the even lanes of two.
var spreadIdx = func() (t [2][16]uint32) {
	for i := uint32(0); i < 8; i++ {
		t[0][2*i], t[1][2*i] = i, 8+i
	}
	return t
}()

// useStride2Rows: gather2Rows32 and scatter2AddRows32 have their AVX-512
// loops.
var useStride2Rows = cpufeat.Host.AVX512

// gather2Rows32 sets dst[r·dpitch + i] = src[r·spitch + 2i] for i < n and
// r < rows, by the AVX-512 loop (the scalar loop of a stride-2 im2col took
// most of resnet20's stride-2 convolutions' time). Callers check
// useStride2Rows.
func gather2Rows32(dst, src []float32, rows, n, dpitch, spitch int) {
	if rows <= 0 || n <= 0 {
		return
	}
	_, _ = dst[(rows-1)*dpitch+n-1], src[(rows-1)*spitch+2*(n-1)] // bounds, before the assembly
	gather2Rows512(&dst[0], &src[0], rows, n, dpitch, spitch, &pairIdx[0])
}

// scatter2AddRows32 adds src[r·spitch + i] to dst[r·dpitch + 2i] for i < n
// and r < rows (col2im's stride-2 rows), by the AVX-512 loop, each sum as
// the scalar loop's. Callers check useStride2Rows.
func scatter2AddRows32(dst, src []float32, rows, n, dpitch, spitch int) {
	if rows <= 0 || n <= 0 {
		return
	}
	_, _ = dst[(rows-1)*dpitch+2*(n-1)], src[(rows-1)*spitch+n-1]
	scatter2AddRows512(&dst[0], &src[0], rows, n, dpitch, spitch, &spreadIdx)
}

// tap2 is one tap of a stride-2 im2col of at most 16 output columns, as
// im2col2Taps512 and col2im2Taps512 read it (field offsets are their
// constants).
type tap2 struct {
	dst    int // bytes from a channel's block of col to the tap's row
	src    int // bytes from a plane to the tap's source window of output row y0
	y0, y1 int // the output rows whose input row is in the plane
	lanes  int // the source window's lanes in the plane that are read (even, one per output)
	out    int // the output lanes whose input is in the plane
}

//go:noescape
func im2col2Taps512(col, x *float32, taps *tap2, ntaps, nc, oh, ow, plane, spitch, colChan int, even *[16]uint32, full int)

//go:noescape
func col2im2Taps512(dx, col *float32, taps *tap2, ntaps, nc, oh, ow, plane, spitch, colChan int, spread *[2][16]uint32)

// maxTaps2 bounds the kernels the stride-2 loops take (5×5): their tap
// tables live on the stack.
const maxTaps2 = 25

// taps2 fills t with g's taps for im2col2Taps512 and reports whether g is
// one such loops cover: stride 2 along rows, at most 16 output columns and
// maxTaps2 taps (callers check useStride2Rows).
func (g geom) taps2(t *[maxTaps2]tap2) bool {
	if g.sw != 2 || g.ow > 16 || g.kh*g.kw > maxTaps2 {
		return false
	}
	cols := g.cols()
	for i := 0; i < g.kh; i++ {
		y0, y1, iy0 := g.tapRows(i)
		for j := 0; j < g.kw; j++ {
			off := j*g.dw - g.pw
			var lanes, out int
			for x := 0; x < g.ow; x++ {
				if c := 2*x + off; c >= 0 && c < g.w {
					lanes |= 1 << (2 * x)
					out |= 1 << x
				}
			}
			t[i*g.kw+j] = tap2{dst: 4 * (i*g.kw + j) * cols, src: 4 * (iy0*g.w + off), y0: y0, y1: max(y0, y1), lanes: lanes, out: out}
		}
	}
	return true
}

// im2col2 is im2col for the geometries taps2 takes, one call for all
// channels; false (nothing done) for others.
func im2col2(col, x []float32, g geom) bool {
	var t [maxTaps2]tap2
	if !g.taps2(&t) {
		return false
	}
	rows, cols := g.rows(), g.cols()
	_, _ = col[rows*cols-1], x[g.c*g.h*g.w-1]
	// Rows oy with (oh − oy)·ow ≥ 16 store 16 lanes: those past the row
	// land on the tap's later rows (or the next tap's), written after.
	full := g.oh - (16+g.ow-1)/g.ow + 1
	im2col2Taps512(&col[0], &x[0], &t[0], g.kh*g.kw, g.c, g.oh, g.ow, 4*g.h*g.w, 4*g.sh*g.w, 4*g.kh*g.kw*cols, &pairIdx[0], full)
	return true
}

// col2im2 is col2im for the geometries taps2 takes, each sum as
// col2imRows'; false (nothing done) for others.
func col2im2(dx, col []float32, g geom) bool {
	var t [maxTaps2]tap2
	if !g.taps2(&t) {
		return false
	}
	rows, cols := g.rows(), g.cols()
	_, _ = col[rows*cols-1], dx[g.c*g.h*g.w-1]
	col2im2Taps512(&dx[0], &col[0], &t[0], g.kh*g.kw, g.c, g.oh, g.ow, 4*g.h*g.w, 4*g.sh*g.w, 4*g.kh*g.kw*cols, &spreadIdx)
	return true
}

//go:noescape
func prefetchAVX(p *float32, n int)

// prefetch32 asks for s's cache lines ahead of their use.
func prefetch32(s []float32) {
	if len(s) > 0 {
		prefetchAVX(&s[0], 4*len(s))
	}
}
