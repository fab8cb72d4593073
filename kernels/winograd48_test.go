package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// wino48Cases are geometries of the AVX2 F(4×4): resnet20's planes (28×28
// one tile row a group with a half-empty unit, 14×14 two rows, 7×7 two
// images a group), odd batches whose last group is partly empty, partial
// tiles and units at the planes' edges, paddings 0–2, channels past a
// block of four, two workers.
var wino48Cases = []winoConvCase{
	{2, 16, 28, 28, 1, 16, 1},
	{3, 16, 28, 28, 1, 16, 2},
	{9, 32, 7, 7, 1, 16, 2},
	{37, 64, 7, 7, 1, 64, 1},
	{5, 16, 14, 14, 1, 32, 1},
	{3, 16, 5, 9, 0, 17, 1},
	{2, 17, 6, 5, 2, 16, 1},
	{1, 16, 3, 37, 1, 16, 1},
	{7, 16, 3, 3, 1, 16, 2},
	{1, 16, 13, 12, 1, 18, 1},
	{3, 18, 32, 32, 1, 16, 2},
}

// TestWinograd48Conv checks the AVX2 F(4×4) forward and input gradient,
// with the Go transforms and (on AVX2 CPUs) the assembly, against direct
// sums in float64 (on AVX-512 CPUs the Go transforms with that GEMM).
func TestWinograd48Conv(t *testing.T) {
	if !winogradCPU(hostFloatKernel) {
		t.Skip("the F(4×4) GEMMs read V as packed panels, which only the AVX2 and AVX-512 kernels take")
	}
	r := rand.New(rand.NewPCG(63, 64))
	goTs := []bool{true}
	if hostFloatKernel == fkAVX2 { // the assembly transforms too
		goTs = append(goTs, false)
	}
	checkWinoConv(t, r, wino48Cases, goTs, func(tc winoConvCase) winoPasses {
		g := newWino48Geom(tc.c, tc.h, tc.w, tc.pad, tc.o)
		return winoPasses{
			oh: g.oh, ow: g.ow,
			forward: func(ws []winoWorker, goT bool, w, x, b, y []float32, done func(int, int, []float32)) {
				var wc wino48Conv
				wc.setWeights(w, tc.o, tc.c, false, tc.workers)
				wc.run(hostFloatKernel, g, ws, false, goT, x, nil, y, b, nil, tc.n, done)
			},
			backX: func(ws []winoWorker, goT bool, w, dy, dx []float32) {
				var wb wino48Conv
				wb.setWeights(w, tc.o, tc.c, true, tc.workers)
				wb.run(hostFloatKernel, newWino48Geom(tc.o, g.oh, g.ow, 2-tc.pad, tc.c), ws, true, goT, dy, nil, dx, nil, nil, tc.n, nil)
			},
			backW: func(ws []winoWorker, goT bool, x, dy, dw []float32) {
				for i := range dw {
					dw[i] = float32(math.NaN()) // every weight gradient written
				}
				wino48RunW(hostFloatKernel, g, ws, goT, x, nil, dy, dw, tc.n)
			},
		}
	})
}

