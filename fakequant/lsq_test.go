package fakequant

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qatgo/qatgo/internal/gradcheck"
	"gorgonia.org/tensor"
)

// setLSQ puts hand-chosen learned values into q (after Apply).
func setLSQ(q *LSQ, scale, zp []float64) {
	setFloats(q.scaleT, scale)
	if q.zpT != nil {
		setFloats(q.zpT, zp)
	}
	q.initialized = true
}

// TestLSQHandGradients: int4 [-8, 7], S = 0.5, learned zero point 1.2 → Z = 1,
// loss = Σ y (dy = 1):
//
//	x = 0.3:  x/S = 0.6 → q = 2, inside:  y = 0.5, dX = 1, dS = (0.5-0.3)/0.5 = 0.4, dZ = 0
//	x = 4.0:  x/S = 8   → q = 9, above:   y = 3.0, dX = 0, dS = qmax-Z = 6,  dZ = -S = -0.5
//	x = -5:   x/S = -10 → q = -9, below:  y = -4.5, dX = 0, dS = qmin-Z = -9, dZ = -0.5
//
// so dS = -2.6, dZ = -1; with gradient scaling both are divided by sqrt(N·qmax) = sqrt(21).
func TestLSQHandGradients(t *testing.T) {
	for _, scaling := range []bool{false, true} {
		q, err := NewLSQ(newObs(QScheme{Bits: 4, Signed: true}), WithGradScaling(scaling))
		if err != nil {
			t.Fatal(err)
		}
		gr := buildGraph(t, q, tensor.Float32, []int{3}, []float64{0.3, 4, -5}, []float64{1, 1, 1}, true)
		setLSQ(q, []float64{0.5}, []float64{1.2})
		gr.run(t)
		f := 1.0
		if scaling {
			f = 1 / math.Sqrt(21)
		}
		check := func(name string, got, want []float64) {
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-6 {
					t.Errorf("scaling=%v %s = %v, want %v", scaling, name, got, want)
					return
				}
			}
		}
		check("y", values(t, gr.y), []float64{0.5, 3, -4.5})
		check("dX", values(t, gr.grads[0]), []float64{1, 0, 0})
		check("dScale", values(t, gr.grads[1]), []float64{-2.6 * f})
		check("dZeroPoint", values(t, gr.grads[2]), []float64{-1 * f})
		p, err := q.QParams()
		if err != nil || p.Scale[0] != 0.5 || p.ZeroPoint[0] != 1 {
			t.Errorf("QParams %v %v", p, err)
		}
	}
}

// TestLSQInit: the first observed batch initialises scale and zero point from
// the observer; later batches neither move them nor feed the observer.
func TestLSQInit(t *testing.T) {
	obs := newObs(QScheme{Bits: 8})
	q, _ := NewLSQ(obs)
	if _, err := q.QParams(); err != ErrNotObserved {
		t.Fatalf("before init: %v", err)
	}
	gr := buildGraph(t, q, tensor.Float32, []int{4}, []float64{-1, 0, 1, 3}, []float64{1, 1, 1, 1}, true)
	gr.run(t)
	// [-1, 3]: S = 4/255, Z = 64
	if s := q.Scale().Data().([]float32); s[0] != float32(4.0/255) || q.ZeroPoint().Data().([]float32)[0] != 64 {
		t.Fatalf("init scale %v zp %v", s, q.ZeroPoint().Data())
	}
	if gr.b.nodes["scale"].Value() != q.Scale() {
		t.Errorf("bound value is not the quantizer's tensor")
	}
	copy(gr.x.Value().Data().([]float32), []float32{-10, 0, 10, 20})
	gr.run(t)
	if obs.Min[0] != -1 || obs.Max[0] != 3 || q.Scale().Data().([]float32)[0] != float32(4.0/255) {
		t.Errorf("observer or scale moved after init: [%g, %g] %v", obs.Min[0], obs.Max[0], q.Scale().Data())
	}
	// disabled: identity, no scale/zero-point gradient
	q.SetEnabled(false)
	gr.run(t)
	if y := values(t, gr.y); y[0] != -10 || y[3] != 20 {
		t.Errorf("disabled y %v", y)
	}
	if ds := values(t, gr.grads[1]); ds[0] != 0 {
		t.Errorf("disabled dScale %v", ds)
	}
	if got := q.String(); got != "uint8 affine per-tensor lsq(minmax)" {
		t.Errorf("String %q", got)
	}
}

