package fakequant

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// TestLSQMeanInit: the paper's step initialisation, worked by hand.
//
//	int4 signed, x = [1, -3, 2, -2]: mean|x| = 2, Qp = 7 → S = 4/√7 = 1.511858, Z = 0
//	uint2 affine, signed x = [-1, 0, 1, 2]: μ = 0.5, mean|x−μ| = 1, H = 1.5 → S = 2/√1.5 = 1.632993,
//	  Z = 0 + round(1.5 − 0.5/1.632993) = round(1.193814) = 1
//	uint2 affine, ReLU output x = [0, 0, 1, 3]: m = 0, mean = 1 → S = 2/√3 = 1.154701, Z = 0
//	int2 per-channel (axis 0), w = [[0.5, -0.5], [0, 0]]: Qp = 1 → S = [2·0.5, observer's] (an
//	  all-zero channel keeps the observer's step)
func TestLSQMeanInit(t *testing.T) {
	for _, test := range []struct {
		s     QScheme
		shape []int
		x     []float64
		scale []float64
		zp    []float64
	}{
		{QScheme{Bits: 4, Signed: true, Symmetric: true}, []int{4}, []float64{1, -3, 2, -2}, []float64{4 / math.Sqrt(7)}, nil},
		{QScheme{Bits: 2}, []int{4}, []float64{-1, 0, 1, 2}, []float64{2 / math.Sqrt(1.5)}, []float64{1}},
		{QScheme{Bits: 2}, []int{2, 2}, []float64{0, 0, 1, 3}, []float64{2 / math.Sqrt(3)}, []float64{0}},
		{QScheme{Bits: 2, Signed: true, Symmetric: true, Granularity: PerChannel}, []int{2, 2}, []float64{0.5, -0.5, 0, 0},
			[]float64{1, float64(Eps)}, nil},
	} {
		q, err := NewLSQ(newObs(test.s), WithMeanInit(true))
		if err != nil {
			t.Fatal(err)
		}
		gr := buildGraph(t, q, tensor.Float32, test.shape, test.x, make([]float64, len(test.x)), true)
		gr.run(t)
		p, err := q.QParams()
		if err != nil {
			t.Fatal(err)
		}
		for c, want := range test.scale {
			if math.Abs(float64(p.Scale[c])-want) > 1e-6*want {
				t.Errorf("%v: scale[%d] = %g, want %g", test.s, c, p.Scale[c], want)
			}
		}
		for c, want := range test.zp {
			if float64(p.ZeroPoint[c]) != want {
				t.Errorf("%v: zero point[%d] = %d, want %g", test.s, c, p.ZeroPoint[c], want)
			}
		}
	}
}

// TestLSQGradScale: g = 1/√(N·Qp) with N the elements one step learns from.
// One element per case is clipped above so dScale = g·(qmax−Z)·dy there;
// the rest are exactly 0 (dS = 0 inside at r − x/S = 0).
//
//	int4 per tensor, shape (2, 3):                 N = 6, Qp = 7  → g = 1/√42
//	int4 per channel (axis 0), shape (2, 3):       N = 3, Qp = 7  → g = 1/√21 per channel
//	uint4 activation (batch axis), shape (4, 5):   N = 5, Qp = 15 → g = 1/√75
//	uint4 without the batch axis, shape (4, 5):    N = 20         → g = 1/√300
func TestLSQGradScale(t *testing.T) {
	for _, test := range []struct {
		s     QScheme
		shape []int
		batch bool
		g     float64
	}{
		{QScheme{Bits: 4, Signed: true, Symmetric: true}, []int{2, 3}, false, 1 / math.Sqrt(42)},
		{QScheme{Bits: 4, Signed: true, Symmetric: true, Granularity: PerChannel}, []int{2, 3}, false, 1 / math.Sqrt(21)},
		{QScheme{Bits: 4}, []int{4, 5}, true, 1 / math.Sqrt(75)},
		{QScheme{Bits: 4}, []int{4, 5}, false, 1 / math.Sqrt(300)},
	} {
		q, err := NewLSQ(newObs(test.s), WithGradScaling(true), WithBatchAxis(test.batch))
		if err != nil {
			t.Fatal(err)
		}
		n := test.shape[0] * test.shape[1]
		x := make([]float64, n) // zeros: on the grid, dS term 0
		x[0] = 100              // clipped above in channel 0
		w := make([]float64, n)
		for i := range w {
			w[i] = 1
		}
		gr := buildGraph(t, q, tensor.Float32, test.shape, x, w, true)
		l, _ := shapeLayout(test.s, test.shape, n)
		scale, zp := make([]float64, l.channels), make([]float64, l.channels)
		for c := range scale {
			scale[c] = 1
		}
		setLSQ(q, scale, zp)
		gr.run(t)
		_, qmax := test.s.QRange()
		ds := values(t, gr.grads[1])
		if want := test.g * float64(qmax); math.Abs(ds[0]-want) > 1e-6 {
			t.Errorf("%v batch=%v: dScale[0] = %g, want g·qmax = %g", test.s, test.batch, ds[0], want)
		}
		for c := 1; c < len(ds); c++ {
			if ds[c] != 0 {
				t.Errorf("%v: dScale[%d] = %g, want 0", test.s, c, ds[c])
			}
		}
	}
}

