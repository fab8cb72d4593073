package intruntime

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkWgGemm times one block's 16 GEMMs on resnet20's 3×3 shapes
// (host.wg), in G multiply-adds a second of the GEMMs themselves.
func BenchmarkWgGemm(b *testing.B) {
	if host.wg.gemm == nil {
		b.Skip("no Winograd kernels on this CPU")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct{ c, h int }{{16, 28}, {32, 14}, {64, 7}} {
		w := make([]int8, c.c*c.c*9)
		for i := range w {
			w[i] = int8(rng.IntN(255) - 127)
		}
		p := newWgPlan(w, c.c, c.c, 3, 3, c.h, c.h, 1, 1, host.wg.input4 != nil)
		v := make([]uint32, p.vLen())
		m := make([]int32, p.mLen())
		for i := range v {
			v[i] = rng.Uint32() & 0x01ff01ff
		}
		nv, panels := p.tb/8, p.mp/4
		b.Run(fmt.Sprintf("c%d_%dx%d_F%d_tb%d", c.c, c.h, c.h, p.r, p.tb), func(b *testing.B) {
			for b.Loop() {
				for xi := range p.np {
					host.wg.gemm(m[xi*p.mxs:], p.tb, p.u[xi*panels*p.cp*4:], v[xi*p.vxs:], p.tb, p.cp, nv, panels)
				}
			}
			b.ReportMetric(float64(p.np*p.mp*p.cin*p.tb)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}

// BenchmarkWgRun times a whole Winograd convolution's integer passes
// (frames, transforms, GEMMs; no requantization) on resnet20's 3×3 shapes,
// 8 images a round, in µs an image.
func BenchmarkWgRun(b *testing.B) {
	if host.wg.gemm == nil {
		b.Skip("no Winograd kernels on this CPU")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct{ c, h int }{{16, 28}, {32, 14}, {64, 7}} {
		w := make([]int8, c.c*c.c*9)
		for i := range w {
			w[i] = int8(rng.IntN(255) - 127)
		}
		p := newWgPlan(w, c.c, c.c, 3, 3, c.h, c.h, 1, 1, host.wg.input4 != nil)
		const n = 8
		x := make([]uint8, c.c*n*c.h*c.h)
		for i := range x {
			x[i] = uint8(rng.IntN(256))
		}
		frames := make([]uint8, p.images*p.frameBytes()+slack)
		acc := make([]int32, p.m*p.images*p.plane)
		v, m := make([]uint32, p.vLen()), make([]int32, p.mLen())
		scratch := make([]uint32, wgScratch)
		hw := c.h * c.h
		b.Run(fmt.Sprintf("c%d_%dx%d_F%d_tb%d", c.c, c.h, c.h, p.r, p.tb), func(b *testing.B) {
			for b.Loop() {
				for b0 := 0; b0 < n; b0 += p.images {
					nb := min(p.images, n-b0)
					p.run(&host.wg, acc, x[b0*hw:], n*hw, c.h, c.h, nb, frames, p.images*p.hf*p.wf, v, m, scratch, host.frameRows)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N*n), "µs/image")
		})
	}
}
