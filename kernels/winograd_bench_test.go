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
				tr.output(hostFloatKernel, y, m[(i%nb)*g.tiles():], ldm, cols, nil, g)
			}
		})
	}
}
