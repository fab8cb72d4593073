package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func BenchmarkWinogradTransforms(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ c, h int }{{16, 28}, {32, 14}, {64, 7}} {
		g := newWinoGeom(c.c, c.h, c.h, 1, c.c)
		nb := winoBatch(g.tiles())
		cols := nb * g.tiles()
		panels := (cols + nr - 1) / nr
		ldv := winoStride(g.c * panels * nr)
		p := f32s(r, g.c*g.plane)
		v := make([]float32, 16*ldv)
		ldm := winoStride(g.o * cols)
		m := f32s(r, 16*ldm)
		y := make([]float32, g.o*g.oh*g.ow)
		for _, packed := range []bool{false, true} {
			ps, cs := nr, cols
			if packed {
				ps, cs = g.c*nr, nr
			}
			b.Run(fmt.Sprintf("in/%dx%d/packed=%v", c.c, c.h, packed), func(b *testing.B) {
				var tr winoTransforms
				for i := 0; i < b.N; i++ {
					tr.input(hostFloatKernel, v, ldv, ps, cs, (i%nb)*g.tiles(), p, g)
				}
			})
		}
		b.Run(fmt.Sprintf("out/%dx%d", c.c, c.h), func(b *testing.B) {
			var tr winoTransforms
			for i := 0; i < b.N; i++ {
				tr.output(hostFloatKernel, y, m[(i%nb)*g.tiles():], ldm, cols, nil, nil, g)
			}
		})
	}
}

// BenchmarkWinoDot times the weight gradient's dot products (winoDotAsm)
// on one image's tiles of resnet20's 3×3 layers, rows packed back to back
// (ldt = t) and rows rounded up to whole cache lines.
func BenchmarkWinoDot(b *testing.B) {
	for _, c := range []struct {
		name    string
		o, c, t int
	}{{"16x16x196", 16, 16, 196}, {"32x32x245", 32, 32, 245}, {"64x64x256", 64, 64, 256}, {"16x16x98", 16, 16, 98}, {"16x16x147", 16, 16, 147}, {"32x32x128", 32, 32, 128}, {"64x64x64", 64, 64, 64}, {"64x64x128", 64, 64, 128}} {
		for _, ldt := range []int{c.t, (c.t + 15) / 16 * 16} {
			b.Run(fmt.Sprintf("%s_ldt%d", c.name, ldt), func(b *testing.B) {
				w := make([]float32, c.o*ldt+16)
				v := make([]float32, c.c*ldt+16)
				for i := range w {
					w[i] = float32(i%7) - 3
				}
				for i := range v {
					v[i] = float32(i%5) - 2
				}
				du := make([]float32, c.o*c.c)
				if !winoDotAsm(hostFloatKernel, w, v, ldt, c.t, du, c.o, c.c, false) {
					b.Skip("no winoDot assembly on this CPU")
				}
				for b.Loop() {
					winoDotAsm(hostFloatKernel, w, v, ldt, c.t, du, c.o, c.c, false)
				}
				flops := 2 * float64(c.o*c.c*c.t)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkWinogradRun times the forward of resnet20's 3×3 layers on 64
// images, on one and two workers, by F(2×2, 3×3) and F(4×4, 3×3).
func BenchmarkWinogradRun(b *testing.B) {
	if !winogradCPU(hostFloatKernel) {
		b.Skip("no Winograd assembly on this CPU")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ c, h, n int }{{16, 28, 64}, {16, 28, 256}, {32, 14, 64}, {32, 14, 256}, {64, 7, 64}, {64, 7, 256}} {
		g := newWinoGeom(c.c, c.h, c.h, 1, c.c)
		n := c.n
		x := f32s(r, n*c.c*c.h*c.h)
		y := make([]float32, n*c.c*c.h*c.h)
		w := f32s(r, c.c*c.c*9)
		var wc winoConv
		wc.setWeights(w, c.c, c.c, false, 1)
		var w4 wino4Conv
		if wino512(hostFloatKernel) {
			w4.setWeights(w, c.c, c.c, false, 1)
		}
		g4 := newWino4Geom(c.c, c.h, c.h, 1, c.c)
		for _, nw := range []int{1, 2} {
			ws := winoWorkers(new([]winoWorker), nw)
			b.Run(fmt.Sprintf("%dx%dx%d/F2/workers=%d", c.n, c.c, c.h, nw), func(b *testing.B) {
				for b.Loop() {
					wc.run(hostFloatKernel, g, ws, false, x, nil, y, nil, n, nil)
				}
			})
			if wino512(hostFloatKernel) { // F(4×4, 3×3) has AVX-512 transforms only
				b.Run(fmt.Sprintf("%dx%dx%d/F4/workers=%d", c.n, c.c, c.h, nw), func(b *testing.B) {
					for b.Loop() {
						w4.run(hostFloatKernel, g4, ws, false, false, x, nil, y, nil, nil, n, nil)
					}
				})
			}
		}
	}
}

// BenchmarkWinogradRunW times the weight gradient of resnet20's 3×3
// layers on 64 images, on one and two workers, by F(2×2, 3×3) and
// F(4×4, 3×3).
func BenchmarkWinogradRunW(b *testing.B) {
	if !winogradCPU(hostFloatKernel) {
		b.Skip("no Winograd assembly on this CPU")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ c, h, n int }{{16, 28, 64}, {32, 14, 64}, {64, 7, 64}} {
		g := newWinoGeom(c.c, c.h, c.h, 1, c.c)
		g4 := newWino4Geom(c.c, c.h, c.h, 1, c.c)
		x, dy := f32s(r, c.n*c.c*c.h*c.h), f32s(r, c.n*c.c*c.h*c.h)
		dw := make([]float32, c.c*c.c*9)
		for _, nw := range []int{1, 2} {
			ws := winoWorkers(new([]winoWorker), nw)
			b.Run(fmt.Sprintf("%dx%dx%d/F2/workers=%d", c.n, c.c, c.h, nw), func(b *testing.B) {
				for b.Loop() {
					winoRunW(hostFloatKernel, g, ws, x, nil, dy, dw, c.n)
				}
			})
			if wino512(hostFloatKernel) { // F(4×4, 3×3) has AVX-512 transforms only
				b.Run(fmt.Sprintf("%dx%dx%d/F4/workers=%d", c.n, c.c, c.h, nw), func(b *testing.B) {
					for b.Loop() {
						wino4RunW(hostFloatKernel, g4, ws, false, x, nil, dy, dw, c.n)
					}
				})
			}
		}
	}
}

// BenchmarkWino4Weights times F(4×4)'s weight transform in Go (the AVX2
// path's, every training step, forward and input gradient) on resnet20's
// 64 × 64 kernels.
func BenchmarkWino4Weights(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	const o, c = 64, 64
	w := f32s(r, o*c*9)
	ldu := winoStride(o * c)
	u := make([]float32, 36*ldu)
	for _, back := range []bool{false, true} {
		b.Run(fmt.Sprintf("back=%v", back), func(b *testing.B) {
			for b.Loop() {
				wino4Weights(u, ldu, w, o, c, back, 0, o)
			}
		})
	}
}