// TestWinograd48SameBits runs the AVX2 F(4×4) transforms' assembly against
// wino48InputGo and wino48OutputGo on every group of a batch (empty units,
// units at the planes' right and bottom edges, 1–6 channels a call), bit
// for bit, the values around the outputs untouched.
func TestWinograd48SameBits(t *testing.T) {
	if hostFloatKernel != fkAVX2 || !winogradCPU(hostFloatKernel) {
		t.Skip("the AVX2 F(4×4) transforms run on AVX2 CPUs without AVX-512")
	}
	r := rand.New(rand.NewPCG(65, 66))
	for _, sz := range [][2]int{{28, 28}, {14, 14}, {7, 7}, {8, 8}, {5, 9}, {13, 12}, {3, 3}, {6, 30}, {11, 5}} {
		for _, nc := range []int{1, 4, 6} {
			for _, k := range []int{1, 3} {
				g := newWino48Geom(nc, sz[0], sz[1], 1, nc)
				groups := (k*g.units() + 3) / 4
				cols := 8 * groups
				ldv := nc * ((cols + nr - 1) / nr) * nr
				p := f32s(r, k*nc*g.plane)
				ldm := nc * cols
				m := f32s(r, 36*ldm)
				bias := f32s(r, nc)
				var goS, asmS wino48Scratch
				goS.scratch, asmS.scratch = make([]float32, 36*8), make([]float32, 36*8)
				vGo, vAsm := make([]float32, 36*ldv), make([]float32, 36*ldv)
				yGo, yAsm := make([]float32, k*nc*g.oh*g.ow), make([]float32, k*nc*g.oh*g.ow)
				for i := range yGo {
					yGo[i], yAsm[i] = 7, 7
				}
				// the output gradient's transform into rows of ldt floats
				ldt := cols + 5
				pd := f32s(r, k*nc*g.dplane)
				dGo, dAsm := make([]float32, 36*nc*ldt), make([]float32, 36*nc*ldt)
				what := fmt.Sprintf("%v nc %d k %d", sz, nc, k)
				// the batch norm's post-maps: a·y + sh, then the clamp
				var pm wino8Post
				pm.set(bias, f32s(r, nc), f32s(r, nc), 0.5, false)
				yAff, yAffAsm := make([]float32, len(yGo)), make([]float32, len(yGo))
				yClamp, yClampAsm := make([]float32, len(yGo)), make([]float32, len(yGo))
				for gi := 0; gi < groups; gi++ {
					goS.transform(true, false, vGo, ldv, nc*nr, nr, gi, k, p, g)
					asmS.transform(false, false, vAsm, ldv, nc*nr, nr, gi, k, p, g)
					goS.transform(true, true, dGo, nc*ldt, nr, ldt, gi, k, pd, g)
					asmS.transform(false, true, dAsm, nc*ldt, nr, ldt, gi, k, pd, g)
					goS.output(true, yGo, m, ldm, cols, gi, k, bias, 1, 0, g)
					asmS.output(false, yAsm, m, ldm, cols, gi, k, bias, 1, 0, g)
					goS.output(true, yAff, m, ldm, cols, gi, k, pm.chp, 4, 1, g)
					asmS.output(false, yAffAsm, m, ldm, cols, gi, k, pm.chp, 4, 1, g)
					goS.output(true, yClamp, m, ldm, cols, gi, k, pm.chp, 4, 2, g)
					asmS.output(false, yClampAsm, m, ldm, cols, gi, k, pm.chp, 4, 2, g)
				}
				sameBitsAt(t, what+" output, batch norm", yAffAsm, yAff)
				sameBitsAt(t, what+" output, batch norm and clamp", yClampAsm, yClamp)
				clamped := 0
				for _, v := range yClamp {
					if v == 0 || v == 0.5 {
						clamped++
					}
				}
				if clamped == 0 {
					t.Fatalf("%s: no output clamped", what)
				}
				sameBitsAt(t, what+" input", vAsm, vGo)
				sameBitsAt(t, what+" output", yAsm, yGo)
				sameBitsAt(t, what+" output gradient", dAsm, dGo)
				for i, v := range yGo {
					if v == 7 {
						t.Fatalf("%s: output %d not written", what, i)
					}
				}
			}
		}
	}
}

// TestWinograd48Choice pins which planes the AVX2 F(4×4) takes: those
// whose GEMM columns (eight a group of four units) are at most 80% of
// F(2×2)'s — resnet20's 28×28, 14×14 and 7×7, and wider ones — and only
// with the AVX2 kernel.
func TestWinograd48Choice(t *testing.T) {
	for _, c := range []struct {
		h, w int
		want bool
	}{{28, 28, true}, {14, 14, true}, {7, 7, true}, {8, 8, true}, {32, 32, true}, {56, 56, true}, {4, 4, false}, {5, 5, false}, {3, 3, false}, {6, 6, false}} {
		g := newWinoGeom(16, c.h, c.w, 1, 16)
		// (off amd64 no kernel has the transforms)
		if got, want := wino48Use(fkAVX2, g), c.want && winogradCPU(fkAVX2); got != want {
			t.Errorf("%d×%d: wino48Use = %v, want %v", c.h, c.w, got, want)
		}
		if wino48Use(fkAVX512, g) || wino48Use(fkGonum, g) {
			t.Errorf("%d×%d: taken for a kernel other than AVX2's", c.h, c.w)
		}
	}
}
