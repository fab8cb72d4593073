package nn

import (
	"math/rand/v2"
	"testing"

	gblas "gonum.org/v1/gonum/blas/gonum"
)

// TestConvExact32 checks the float32 path of integer-exact evaluation
// against the float64 one on integer codes at the edge of exactIn32's
// bound (|x| ≤ 255, |w| ≤ 127, K = 3·3·56 = 504: 504·255·127 < 2^24), two
// groups, stride 2 and padding: equal accumulators, bit for bit.
func TestConvExact32(t *testing.T) {
	r := rand.New(rand.NewPCG(91, 92))
	const n, groups, cin, og = 3, 2, 112, 5
	g := convGeom{c: cin / groups, h: 9, w: 7, k: [2]int{3, 3}, s: [2]int{2, 2}, p: [2]int{1, 1}, d: [2]int{1, 1}}
	g.oh, g.ow = (g.h+2-3)/2+1, (g.w+2-3)/2+1
	k := g.c * 9
	if !exactIn32(k, 255, 127) || exactIn32(k+20, 255, 127) {
		t.Fatalf("exactIn32 at K=%d: bound misplaced", k)
	}
	hw := g.oh * g.ow
	per := groups * og * hw
	st := &intExactOp{ie: &intExact{}}
	st.ie.xi = make([]float64, n*cin*g.h*g.w)
	for i := range st.ie.xi {
		st.ie.xi[i] = float64(r.IntN(511) - 255)
	}
	st.wi = make([]float64, groups*og*k)
	for i := range st.wi {
		st.wi[i] = float64(r.IntN(255) - 127)
	}
	st.ie.xi[0], st.wi[0] = 255, 127
	st.ie.acc = make([]float64, n*per)
	st.convExact64(g, cin, n, groups, og, per, hw, gblas.Implementation{})
	want := append([]float64(nil), st.ie.acc...)
	clear(st.ie.acc)
	st.convExact32(g, cin, n, groups, og, per, hw)
	for i := range want {
		if st.ie.acc[i] != want[i] {
			t.Fatalf("acc[%d] = %v in float32, %v in float64", i, st.ie.acc[i], want[i])
		}
	}
}
