package fakequant

import (
	"errors"
	"testing"

	"gorgonia.org/tensor"
)

func TestStateRoundTrip(t *testing.T) {
	// Affine: observer range and flags survive.
	obs := newObs(QScheme{Bits: 8})
	q, _ := NewAffine(obs)
	_ = obs.Observe([]float32{-1, 3}, []int{2})
	q.SetEnabled(false)
	b, err := q.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	q2, _ := NewAffine(newObs(QScheme{Bits: 8}))
	if err := q2.UnmarshalState(b); err != nil {
		t.Fatal(err)
	}
	p, err := q2.QParams()
	if err != nil || p.Scale[0] != float32(4.0/255) || p.ZeroPoint[0] != 64 || q2.Enabled() {
		t.Errorf("affine restored: %v %v enabled=%v", p, err, q2.Enabled())
	}

	// LSQ: learned values, loaded before the first Apply, reach the tensors.
	l, _ := NewLSQ(newObs(QScheme{Bits: 4, Signed: true}))
	gr := buildGraph(t, l, tensor.Float32, []int{3}, []float64{0.3, 4, -5}, []float64{1, 1, 1}, false)
	setLSQ(l, []float64{0.5}, []float64{1.2})
	gr.run(t)
	b, err = l.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	l2, _ := NewLSQ(newObs(QScheme{Bits: 4, Signed: true}))
	if err := l2.UnmarshalState(b); err != nil {
		t.Fatal(err)
	}
	if p, err := l2.QParams(); err != nil || p.Scale[0] != 0.5 || p.ZeroPoint[0] != 1 {
		t.Errorf("lsq before Apply: %v %v", p, err)
	}
	buildGraph(t, l2, tensor.Float32, []int{3}, []float64{0, 0, 0}, []float64{1, 1, 1}, false)
	if z := l2.ZeroPoint().Data().([]float32); z[0] != 1.2 || !l2.Initialized() {
		t.Errorf("lsq after Apply: zp %v init %v", z, l2.Initialized())
	}

	// PoT
	pq, _ := NewPowerOfTwo(3)
	pq.observe(5.6)
	b, _ = pq.MarshalState()
	pq2, _ := NewPowerOfTwo(3)
	if err := pq2.UnmarshalState(b); err != nil {
		t.Fatal(err)
	}
	if pp, err := pq2.Params(); err != nil || pp.MaxExp != 2 {
		t.Errorf("pot restored %v %v", pp, err)
	}

	// Identity
	b, _ = Identity{}.MarshalState()
	if err := (Identity{}).UnmarshalState(b); err != nil {
		t.Error(err)
	}
}

func TestStateErrors(t *testing.T) {
	aff, _ := NewAffine(newObs(QScheme{Bits: 8}))
	lsq, _ := NewLSQ(newObs(QScheme{Bits: 8}))
	good, _ := aff.MarshalState()
	for i, test := range []struct {
		q Quantizer
		b string
	}{
		{aff, ""},
		{aff, "{"},
		{aff, "not json"},
		{aff, `{"version":2,"kind":"affine","enabled":true,"observing":true}`},
		{aff, `{"version":1,"kind":"lsq","enabled":true,"observing":true}`},
		{aff, `{"version":1,"kind":"affine","bogus":1}`},
		{aff, string(good) + "{}"},
		{lsq, `{"version":1,"kind":"lsq","enabled":true,"observing":true,"initialized":true}`},
		{lsq, `{"version":1,"kind":"lsq","scale":[-1],"zero_point":[0]}`},
		{lsq, `{"version":1,"kind":"lsq","scale":[1,2],"zero_point":[0]}`},
		{Identity{}, string(good)},
	} {
		if err := test.q.UnmarshalState([]byte(test.b)); !errors.Is(err, ErrState) {
			t.Errorf("%d: got %v, want ErrState", i, err)
		}
	}
	// a corrupt observer blob is the observer's error
	if err := aff.UnmarshalState([]byte(`{"version":1,"kind":"affine","observer":"bm90IGpzb24="}`)); err == nil {
		t.Error("corrupt observer state accepted")
	}
}

func TestPoTOp(t *testing.T) {
	q, err := NewPowerOfTwo(2) // exponents MaxExp-2 .. MaxExp
	if err != nil {
		t.Fatal(err)
	}
	x := []float64{0.3, -1, 2.9, 0.1, 0}
	gr := buildGraph(t, q, tensor.Float32, []int{5}, x, []float64{1, 2, 3, 4, 5}, true)
	gr.run(t)
	// max|x| = 2.9 → MaxExp = round(1.54) = 2; exponents 0..2 = {1, 2, 4}.
	// 0.3 → log2 -1.74 → -2 < 0 → 0; -1 → -1; 2.9 → 4; 0.1 → 0; 0 → 0.
	want := []float64{0, -1, 4, 0, 0}
	for i, v := range values(t, gr.y) {
		if v != want[i] {
			t.Errorf("y = %v, want %v", values(t, gr.y), want)
			break
		}
	}
	// nothing saturates with the observed max: gradient passes everywhere
	for i, v := range values(t, gr.grads[0]) {
		if v != float64(i+1) {
			t.Errorf("dx = %v", values(t, gr.grads[0]))
			break
		}
	}
	q.SetObserving(false)
	copy(gr.x.Value().Data().([]float32), []float32{8, 1, 1, 1, 1})
	gr.run(t)
	if y, g := values(t, gr.y), values(t, gr.grads[0]); y[0] != 4 || g[0] != 0 || g[1] != 2 {
		t.Errorf("saturated: y %v dx %v", y, g)
	}
	if _, err := q.QParams(); !errors.Is(err, ErrNotLinear) {
		t.Errorf("QParams: %v", err)
	}
	if _, err := NewPowerOfTwo(3, WithGradScaling(true)); err == nil {
		t.Error("LSQ option accepted by PoT")
	}
	if _, err := NewAffine(newObs(QScheme{Bits: 8}), WithMaxExp(1)); err == nil {
		t.Error("PoT option accepted by Affine")
	}
	f, _ := NewPowerOfTwo(3, WithMaxExp(0))
	if p, _ := f.Params(); p.MaxExp != 0 || f.String() != "pot3 maxexp 0" {
		t.Errorf("fixed: %v %q", p, f.String())
	}
}

func TestIdentity(t *testing.T) {
	gr := buildGraph(t, Identity{}, tensor.Float32, []int{2}, []float64{1.23, -4}, []float64{1, 1}, true)
	gr.run(t)
	if gr.y != gr.x || Identity.String(Identity{}) != "fp32" {
		t.Errorf("identity")
	}
}
