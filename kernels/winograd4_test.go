package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// wino4Cases are F(4×4) geometries: planes of whole and partial tiles,
// groups of several images per vector (7×7, 5×5, 3×3), a batch over two
// workers, paddings 0–2 and the deepest forward and input gradient.
var wino4Cases = []winoConvCase{
	{2, 16, 28, 28, 1, 16, 1},
	{3, 16, 28, 28, 1, 16, 2},
	{9, 32, 7, 7, 1, 16, 2},
	{37, 64, 7, 7, 1, 64, 1},
	{5, 16, 14, 14, 1, 32, 1},
	{3, 16, 5, 9, 0, 17, 1},
	{2, 17, 6, 5, 2, 16, 1},
	{1, 16, 3, 37, 1, 16, 1},
	{7, 16, 3, 3, 1, 16, 2},
	{1, 256, 8, 8, 1, 32, 1},
	{1, 32, 8, 8, 1, 256, 1},
}

// wino4Tol is the error allowed against the exact sum: F(2×2)'s (F(4×4)'s
// transforms carry entries up to 5 and 8, and the weights' sixths are
// rounded, but on values in [−1, 1] its largest error was 22% of this).
func wino4Tol(c int) float64 { return winoTol(c) }

// TestWinograd4Conv checks the F(4×4) forward and input gradient, with the
// Go transforms and the assembly, against direct sums in float64.
func TestWinograd4Conv(t *testing.T) {
	if !wino512(hostFloatKernel) {
		t.Skip("F(4×4, 3×3) runs only where the GEMMs take its packed panels (AVX-512)")
	}
	r := rand.New(rand.NewPCG(61, 62))
	checkWinoConv(t, r, wino4Cases, []bool{true, false}, func(tc winoConvCase) winoPasses {
		g := newWino4Geom(tc.c, tc.h, tc.w, tc.pad, tc.o)
		return winoPasses{
			oh: g.oh, ow: g.ow,
			forward: func(ws []winoWorker, goT bool, w, x, b, y []float32, done func(int, int, []float32)) {
				var wc wino4Conv
				wc.setWeights(w, tc.o, tc.c, false, tc.workers)
				wc.run(hostFloatKernel, g, ws, false, goT, x, nil, y, b, nil, tc.n, done)
			},
			backX: func(ws []winoWorker, goT bool, w, dy, dx []float32) {
				var wb wino4Conv
				wb.setWeights(w, tc.o, tc.c, true, tc.workers)
				wb.run(hostFloatKernel, newWino4Geom(tc.o, g.oh, g.ow, 2-tc.pad, tc.c), ws, true, goT, dy, nil, dx, nil, nil, tc.n, nil)
			},
			backW: func(ws []winoWorker, goT bool, x, dy, dw []float32) {
				wino4RunW(hostFloatKernel, g, ws, goT, x, nil, dy, dw, tc.n)
			},
		}
	})
}

// winoConvCase is a Winograd test geometry: n images of c×h×w, padding
// pad, o output channels, on workers workers.
type winoConvCase struct {
	n, c, h, w, pad, o, workers int
}

// winoPasses are one F(4×4) implementation's forward, input gradient and
// weight gradient on a test case's geometry (output oh×ow).
type winoPasses struct {
	oh, ow  int
	forward func(ws []winoWorker, goT bool, w, x, b, y []float32, done func(int, int, []float32))
	backX   func(ws []winoWorker, goT bool, w, dy, dx []float32)
	backW   func(ws []winoWorker, goT bool, x, dy, dw []float32)
}

