package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestIm2colShifted checks the block path of im2col and col2im (stride 1,
// "same" width) bit for bit against the row-by-row loops, float32 and
// float64, including taps that fall entirely off small images.
func TestIm2colShifted(t *testing.T) {
	cases := []struct{ c, h, w, k, p, d int }{
		{2, 5, 5, 3, 1, 1}, {3, 28, 28, 3, 1, 1}, {1, 7, 7, 3, 1, 1}, {2, 1, 1, 3, 1, 1},
		{2, 2, 2, 3, 1, 1}, {1, 4, 6, 5, 2, 1}, {2, 6, 5, 3, 2, 2}, {1, 3, 3, 1, 0, 1},
		{1, 2, 9, 7, 3, 1}, {2, 9, 2, 3, 1, 1},
	}
	r := rand.New(rand.NewPCG(61, 62))
	for _, tc := range cases {
		g := geom{c: tc.c, h: tc.h, w: tc.w, kh: tc.k, kw: tc.k, sh: 1, sw: 1, ph: tc.p, pw: tc.p, dh: tc.d, dw: tc.d}
		g.oh, g.ow = outSize(g.h, g.kh, 1, g.ph, g.dh), outSize(g.w, g.kw, 1, g.pw, g.dw)
		name := fmt.Sprintf("%+v", tc)
		if !g.shifted() {
			t.Fatalf("%s: not a shifted geometry", name)
		}
		checkShifted[float32](t, name, g, r)
		checkShifted[float64](t, name, g, r)
	}
	// Stride 2 and a narrower output take the row path.
	for _, g := range []geom{{sh: 2, sw: 2, ow: 4, w: 8}, {sh: 1, sw: 1, ow: 6, w: 8}} {
		if g.shifted() {
			t.Errorf("%+v: shifted, want the row path", g)
		}
	}
}

func checkShifted[T float](t *testing.T, name string, g geom, r *rand.Rand) {
	t.Helper()
	img, rows, cols := g.c*g.h*g.w, g.rows(), g.cols()
	x := make([]T, img)
	for i := range x {
		x[i] = T(r.Float64()*2 - 1)
	}
	got, want := make([]T, rows*cols), make([]T, rows*cols)
	for i := range got {
		got[i], want[i] = 7, 7 // stale values must be overwritten
	}
	im2col(got, x, g)
	im2colRows(want, x, g)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s %T: im2col element %d = %v, want %v", name, got[0], i, got[i], want[i])
		}
	}
	col := make([]T, rows*cols)
	for i := range col {
		col[i] = T(r.Float64()*2 - 1)
	}
	colCopy := append([]T(nil), col...)
	dGot, dWant := make([]T, img), make([]T, img)
	for i := range dGot {
		dGot[i], dWant[i] = 1, 1
	}
	col2im(dGot, col, g)
	col2imRows(dWant, colCopy, g)
	for i := range dWant {
		if dGot[i] != dWant[i] {
			t.Fatalf("%s %T: col2im element %d = %v, want %v", name, dGot[0], i, dGot[i], dWant[i])
		}
	}
}

// BenchmarkIm2colShifted compares the block and row paths on resnet20's
// 3×3 pad-1 geometries (per image, im2col then col2im).
func BenchmarkIm2colShifted(b *testing.B) {
	for _, s := range [][3]int{{16, 28, 28}, {32, 14, 14}, {64, 7, 7}} {
		g := geom{c: s[0], h: s[1], w: s[2], kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, oh: s[1], ow: s[2]}
		x := make([]float32, g.c*g.h*g.w)
		col := make([]float32, g.rows()*g.cols())
		for _, v := range []struct {
			name   string
			im, co func(d, s []float32, g geom)
		}{{"block", im2col[float32], col2im[float32]}, {"rows", im2colRows[float32], col2imRows[float32]}} {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", s[0], s[1], s[2], v.name), func(b *testing.B) {
				for b.Loop() {
					v.im(col, x, g)
					v.co(x, col, g)
				}
			})
		}
	}
}

