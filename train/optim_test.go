package train

import (
	"errors"
	"math"
	"runtime"
	"testing"
)

func approx(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

// Hand-worked SGD with momentum 0.9 and weight decay 0.1 on w = [1, -2]:
// step 1: g = grad + 0.1·w = [0.5+0.1, 1-0.2] = [0.6, 0.8]; buf = g; w -= 0.1·buf → [0.94, -2.08]
// step 2 (same grad): g = [0.5+0.094, 1-0.208] = [0.594, 0.792];
// buf = 0.9·[0.6, 0.8] + g = [1.134, 1.512]; w → [0.94-0.1134, -2.08-0.1512] = [0.8266, -2.2312]
func TestSGDMomentumHandWorked(t *testing.T) {
	o := &SGD{Momentum: 0.9, WeightDecay: 0.1}
	w := []float32{1, -2}
	g := []float32{0.5, 1}
	ts := []Tensor{{Name: "w", Value: w, Grad: g, Decay: true}}
	if err := o.Step(ts, 0.1); err != nil {
		t.Fatal(err)
	}
	if !approx(float64(w[0]), 0.94, 1e-6) || !approx(float64(w[1]), -2.08, 1e-6) {
		t.Fatalf("after step 1: %v", w)
	}
	if err := o.Step(ts, 0.1); err != nil {
		t.Fatal(err)
	}
	if !approx(float64(w[0]), 0.8266, 1e-6) || !approx(float64(w[1]), -2.2312, 1e-6) {
		t.Fatalf("after step 2: %v", w)
	}
}

func TestSGDNoDecayOnBiasAndLRScale(t *testing.T) {
	o := &SGD{WeightDecay: 0.5}
	w := []float32{1}
	if err := o.Step([]Tensor{{Name: "b", Value: w, Grad: []float32{1}, LRScale: 0.5}}, 0.2); err != nil {
		t.Fatal(err)
	}
	// No decay, lr 0.2·0.5: 1 - 0.1 = 0.9.
	if !approx(float64(w[0]), 0.9, 1e-7) {
		t.Fatalf("got %v", w)
	}
}

// Adam's first step moves every weight by lr·sign(g) (bias correction makes
// m̂ = g and v̂ = g², so m̂/(√v̂+ε) ≈ ±1).
func TestAdamFirstStep(t *testing.T) {
	o := &Adam{}
	w := []float32{1, 1, 1}
	if err := o.Step([]Tensor{{Name: "w", Value: w, Grad: []float32{3, -0.01, 0}}}, 0.01); err != nil {
		t.Fatal(err)
	}
	want := []float64{0.99, 1.01, 1}
	for i := range w {
		if !approx(float64(w[i]), want[i], 1e-5) {
			t.Fatalf("w[%d] = %v, want %v", i, w[i], want[i])
		}
	}
	// Second step with the same gradient 3: m = 0.9·0.3 + 0.1·3 = 0.57, m̂ = 0.57/0.19 = 3;
	// v = 0.999·0.009 + 0.001·9 = 0.017991, v̂ = 0.017991/0.001999 = 9 → another lr·1.
	if err := o.Step([]Tensor{{Name: "w", Value: w, Grad: []float32{3, -0.01, 0}}}, 0.01); err != nil {
		t.Fatal(err)
	}
	if !approx(float64(w[0]), 0.98, 1e-5) {
		t.Fatalf("w[0] after 2 steps = %v, want 0.98", w[0])
	}
}

func TestOptimizerStateRoundTrip(t *testing.T) {
	for _, name := range []string{"sgd", "adam", "adamw"} {
		a, _ := NewOptimizer(name, 0.9, 1e-4)
		b, _ := NewOptimizer(name, 0.9, 1e-4)
		wa := []float32{1, 2, 3}
		wb := []float32{1, 2, 3}
		g := []float32{0.1, -0.2, 0.3}
		for i := 0; i < 3; i++ {
			if err := a.Step([]Tensor{{Value: wa, Grad: g, Decay: true}}, 0.1); err != nil {
				t.Fatal(err)
			}
			if err := b.Step([]Tensor{{Value: wb, Grad: g, Decay: true}}, 0.1); err != nil {
				t.Fatal(err)
			}
		}
		st, err := a.MarshalState()
		if err != nil {
			t.Fatal(err)
		}
		c, _ := NewOptimizer(name, 0.9, 1e-4)
		if err := c.UnmarshalState(st); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wc := append([]float32(nil), wa...)
		if err := a.Step([]Tensor{{Value: wa, Grad: g, Decay: true}}, 0.1); err != nil {
			t.Fatal(err)
		}
		if err := c.Step([]Tensor{{Value: wc, Grad: g, Decay: true}}, 0.1); err != nil {
			t.Fatal(err)
		}
		for i := range wa {
			if wa[i] != wc[i] {
				t.Fatalf("%s: restored optimizer diverges: %v vs %v", name, wa, wc)
			}
		}
		// Corrupt, truncated and wrong-kind states are rejected.
		for _, bad := range [][]byte{nil, st[:len(st)/2], append(append([]byte(nil), st...), 7)} {
			if err := c.UnmarshalState(bad); !errors.Is(err, ErrBadOptimizerState) {
				t.Fatalf("%s: corrupt state accepted: %v", name, err)
			}
		}
	}
	s, _ := NewOptimizer("sgd", 0.9, 0)
	a, _ := NewOptimizer("adam", 0, 0)
	st, _ := s.MarshalState()
	if err := a.UnmarshalState(st); err == nil {
		t.Fatal("adam accepted sgd state")
	}
	if _, err := NewOptimizer("rmsprop", 0, 0); err == nil {
		t.Fatal("unknown optimizer accepted")
	}
}

func TestSchedules(t *testing.T) {
	for i, test := range []struct {
		spec  string
		epoch int
		frac  float64
		want  float64
	}{
		{"constant", 5, 0.5, 0.1},
		{"step:2:0.1", 0, 0.9, 0.1},
		{"step:2:0.1", 2, 0, 0.01},
		{"step:2:0.1", 5, 0, 0.001},
		{"cosine", 0, 0, 0.1},
		{"cosine", 2, 0, 0.05},      // half way through 4 epochs
		{"cosine:0.02", 4, 0, 0.02}, // the end
		{"cosine", 1, 0, 0.1 * 0.5 * (1 + math.Cos(math.Pi/4))},
	} {
		s, err := ParseSchedule(test.spec, 4)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if got := s.LR(0.1, test.epoch, test.frac); !approx(float64(got), test.want, 1e-6) {
			t.Errorf("%d %s epoch %d: got %v want %v", i, test.spec, test.epoch, got, test.want)
		}
	}
	for _, bad := range []string{"step", "step:0:0.1", "step:a:b", "cosine:x", "linear"} {
		if _, err := ParseSchedule(bad, 4); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestSGDSplitSameBits: a tensor large enough for SGD to split it over the
// cores (4 procs here) gets the same bits as the per-element reference, with
// momentum and with Nesterov, over three steps.
func TestSGDSplitSameBits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const n = 5*sgdGrain + 7
	for _, nesterov := range []bool{false, true} {
		w, g := make([]float32, n), make([]float32, n)
		for i := range w {
			w[i], g[i] = float32(math.Sin(float64(i))), float32(math.Cos(float64(3*i)))
		}
		ref := append([]float32(nil), w...)
		buf := make([]float32, n)
		o := &SGD{Momentum: 0.9, WeightDecay: 5e-4, Nesterov: nesterov}
		for step := range 3 {
			if err := o.Step([]Tensor{{Name: "w", Value: w, Grad: g, Decay: true}}, 0.05); err != nil {
				t.Fatal(err)
			}
			for j := range ref {
				gj := g[j] + o.WeightDecay*ref[j]
				if step == 0 {
					buf[j] = gj
				} else {
					buf[j] = o.Momentum*buf[j] + gj
				}
				if nesterov {
					ref[j] -= 0.05 * (gj + o.Momentum*buf[j])
				} else {
					ref[j] -= 0.05 * buf[j]
				}
			}
			for j := range ref {
				if math.Float32bits(ref[j]) != math.Float32bits(w[j]) {
					t.Fatalf("nesterov=%v step %d: w[%d] = %v, want %v", nesterov, step, j, w[j], ref[j])
				}
			}
		}
	}
}
