package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestSegPack: a segment plan's panels equal, bit for bit, the panels
// packed from im2col's matrix, by the vector loop and the Go loop: LeNet-5's
// two convolutions, rectangular kernels and planes, dilation, output rows
// of 1 column and of more than 32, a last panel short of columns, and K
// blocks starting inside the rows.
func TestSegPack(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, tc := range []struct{ c, h, w, kh, kw, d int }{
		{1, 28, 28, 5, 5, 1}, {20, 12, 12, 5, 5, 1}, {3, 9, 7, 3, 2, 1}, {3, 10, 11, 3, 3, 2}, {2, 6, 4, 2, 4, 1}, {1, 40, 45, 3, 3, 1},
	} {
		t.Run(fmt.Sprintf("%+v", tc), func(t *testing.T) {
			oh, ow := tc.h-(tc.kh-1)*tc.d, tc.w-(tc.kw-1)*tc.d
			g := geom{c: tc.c, h: tc.h, w: tc.w, kh: tc.kh, kw: tc.kw, sh: 1, sw: 1, dh: tc.d, dw: tc.d, oh: oh, ow: ow}
			p, err := newSegPlan(tc.c, tc.h, tc.w, tc.kh, tc.kw, tc.d, tc.d)
			if err != nil {
				t.Fatal(err)
			}
			if p.k != g.rows() || p.n != g.cols() {
				t.Fatalf("plan %d×%d, im2col %d×%d", p.k, p.n, g.rows(), g.cols())
			}
			x := randSlice(r, tc.c*tc.h*tc.w)
			col := make([]float32, p.k*p.n)
			im2col(col, x, g)
			for _, pc := range []int{0, p.k / 3} {
				kc := p.k - pc
				for q0 := 0; q0 < p.n; q0 += nr {
					want := make([]float32, kc*nr)
					packPanel(fkAVX512, want, col[q0:], p.n, true, 0, min(nr, p.n-q0), pc, kc, nr)
					for _, fk := range floatKernels() {
						got := randSlice(r, kc*nr)
						packSeg(fk, got, x, p, pc, kc, q0)
						if !sameBits32(got, want) {
							t.Fatalf("%v: rows %d.., columns %d..: the panel differs from im2col's", fk, pc, q0)
						}
					}
					got := randSlice(r, kc*nr)
					h := 2 * (q0 / nr)
					packSegGo(got, x, p.rowOff[pc:], p.segs[p.segAt[h]:p.segAt[h+2]], int(p.segAt[h+1]-p.segAt[h]))
					if !sameBits32(got, want) {
						t.Fatalf("Go loop: rows %d.., columns %d..: the panel differs from im2col's", pc, q0)
					}
				}
			}
		})
	}
}
