package fakequant

import (
	"math"
	"math/rand"
	"runtime"
	"testing"
)

// TestFakeQuantizeSplitIsExact checks that FakeQuantize and the gradient
// mask, split over cores above parGrain elements, give the bits and masks
// of one goroutine: per tensor, per channel on axis 1 of an activation-like
// shape and on axis 0 of a weight-like one, with non-finite values.
func TestFakeQuantizeSplitIsExact(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	cases := []struct {
		shape []int
		s     QScheme
	}{
		{[]int{3, 16, 50, 50}, QScheme{Bits: 8, Signed: false}},
		{[]int{3, 16, 50, 50}, QScheme{Bits: 4, Signed: true, Granularity: PerChannel, Axis: 1}},
		{[]int{70, 4, 31, 31}, QScheme{Bits: 8, Signed: true, Symmetric: true, Granularity: PerChannel, Axis: 0}},
	}
	for _, tc := range cases {
		n := 1
		for _, d := range tc.shape {
			n *= d
		}
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(rng.NormFloat64() * 3)
		}
		src[n/2], src[n/3], src[n-1] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))
		ch := 1
		if tc.s.Granularity == PerChannel {
			ch = tc.shape[tc.s.Axis]
		}
		mn, mx := make([]float32, ch), make([]float32, ch)
		for c := range mn {
			mn[c], mx[c] = -2-float32(c%3), 2+float32(c%5)
		}
		p, err := QParamsFromRange(tc.s, mn, mx)
		if err != nil {
			t.Fatal(err)
		}
		run := func(procs int) ([]float32, []bool, []float32) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			dst, mask := make([]float32, n), make([]bool, n)
			if err := FakeQuantize(dst, mask, src, p, tc.shape); err != nil {
				t.Fatal(err)
			}
			g := make([]float32, n)
			maskGrad32(g, src, mask)
			return dst, mask, g
		}
		d1, m1, g1 := run(1)
		d4, m4, g4 := run(4)
		for i := range d1 {
			if math.Float32bits(d1[i]) != math.Float32bits(d4[i]) || m1[i] != m4[i] || math.Float32bits(g1[i]) != math.Float32bits(g4[i]) {
				t.Fatalf("%v %v: element %d: one core %v/%v/%v, split %v/%v/%v", tc.shape, tc.s, i, d1[i], m1[i], g1[i], d4[i], m4[i], g4[i])
			}
		}
	}
}