// TestLSQFusedMatchesFloat64: the float32 one-pass backward (lsqSums32, the
// vector loop in the SIMD build) against the float64 path (lsqGrad, one pass
// per gradient), on random data with a third of the values clipped, per
// tensor and per channel: dX identical, dScale and dZeroPoint to 1e-4.
func TestLSQFusedMatchesFloat64(t *testing.T) {
	for _, test := range []struct {
		s     QScheme
		shape []int
	}{
		{QScheme{Bits: 2}, []int{8, 3, 40}},
		{QScheme{Bits: 4, Signed: true}, []int{5, 333}},
		{QScheme{Bits: 3, Signed: true, Symmetric: true, Granularity: PerChannel}, []int{6, 50}},
		{QScheme{Bits: 4, Granularity: PerChannel, Axis: 1}, []int{4, 3, 37}},
	} {
		r := rand.New(rand.NewPCG(3, 4))
		n := 1
		for _, d := range test.shape {
			n *= d
		}
		x, w := make([]float64, n), make([]float64, n)
		for i := range x {
			x[i] = 4 * r.NormFloat64()
			w[i] = r.NormFloat64()
		}
		// float32 data for both, so both see the same inputs
		for i := range x {
			x[i], w[i] = float64(float32(x[i])), float64(float32(w[i]))
		}
		l, _ := shapeLayout(test.s, test.shape, n)
		scale, zp := make([]float64, l.channels), make([]float64, l.channels)
		qmin, qmax := test.s.QRange()
		for c := range scale {
			scale[c] = float64(float32(0.5 + r.Float64()))
			if !test.s.Symmetric {
				zp[c] = float64(qmin + int32(r.IntN(int(qmax-qmin+1))))
			}
		}
		var got [2][][]float64
		for k, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			q, err := NewLSQ(newObs(test.s), WithGradScaling(true))
			if err != nil {
				t.Fatal(err)
			}
			gr := buildGraph(t, q, dt, test.shape, x, w, true)
			setLSQ(q, scale, zp)
			for run := 0; run < 2; run++ { // the second run reuses the fused results' buffers
				gr.run(t)
			}
			for _, g := range gr.grads {
				got[k] = append(got[k], values(t, g))
			}
		}
		for i := range got[0][0] {
			if got[0][0][i] != got[1][0][i] {
				t.Fatalf("%v: dX[%d] float32 %g float64 %g", test.s, i, got[0][0][i], got[1][0][i])
			}
		}
		for j := 1; j < len(got[0]); j++ {
			for c := range got[0][j] {
				a, b := got[0][j][c], got[1][j][c]
				if math.Abs(a-b) > 1e-4*max(1, math.Abs(b)) {
					t.Errorf("%v: gradient %d[%d]: float32 %g float64 %g", test.s, j, c, a, b)
				}
			}
		}
	}
}

// TestLSQSums32VectorMatchesScalar: the SIMD build's vector loop against the
// scalar loop on one run (tails and chunks included); the portable build
// compares the scalar loop with itself.
func TestLSQSums32VectorMatchesScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{7, 16, 33, 4096 + 21, 3*4096 + 16} {
		x, g := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(3 * r.NormFloat64())
			g[i] = float32(r.NormFloat64())
		}
		x[0] = float32(math.NaN())
		c := newSeg32(0.7, 1, 0, 3)
		d1, d2 := make([]float32, n), make([]float32, n)
		s1, o1 := lsqSums32(d1, x, g, c)
		s2, o2 := lsqSums32Generic(d2, x, g, c)
		for i := range d1 {
			if d1[i] != d2[i] {
				t.Fatalf("n=%d: dx[%d] %g vs %g", n, i, d1[i], d2[i])
			}
		}
		if math.Abs(s1-s2) > 1e-4*max(1, math.Abs(s2)) || math.Abs(o1-o2) > 1e-4*max(1, math.Abs(o2)) {
			t.Errorf("n=%d: sums (%g, %g) vs (%g, %g)", n, s1, o1, s2, o2)
		}
	}
}
