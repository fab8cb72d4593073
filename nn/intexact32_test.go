package nn

import (
	"math/rand/v2"
	"testing"

	gblas "gonum.org/v1/gonum/blas/gonum"
)

// TestConvExact32 checks the float32 path of integer-exact evaluation
// against the float64 one on integer codes (|x| ≤ 255, |w| ≤ 127), two
// groups, stride 2 and padding, bit for bit: at the edge of exactIn32's
// bound in one chunk (K = 3·3·56 = 504: 504·255·127 < 2^24), and past it
// (K = 3·3·200 = 1800) in chunks of exactChunk's size and of 7 terms.
func TestConvExact32(t *testing.T) {
	if k := 3 * 3 * 56; !exactIn32(k, 255, 127) || exactIn32(k+20, 255, 127) || exactChunk(k, 255, 127) != k {
		t.Fatalf("exactIn32 at K=%d: bound misplaced", k)
	}
	if c := exactChunk(1800, 255, 127); !exactIn32(c, 255, 127) || exactIn32(c+1, 255, 127) {
		t.Fatalf("exactChunk(1800) = %d, not the bound", c)
	}
	if exactChunk(10, 1<<12, 1<<12) != 0 {
		t.Fatal("exactChunk admits a product of 2^24")
	}
	for _, tc := range []struct{ cin, kc int }{{112, 0}, {400, 0}, {400, 7}} {
		r := rand.New(rand.NewPCG(91, 92))
		const n, groups, og = 3, 2, 5
		g := convGeom{c: tc.cin / groups, h: 9, w: 7, k: [2]int{3, 3}, s: [2]int{2, 2}, p: [2]int{1, 1}, d: [2]int{1, 1}}
		g.oh, g.ow = (g.h+2-3)/2+1, (g.w+2-3)/2+1
		k := g.c * 9
		kc := tc.kc
		if kc == 0 {
			kc = exactChunk(k, 255, 127)
		}
		hw := g.oh * g.ow
		per := groups * og * hw
		st := &intExactOp{ie: &intExact{}}
		st.ie.xi = make([]float64, n*tc.cin*g.h*g.w)
		// Past the bound the codes are large and positive, so that the
		// sums pass 2^24 and a float32 sum of all K terms would round.
		lo := 0
		if !exactIn32(k, 255, 127) {
			lo = 200
		}
		for i := range st.ie.xi {
			st.ie.xi[i] = float64(lo + r.IntN(256-lo))
			if lo == 0 {
				st.ie.xi[i] = float64(r.IntN(511) - 255)
			}
		}
		st.wi = make([]float64, groups*og*k)
		for i := range st.wi {
			st.wi[i] = float64(lo/2 + r.IntN(128-lo/2))
			if lo == 0 {
				st.wi[i] = float64(r.IntN(255) - 127)
			}
		}
		// the extreme products, which the bound is for
		for i := range 40 {
			st.ie.xi[i], st.wi[i] = 255, 127
		}
		st.ie.acc = make([]float64, n*per)
		st.convExact64(g, tc.cin, n, groups, og, per, hw, gblas.Implementation{})
		want := append([]float64(nil), st.ie.acc...)
		clear(st.ie.acc)
		st.ie.x32 = to32(nil, st.ie.xi)
		st.w32 = to32(nil, st.wi)
		st.convExact32(g, tc.cin, n, groups, og, per, hw, kc)
		for i := range want {
			if st.ie.acc[i] != want[i] {
				t.Fatalf("cin %d, chunks of %d: acc[%d] = %v in float32, %v in float64", tc.cin, kc, i, st.ie.acc[i], want[i])
			}
		}
	}
}
