package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestDwRows32: the depthwise layout's plane moves by whole row phases
// (dwRows32) write what the per-row Go loops write, for column strides 1
// and 2 with row strides 1–3, paddings 0–2, odd and even sizes, rows of
// 1 to 37 values (every tail length of the 16-value steps), three planes
// in one call, scatter into xph and gather back (with the rows no output
// reads cleared).
func TestDwRows32(t *testing.T) {
	if !useRows32 {
		t.Skip("no vector plane moves")
	}
	r := rand.New(rand.NewPCG(33, 34))
	for _, tc := range []struct{ h, w, k, sh, sw, p int }{
		{28, 28, 3, 2, 2, 1}, {14, 14, 3, 2, 2, 1}, {7, 7, 3, 2, 2, 1}, {28, 28, 3, 1, 1, 1}, {4, 4, 3, 1, 1, 1},
		{9, 37, 5, 3, 2, 2}, {5, 1, 1, 1, 1, 0}, {6, 2, 3, 2, 2, 0}, {11, 31, 3, 1, 2, 1}, {8, 17, 3, 2, 1, 2},
	} {
		t.Run(fmt.Sprintf("%+v", tc), func(t *testing.T) {
			oh, ow := (tc.h+2*tc.p-tc.k)/tc.sh+1, (tc.w+2*tc.p-tc.k)/tc.sw+1
			g := geom{c: 1, h: tc.h, w: tc.w, kh: tc.k, kw: tc.k, sh: tc.sh, sw: tc.sw, ph: tc.p, pw: tc.p, dh: 1, dw: 1, oh: oh, ow: ow}
			l := newDwLayout(g)
			const planes = 3
			x := randSlice(r, planes*tc.h*tc.w)
			x64 := make([]float64, len(x))
			for i, v := range x {
				x64[i] = float64(v)
			}
			kr64 := dwKernelsFor[float64]()
			plane := tc.h * tc.w
			want := make([]float64, planes*l.ps)
			for p := range planes {
				dwScatter(&l, want[p*l.ps:(p+1)*l.ps], x64[p*plane:(p+1)*plane], &kr64)
			}
			got := make([]float32, planes*l.ps)
			if !dwRows32(&l, got, x, planes, false) {
				t.Fatal("dwRows32 declined")
			}
			for i := range want {
				if float64(got[i]) != want[i] {
					t.Fatalf("scatter: xph[%d] = %v, the row loop gives %v", i, got[i], want[i])
				}
			}
			back := randSlice(r, len(x))
			if !dwRows32(&l, got, back, planes, true) {
				t.Fatal("dwRows32 declined")
			}
			want64 := make([]float64, len(x))
			for p := range planes {
				dwGather(&l, want64[p*plane:(p+1)*plane], want[p*l.ps:(p+1)*l.ps], &kr64)
			}
			for i := range want64 {
				if float64(back[i]) != want64[i] {
					t.Fatalf("gather: x[%d] = %v, the row loop gives %v", i, back[i], want64[i])
				}
			}
		})
	}
}
