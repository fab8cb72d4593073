package prune

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func TestMagnitudeMask(t *testing.T) {
	for i, test := range []struct {
		w    []float32
		s    float64
		want []bool
	}{
		// |w| order: 0.1 (i1), 0.2 (i3), 0.5 (i0), 0.7 (i4), 3 (i2).
		{[]float32{0.5, -0.1, 3, 0.2, -0.7}, 0.4, []bool{true, false, true, false, true}},
		{[]float32{0.5, -0.1, 3, 0.2, -0.7}, 0, []bool{true, true, true, true, true}},
		{[]float32{0.5, -0.1, 3, 0.2, -0.7}, 1, []bool{false, false, false, false, false}},
		// round(0.5*5) = 3 (half away from zero): 0.1, 0.2, 0.5 go.
		{[]float32{0.5, -0.1, 3, 0.2, -0.7}, 0.5, []bool{false, false, true, false, true}},
		// Ties: |w| = 1 four times; 0.5*4 = 2 pruned, lower indices first.
		{[]float32{1, -1, 1, -1}, 0.5, []bool{false, false, true, true}},
		// -0 and +0 tie; lower index first.
		{[]float32{2, 0, float32(math.Copysign(0, -1)), 1}, 0.25, []bool{true, false, true, true}},
		// round(0.3*3) = round(0.9) = 1.
		{[]float32{3, 2, 1}, 0.3, []bool{true, true, false}},
		{nil, 0.5, []bool{}},
	} {
		m, err := MagnitudeMask(test.w, test.s)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !slices.Equal([]bool(m), test.want) {
			t.Errorf("%d: got %v, want %v", i, m, test.want)
		}
	}
}

func TestPruneAndReapply(t *testing.T) {
	w := []float32{0.5, -0.1, 3, 0.2, -0.7, 0.05}
	m, err := Prune(w, 0.5) // 3 smallest: 0.05, 0.1, 0.2
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{0.5, 0, 3, 0, -0.7, 0}; !slices.Equal(w, want) {
		t.Fatalf("pruned %v, want %v", w, want)
	}
	if m.Kept() != 3 || m.Sparsity() != 0.5 {
		t.Fatalf("kept %d sparsity %v", m.Kept(), m.Sparsity())
	}
	// An optimizer step moves every weight; re-applying restores the zeros.
	for i := range w {
		w[i] += 0.01
	}
	if err := m.Apply(w); err != nil {
		t.Fatal(err)
	}
	if want := []float32{0.51, 0, 3.01, 0, -0.69, 0}; !slices.Equal(w, want) {
		t.Fatalf("re-applied %v, want %v", w, want)
	}
	if err := m.Apply(w[:2]); !errors.Is(err, ErrMaskLength) {
		t.Fatalf("err %v", err)
	}
}

func TestIntersect(t *testing.T) {
	a := Mask{true, true, false, false}
	b := Mask{true, false, true, false}
	r, err := a.Intersect(b)
	if err != nil || !slices.Equal(r, Mask{true, false, false, false}) {
		t.Fatalf("%v %v", r, err)
	}
}

func TestErrors(t *testing.T) {
	if _, err := MagnitudeMask([]float32{1}, 1.5); !errors.Is(err, ErrSparsity) {
		t.Error(err)
	}
	if _, err := MagnitudeMask([]float32{1}, math.NaN()); !errors.Is(err, ErrSparsity) {
		t.Error(err)
	}
	if _, err := MagnitudeMask([]float32{1, float32(math.Inf(1))}, 0.5); !errors.Is(err, ErrNonFinite) {
		t.Error(err)
	}
	if err := (Targets{Default: 0.5, PerLayer: map[string]float64{"fc1": 2}}).Validate(); !errors.Is(err, ErrSparsity) {
		t.Error(err)
	}
}

func TestTargets(t *testing.T) {
	tg := Targets{Default: 0.9, PerLayer: map[string]float64{"fc3": 0.74}}
	if tg.For("fc1") != 0.9 || tg.For("fc3") != 0.74 {
		t.Fatal(tg)
	}
}

func TestCubic(t *testing.T) {
	c := Cubic{Final: 0.8, End: 100}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		t    int
		want float64
	}{
		{-5, 0}, {0, 0},
		{50, 0.7},    // 0.8·(1 - 0.5^3) = 0.8·0.875
		{25, 0.4625}, // 0.8·(1 - 0.75^3) = 0.8·0.578125
		{100, 0.8}, {200, 0.8},
	} {
		if got := c.At(test.t); math.Abs(got-test.want) > 1e-12 {
			t.Errorf("At(%d) = %v, want %v", test.t, got, test.want)
		}
	}
	// Offset with an initial sparsity: halfway from 0.5 to 0.9 at t = 20.
	c = Cubic{Initial: 0.5, Final: 0.9, Begin: 10, End: 30}
	if got := c.At(20); math.Abs(got-0.85) > 1e-12 { // 0.9 - 0.4·0.125
		t.Errorf("got %v", got)
	}
	if err := (Cubic{Final: 0.5, Begin: 5, End: 5}).Validate(); !errors.Is(err, ErrSchedule) {
		t.Error(err)
	}
}

func TestStages(t *testing.T) {
	s := Stages{{0, 0.5}, {100, 0.8}, {200, 0.9}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		t    int
		want float64
	}{{-1, 0}, {0, 0.5}, {99, 0.5}, {100, 0.8}, {250, 0.9}} {
		if got := s.At(test.t); got != test.want {
			t.Errorf("At(%d) = %v, want %v", test.t, got, test.want)
		}
	}
	if err := (Stages{{0, 0.8}, {10, 0.5}}).Validate(); !errors.Is(err, ErrSchedule) {
		t.Error(err)
	}
	if err := (Stages{{10, 0.1}, {10, 0.5}}).Validate(); !errors.Is(err, ErrSchedule) {
		t.Error(err)
	}
}
