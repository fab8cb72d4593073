package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// shiftCases are shifted geometries (stride 1, output as wide as the input):
// 3×3 pad 1 at the zoo's sizes, taps entirely off tiny images, a 5×5, a
// dilated kernel, and an output shorter than the input (pad only in width).
var shiftCases = []struct{ c, h, w, kh, kw, ph, pw, d int }{
	{2, 5, 5, 3, 3, 1, 1, 1}, {3, 28, 28, 3, 3, 1, 1, 1}, {2, 14, 14, 3, 3, 1, 1, 1},
	{1, 7, 7, 3, 3, 1, 1, 1}, {2, 1, 1, 3, 3, 1, 1, 1}, {2, 2, 2, 3, 3, 1, 1, 1},
	{1, 4, 6, 5, 5, 2, 2, 1}, {2, 6, 5, 3, 3, 2, 2, 2}, {1, 2, 9, 7, 7, 3, 3, 1},
	{2, 9, 2, 3, 3, 1, 1, 1}, {3, 6, 40, 3, 3, 0, 1, 1}, {1, 11, 3, 1, 3, 0, 1, 1},
}

func shiftGeom(tc struct{ c, h, w, kh, kw, ph, pw, d int }) geom {
	g := geom{c: tc.c, h: tc.h, w: tc.w, kh: tc.kh, kw: tc.kw, sh: 1, sw: 1, ph: tc.ph, pw: tc.pw, dh: tc.d, dw: tc.d}
	g.oh, g.ow = outSize(g.h, g.kh, 1, g.ph, g.dh), outSize(g.w, g.kw, 1, g.pw, g.dw)
	return g
}

// forwardPlan returns a random image for g, its im2col matrix and the
// forward plan of g.
func forwardPlan(t *testing.T, r *rand.Rand, g geom) (x, col []float32, p *shiftPlan) {
	t.Helper()
	x = make([]float32, g.c*g.h*g.w)
	for i := range x {
		x[i] = float32(r.Float64()*2 - 1)
	}
	col = make([]float32, g.rows()*g.cols())
	im2col(col, x, g)
	p, err := newShiftPlan(g.c, g.oh, g.ow, g.h, g.w, convShifts(g, false))
	if err != nil {
		t.Fatal(err)
	}
	return x, col, p
}

// unpackPlan builds the plan's whole k×n matrix from packShift's panels,
// with the kernel fk and KC blocks of kc rows.
func unpackPlan(fk floatKernel, p *shiftPlan, src []float32, kc int) []float32 {
	b := make([]float32, p.k*p.n)
	panel := make([]float32, kc*nr)
	for q0 := 0; q0 < p.n; q0 += nr {
		for pc := 0; pc < p.k; pc += kc {
			rows := min(kc, p.k-pc)
			for i := range panel {
				panel[i] = 7 // stale values must be overwritten
			}
			packShift(fk, panel, src, p, pc, rows, q0)
			for r := 0; r < rows; r++ {
				for l := 0; l < nr && q0+l < p.n; l++ {
					b[(pc+r)*p.n+q0+l] = panel[r*nr+l]
				}
				for l := p.n - q0; l < nr; l++ {
					if panel[r*nr+l] != 0 {
						panic("packShift: nonzero past the last column")
					}
				}
			}
		}
	}
	return b
}

// TestShiftPlanIsIm2col checks the implicit matrix of a convolution's plan
// against im2col bit for bit, with the host's vector packing and with the
// Go loop, and the input gradient's plan against its definition.
func TestShiftPlanIsIm2col(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	kerns := floatKernels() // the Go loop (gonum's variant) and each vector form
	for _, tc := range shiftCases {
		g := shiftGeom(tc)
		name := fmt.Sprintf("%+v", tc)
		if !g.shifted() {
			t.Fatalf("%s: not a shifted geometry", name)
		}
		x, want, fwd := forwardPlan(t, r, g)
		// dy (c planes of oh×ow) shifted back onto the input grid:
		// B[(o,i,j)][(y,x)] = dy[o][y−dy_ij][x−dx_ij] inside the output.
		dy := make([]float32, g.c*g.oh*g.ow)
		for i := range dy {
			dy[i] = float32(r.Float64()*2 - 1)
		}
		back, err := newShiftPlan(g.c, g.h, g.w, g.oh, g.ow, convShifts(g, true))
		if err != nil {
			t.Fatal(err)
		}
		wantBack := make([]float32, back.k*back.n)
		for o := 0; o < g.c; o++ {
			for i := 0; i < g.kh; i++ {
				for j := 0; j < g.kw; j++ {
					row := wantBack[((o*g.kh+i)*g.kw+j)*back.n:]
					for y := 0; y < g.h; y++ {
						for x := 0; x < g.w; x++ {
							oy, ox := y-(i*g.dh-g.ph), x-(j*g.dw-g.pw)
							if oy >= 0 && oy < g.oh && ox >= 0 && ox < g.ow {
								row[y*g.w+x] = dy[(o*g.oh+oy)*g.ow+ox]
							}
						}
					}
				}
			}
		}
		for _, fk := range kerns {
			for _, kc := range []int{1, 5, blockKC} {
				got := unpackPlan(fk, fwd, x, kc)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%s %v kc=%d: forward element %d = %v, want im2col's %v", name, fk, kc, i, got[i], want[i])
					}
				}
				got = unpackPlan(fk, back, dy, kc)
				for i := range wantBack {
					if got[i] != wantBack[i] {
						t.Fatalf("%s %v kc=%d: gradient element %d = %v, want %v", name, fk, kc, i, got[i], wantBack[i])
					}
				}
			}
		}
	}
}