// checkWinoConv runs each case's passes (for each goT of goTs) against
// direct sums in float64: every forward output written and done called
// once an image, errors within wino4Tol (forward, input gradient) and
// 2e-6 per summed product (weight gradient); it logs the largest shares
// of the allowed error.
func checkWinoConv(t *testing.T, r *rand.Rand, cases []winoConvCase, goTs []bool, passes func(winoConvCase) winoPasses) {
	t.Helper()
	worst, worstW := 0.0, 0.0
	for _, tc := range cases {
		x := f32s(r, tc.n*tc.c*tc.h*tc.w)
		w := f32s(r, tc.o*tc.c*9)
		b := f32s(r, tc.o)
		p := ConvParams{Pad: [2]int{tc.pad, tc.pad}}
		want, shape := refConv(f64s(x), f64s(w), f64s(b), []int{tc.n, tc.c, tc.h, tc.w}, []int{tc.o, tc.c, 3, 3}, p)
		ps := passes(tc)
		if ps.oh != shape[2] || ps.ow != shape[3] {
			t.Fatalf("%+v: output %d×%d, want %v", tc, ps.oh, ps.ow, shape)
		}
		dy := f32s(r, len(want))
		wantDx, wantDw := refConvGrads(f64s(x), f64s(dy), f64s(w), tc.n, tc.c, tc.h, tc.w, tc.pad, tc.o)
		for _, goT := range goTs {
			name := fmt.Sprintf("%+v/goT=%v", tc, goT)
			var scratch []winoWorker
			ws := winoWorkers(&scratch, tc.workers)
			y := make([]float32, len(want))
			for i := range y {
				y[i] = float32(math.NaN()) // every output written
			}
			seen := make([]int, tc.workers)
			ps.forward(ws, goT, w, x, b, y, func(wk, _ int, _ []float32) { seen[wk]++ })
			if total := sumInts(seen); total != tc.n {
				t.Errorf("%s: done called %d times for %d images", name, total, tc.n)
			}
			worst = max(worst, winoCompare4(t, name+" forward", y, want, wino4Tol(tc.c)))

			dx := make([]float32, len(wantDx))
			ps.backX(ws, goT, w, dy, dx)
			worst = max(worst, winoCompare4(t, name+" dx", dx, wantDx, wino4Tol(tc.o)))

			dw := make([]float32, len(wantDw))
			ps.backW(ws, goT, x, dy, dw)
			worstW = max(worstW, winoCompare4(t, name+" dw", dw, wantDw, 2e-6*float64(tc.n*ps.oh*ps.ow)))
		}
	}
	t.Logf("largest error / allowed: %.3f (forward, input gradient), %.3f (weight gradient)", worst, worstW)
}

func sumInts(s []int) int {
	t := 0
	for _, v := range s {
		t += v
	}
	return t
}

// winoCompare4 is winoCompare returning the largest error over tol.
func winoCompare4(t *testing.T, what string, got []float32, want []float64, tol float64) float64 {
	t.Helper()
	worst := 0.0
	for i := range want {
		d := math.Abs(float64(got[i]) - want[i])
		if d > tol || math.IsNaN(d) {
			t.Fatalf("%s: element %d = %v, want %v (off by %.3g, allowed %.3g)", what, i, got[i], want[i], d, tol)
		}
		worst = max(worst, d/tol)
	}
	return worst
}

// TestWinograd4TransformsSameBits runs the F(4×4) transforms' assembly
// against wino4InputGo and wino4OutputGo on the same chunks (the input's
// and the output gradient's, into packed panels and into rows): groups of
// one to sixteen tiles, chunks that cross a 32-column panel, partial
// tiles at the plane's edges, several channels a call.
func TestWinograd4TransformsSameBits(t *testing.T) {
	if !wino512(hostFloatKernel) {
		t.Skip("no F(4×4) assembly on this CPU")
	}
	r := rand.New(rand.NewPCG(63, 64))
	for _, tc := range []struct{ c, h, w, o, c0 int }{
		{16, 28, 28, 16, 0}, {16, 28, 28, 16, 13}, {32, 7, 7, 20, 4}, {17, 14, 14, 16, 30},
		{16, 5, 9, 3, 0}, {16, 3, 37, 16, 7}, {16, 1, 1, 16, 31},
		{24, 6, 6, 16, 0}, {16, 8, 8, 32, 17}, // quad mode (2×2 tiles)
	} {
		g := newWino4Geom(tc.c, tc.h, tc.w, 1, tc.o)
		var s wino4Scratch
		s.scratch = make([]float32, 36*16)
		for gk := 1; gk <= g.group; gk++ {
			lanes := gk * g.tiles()
			cols := tc.c0 + lanes
			panels := (cols + nr - 1) / nr
			ldv := winoStride(g.c * panels * nr)
			p := f32s(r, g.group*g.c*g.plane+wino4Slack)
			name := fmt.Sprintf("%+v/%d images", tc, gk)
			// the input (x) and the output gradient (dy), V packed and
			// in rows (the weight gradient's layout)
			for _, dy := range []bool{false, true} {
				for _, rows := range []bool{false, true} {
					ps, cs := g.c*nr, nr
					if rows {
						ps, cs = nr, cols
					}
					v1, v2 := f32s(r, 36*ldv), make([]float32, 36*ldv)
					copy(v2, v1)
					in := wino4InChunks(g, lanes, tc.c0, ps)
					s.transform(true, dy, v1, ldv, ps, cs, in, tc.c0, lanes, p, g)
					s.transform(false, dy, v2, ldv, ps, cs, in, tc.c0, lanes, p, g)
					sameBitsAt(t, fmt.Sprintf("%s input dy=%v rows=%v", name, dy, rows), v2, v1)
				}
			}

			// the output with its bias, without and with the evaluation
			// batch norm, unclamped, clamped to [0, 6] and ReLU'd
			ldm := winoStride(g.o * cols)
			m := f32s(r, 36*ldm)
			chp := f32s(r, 4*g.o)
			outImg := g.o * g.oh * g.ow
			out := wino4OutChunks(g, lanes, tc.c0)
			// (rows mode: plus a residual addend, unclamped and clamped)
			for _, post := range []struct {
				mode int
				hi   float32
			}{{postNone, 0}, {postAffine, 0}, {postClamp, 6}, {postClamp, float32(math.Inf(1))}, {postRes, 0}, {postResClamp, 6}, {postResClamp, float32(math.Inf(1))}} {
				var res []float32
				if post.mode == postRes || post.mode == postResClamp {
					if !g.rows {
						continue
					}
					res = f32s(r, gk*outImg)
				}
				for o := range g.o {
					chp[4*o+3] = post.hi
				}
				y1, y2 := f32s(r, gk*outImg), make([]float32, gk*outImg)
				copy(y2, y1)
				s.output(true, y1, m, ldm, cols, out, tc.c0, lanes, chp, res, post.mode, g)
				s.output(false, y2, m, ldm, cols, out, tc.c0, lanes, chp, res, post.mode, g)
				sameBitsAt(t, fmt.Sprintf("%s output post %d hi %v", name, post.mode, post.hi), y2, y1)
			}
		}
	}
}