// TestIm2colStride2 checks the stride-2 vector paths of im2col and col2im
// (one call for all taps where the output rows fit a vector, else one per
// tap) bit for bit against the row-by-row loops, with guard values past
// both buffers that must stay untouched: padding on either side, dilation,
// row strides 1–3, taps off small planes, odd and even widths.
func TestIm2colStride2(t *testing.T) {
	cases := []struct{ c, h, w, kh, kw, sh, ph, pw, d int }{
		{16, 28, 28, 3, 3, 2, 1, 1, 1}, {32, 14, 14, 3, 3, 2, 1, 1, 1}, {16, 28, 28, 1, 1, 2, 0, 0, 1},
		{3, 15, 15, 3, 3, 2, 1, 1, 1}, {2, 9, 33, 3, 3, 2, 1, 1, 1}, {2, 7, 64, 5, 5, 2, 2, 2, 1},
		{2, 11, 31, 3, 5, 1, 0, 2, 1}, {1, 6, 13, 3, 3, 3, 1, 1, 2}, {2, 3, 3, 5, 5, 2, 2, 2, 1},
		{1, 2, 2, 3, 3, 2, 1, 1, 1}, {2, 5, 30, 2, 2, 2, 0, 0, 1}, {1, 8, 34, 3, 3, 2, 0, 1, 1},
		{2, 4, 17, 7, 7, 2, 3, 3, 1},
	}
	r := rand.New(rand.NewPCG(63, 64))
	for _, tc := range cases {
		g := geom{c: tc.c, h: tc.h, w: tc.w, kh: tc.kh, kw: tc.kw, sh: tc.sh, sw: 2, ph: tc.ph, pw: tc.pw, dh: tc.d, dw: tc.d}
		g.oh, g.ow = outSize(g.h, g.kh, g.sh, g.ph, g.dh), outSize(g.w, g.kw, g.sw, g.pw, g.dw)
		name := fmt.Sprintf("%+v", tc)
		img, n := g.c*g.h*g.w, g.rows()*g.cols()
		const guard = 40
		x := make([]float32, img)
		for i := range x {
			x[i] = float32(r.Float64()*2 - 1)
		}
		got, want := make([]float32, n+guard), make([]float32, n)
		for i := range got {
			got[i] = 7 // stale values must be overwritten, guards kept
		}
		im2col(got[:n], x, g)
		im2colRows(want, x, g)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: im2col element %d = %v, want %v", name, i, got[i], want[i])
			}
		}
		for i := n; i < n+guard; i++ {
			if got[i] != 7 {
				t.Fatalf("%s: im2col wrote past col's end (element %d)", name, i)
			}
		}
		col := make([]float32, n)
		for i := range col {
			col[i] = float32(r.Float64()*2 - 1)
		}
		dGot, dWant := make([]float32, img+guard), make([]float32, img)
		for i := range dGot {
			dGot[i] = 0.5
		}
		for i := range dWant {
			dWant[i] = 0.5
		}
		col2im(dGot[:img], append([]float32(nil), col...), g)
		col2imRows(dWant, col, g)
		for i := range dWant {
			if dGot[i] != dWant[i] {
				t.Fatalf("%s: col2im element %d = %v, want %v", name, i, dGot[i], dWant[i])
			}
		}
		for i := img; i < img+guard; i++ {
			if dGot[i] != 0.5 {
				t.Fatalf("%s: col2im wrote past dx's end (element %d)", name, i)
			}
		}
	}
}

// BenchmarkIm2colStride2 compares the stride-2 vector paths with the row
// loops on resnet20's stride-2 geometries (per image, im2col then col2im).
func BenchmarkIm2colStride2(b *testing.B) {
	for _, s := range [][5]int{{16, 28, 3, 1}, {32, 14, 3, 1}, {16, 28, 1, 0}} {
		g := geom{c: s[0], h: s[1], w: s[1], kh: s[2], kw: s[2], sh: 2, sw: 2, ph: s[3], pw: s[3], dh: 1, dw: 1}
		g.oh, g.ow = outSize(g.h, g.kh, 2, g.ph, 1), outSize(g.w, g.kw, 2, g.pw, 1)
		x := make([]float32, g.c*g.h*g.w)
		col := make([]float32, g.rows()*g.cols())
		for _, v := range []struct {
			name   string
			im, co func(d, s []float32, g geom)
		}{{"vector", im2col[float32], col2im[float32]}, {"rows", im2colRows[float32], col2imRows[float32]}} {
			b.Run(fmt.Sprintf("%dx%dx%d_k%d/%s", s[0], s[1], s[1], s[2], v.name), func(b *testing.B) {
				for b.Loop() {
					v.im(col, x, g)
					v.co(x, col, g)
				}
			})
		}
	}
}