// unpackPlanT builds the plan's k×n matrix from packShiftT's transposed
// panels (32 rows of the plan each, KC blocks of kc columns).
func unpackPlanT(fk floatKernel, p *shiftPlan, src []float32, kc int) []float32 {
	b := make([]float32, p.k*p.n)
	panel := make([]float32, kc*nr)
	for r0 := 0; r0 < p.k; r0 += nr {
		rows := min(nr, p.k-r0)
		for pc := 0; pc < p.n; pc += kc {
			cols := min(kc, p.n-pc)
			for i := range panel {
				panel[i] = 7
			}
			packShiftT(fk, panel, src, p, r0, rows, pc, cols)
			for i := 0; i < cols; i++ {
				for j := 0; j < nr; j++ {
					v := panel[i*nr+j]
					if j >= rows {
						if v != 0 {
							panic("packShiftT: nonzero past the last row")
						}
						continue
					}
					b[(r0+j)*p.n+pc+i] = v
				}
			}
		}
	}
	return b
}

// TestShiftPlanTransposed checks the transposed packing (dW's colᵀ) against
// im2col bit for bit: 16×16 blocks in registers where the CPU has them,
// the Go loop for the edges and for KC blocks off a 16-column boundary.
func TestShiftPlanTransposed(t *testing.T) {
	r := rand.New(rand.NewPCG(73, 74))
	kerns := floatKernels() // the Go loop (gonum's variant) and each vector form
	cases := append(shiftCases, struct{ c, h, w, kh, kw, ph, pw, d int }{16, 14, 14, 3, 3, 1, 1, 1})
	for _, tc := range cases {
		g := shiftGeom(tc)
		x, want, fwd := forwardPlan(t, r, g)
		for _, fk := range kerns {
			for _, kc := range []int{5, 16, 48, blockKC} {
				got := unpackPlanT(fk, fwd, x, kc)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%+v %v kc=%d: element %d = %v, want im2col's %v", tc, fk, kc, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestShiftPlanErrors(t *testing.T) {
	if _, err := newShiftPlan(1, 4, 5, 4, 6, [][2]int{{0, 0}}); err == nil {
		t.Error("different pitches: no error")
	}
	if _, err := newShiftPlan(1, 4, 5, 4, 5, nil); err == nil {
		t.Error("no taps: no error")
	}
}

// TestPhaseSplit checks phaseSplit against the definition, on planes
// whose half rows are 1 to 20 floats.
func TestPhaseSplit(t *testing.T) {
	if !useRows32 {
		t.Skip("phaseSplit runs only with the AVX2 row loops (convState.stride2 requires them)")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct{ c, h, w int }{{1, 2, 2}, {3, 8, 6}, {16, 28, 28}, {2, 14, 40}, {5, 4, 34}} {
		x := f32s(r, tc.c*tc.h*tc.w)
		oh, ow := tc.h/2, tc.w/2
		want := make([]float32, len(x))
		for ch := 0; ch < tc.c; ch++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					for a := 0; a < 2; a++ {
						for b := 0; b < 2; b++ {
							want[((2*a+b)*tc.c+ch)*oh*ow+i*ow+j] = x[(ch*tc.h+2*i+a)*tc.w+2*j+b]
						}
					}
				}
			}
		}
		got := make([]float32, len(x))
		phaseSplit(got, x, tc.c, tc.h, tc.w)
		sameBitsAt(t, fmt.Sprintf("%+v", tc), got, want)
	}
}