func sameBitsAt(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestWinograd4WeightsPacked: the assembly's transform (AVX-512 or AVX2)
// written straight into packed panels (setPacked, two workers) gives the
// operands the Go
// transform (wino4Weights, row-major) and PackA give, bit for bit (padding rows 0): row counts
// not a multiple of 16 or of 4, one row, forward and input gradient.
func TestWinograd4WeightsPacked(t *testing.T) {
	if !wino4WeightsPackedAsm(hostFloatKernel, nil, 0, nil, 0, 0, false, 0, 0) {
		t.Skip("no F(4×4) weight assembly on this CPU")
	}
	r := rand.New(rand.NewPCG(67, 68))
	for _, tc := range []struct{ o, c int }{{16, 16}, {17, 33}, {64, 40}, {3, 20}, {20, 3}, {1, 5}, {38, 64}} {
		w := f32s(r, tc.o*tc.c*9)
		for _, back := range []bool{false, true} {
			var want, got winoPacked
			want.set(w, tc.o, tc.c, back, 1, 36, func(u []float32, ldu, lo, hi int) { wino4Weights(u, ldu, w, tc.o, tc.c, back, lo, hi) })
			if !got.setPacked(hostFloatKernel, w, tc.o, tc.c, back, 2, 36, func(dst []float32, ldu, lo, hi int) bool {
				return wino4WeightsPackedAsm(hostFloatKernel, dst, ldu, w, tc.o, tc.c, back, lo, hi)
			}) {
				t.Fatal("no assembly")
			}
			for x := range 36 {
				pw, pg := &want.mul[x].pa, &got.mul[x].pa
				what := fmt.Sprintf("%+v back=%v matrix %d", tc, back, x)
				if pg.m != pw.m || pg.k != pw.k || pg.kern != pw.kern || len(pg.data) != len(pw.data) {
					t.Fatalf("%s: packed %d×%d for %v, %d floats; want %d×%d for %v, %d", what, pg.m, pg.k, pg.kern, len(pg.data), pw.m, pw.k, pw.kern, len(pw.data))
				}
				// Padding rows (past m in the last panel) hold the transform
				// of a zero kernel: ±0, which the GEMM's discarded rows
				// multiply; PackA clears them to +0.
				for i, v := range pg.data {
					if row := i/(4*pw.k)*4 + i%4; row >= pw.m {
						if v != 0 {
							t.Fatalf("%s: padding row %d = %v", what, row, v)
						}
					} else if math.Float32bits(v) != math.Float32bits(pw.data[i]) {
						t.Fatalf("%s: row %d: element %d = %v, want %v", what, row, i, v, pw.data[i])
					}
				}
			}
		}
	}
}

// TestWinograd4Choice checks which planes run F(4×4): two tile rows a
// vector (28×28, 14×14, 26×26), several images a vector (7×7), not wider
// planes (32×32, 56×56: every value gathered) nor planes whose 4×4 tiles
// compute more than a third more than 2×2 tiles (10×10, 5×5).
func TestWinograd4Choice(t *testing.T) {
	if !wino512(hostFloatKernel) {
		t.Skip("F(4×4) runs only on AVX-512")
	}
	for _, tc := range []struct {
		h    int
		want bool
	}{{28, true}, {14, true}, {26, true}, {7, true}, {5, false}, {56, false}, {32, false}, {10, false}} {
		g := newWinoGeom(16, tc.h, tc.h, 1, 16)
		if got := wino4Use(hostFloatKernel, g); got != tc.want {
			g4 := newWino4Geom(16, tc.h, tc.h, 1, 16)
			t.Errorf("%d×%d: wino4Use = %v, want %v (tiles %d×%d, rows %v, group %d)", tc.h, tc.h, got, tc.want, g4.th, g4.tw, g4.rows, g4.group)
		}
	}
}