// lsqPoints returns x whose codes avoid qmin and qmax (the clamp's kinks)
// and lie at least 0.1 from rounding ties: x = S·(k - Z + u), k an integer
// on or off the grid, |u| <= 0.4.
func lsqPoints(r *rand.Rand, n int, s QScheme, scale []float64, zp []float64, l layout) []float64 {
	qmin, qmax := s.QRange()
	x := make([]float64, n)
	off := 0
	for o := 0; o < l.outer; o++ {
		for c := 0; c < l.channels; c++ {
			z := math.RoundToEven(zp[c])
			for i := off; i < off+l.inner; i++ {
				k := int32(0)
				for k = qmin; k == qmin || k == qmax; {
					k = qmin - 3 + int32(r.IntN(int(qmax-qmin)+7))
				}
				x[i] = scale[c] * (float64(k) - z + 0.8*r.Float64() - 0.4)
			}
			off += l.inner
		}
	}
	return x
}

// TestLSQGradCheck: dX, dScale and dZeroPoint against central differences of
// the real op in float64 with rounding residuals frozen at the base point
// (round(v) = v + δ for the elements and for the zero point): that surrogate
// is the function whose exact derivative LSQ's straight-through gradient is.
func TestLSQGradCheck(t *testing.T) {
	for _, test := range []struct {
		s     QScheme
		shape []int
		opts  []Option
	}{
		{QScheme{Bits: 4, Signed: true}, []int{3, 5}, nil},
		{QScheme{Bits: 3}, []int{2, 3, 2}, nil}, // the gradient factor is covered by TestLSQHandGradients
		{QScheme{Bits: 4, Signed: true, Granularity: PerChannel, Axis: 1}, []int{2, 3, 2}, nil},
		{QScheme{Bits: 2, Signed: true, Symmetric: true, Granularity: PerChannel, Axis: 0}, []int{3, 4}, nil},
	} {
		r := rand.New(rand.NewPCG(9, 10))
		q, err := NewLSQ(newObs(test.s), test.opts...)
		if err != nil {
			t.Fatal(err)
		}
		n := 1
		for _, d := range test.shape {
			n *= d
		}
		l, _ := shapeLayout(test.s, test.shape, n)
		scale, zp := make([]float64, l.channels), make([]float64, l.channels)
		qmin, qmax := test.s.QRange()
		for c := range scale {
			scale[c] = 0.1 + r.Float64()
			zp[c] = float64(qmin) + 0.2 + 0.6*r.Float64() + float64(r.IntN(int(qmax-qmin))) // fractional, away from ties
		}
		if test.s.Symmetric {
			for c := range zp {
				zp[c] = float64(q.symZ())
			}
		}
		x := lsqPoints(r, n, test.s, scale, zp, l)
		w := make([]float64, n)
		for i := range w {
			w[i] = r.NormFloat64()
		}
		gr := buildGraph(t, q, tensor.Float64, test.shape, x, w, false)
		setLSQ(q, scale, zp)
		op := gr.y.Op().(*lsqOp)
		op.hook = &roundHook{
			elem: frozenResiduals(x, scale, l),
			zp:   func(c int, v float64) float64 { return v + math.RoundToEven(zp[c]) - zp[c] },
		}
		res, err := gradcheck.Graph(gr.loss, gr.wrt, gradcheck.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := n + l.channels
		if !test.s.Symmetric {
			want += l.channels
		}
		if !res.OK() || res.Skipped != 0 || res.Checked != want {
			t.Errorf("%v: %v (want %d checked)", test.s, res, want)
		}
	}
}

// TestLSQScaleGradClipped: on clipped elements the real forward is smooth in
// the scale ((qmax - Z)·S), so dScale is checked without any rounding hook;
// elements inside the grid get weight 0.
func TestLSQScaleGradClipped(t *testing.T) {
	s := QScheme{Bits: 4, Signed: true}
	q, _ := NewLSQ(newObs(s))
	x := []float64{5, -7, 0.3, 9.1, -0.2}
	w := []float64{1.5, -2, 0, 0.5, 0}
	gr := buildGraph(t, q, tensor.Float64, []int{5}, x, w, false)
	setLSQ(q, []float64{0.5}, []float64{1.3})
	res, err := gradcheck.Graph(gr.loss, gr.wrt[:2], gradcheck.Options{})
	if err != nil || !res.OK() || res.Checked != 6 {
		t.Errorf("%v %v", res, err)
	}
}
