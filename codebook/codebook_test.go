package codebook

import (
	"errors"
	"math"
	"math/rand"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/qatgo/qatgo/kmeans"
)

// The 4x4 example of the lecture (weight sharing, centroid fine-tuning):
// centroids -1, 0, 1.5, 2 (clusters 0..3) and these indices and gradients.
var (
	lectureIdx = []int32{
		3, 0, 2, 1,
		1, 1, 0, 3,
		0, 3, 1, 0,
		3, 1, 2, 2,
	}
	lectureGrad = []float64{
		-0.03, -0.01, 0.03, 0.02,
		-0.01, 0.01, -0.02, 0.12,
		-0.01, 0.02, 0.04, 0.01,
		-0.07, -0.02, 0.01, -0.02,
	}
)

// centroidGrad builds loss = Σ W ⊙ R, so that dL/dW = R, and returns the
// forward weights and dL/dcentroids.
func centroidGrad(t *testing.T, cb *Codebook, r []float64) (w, g []float64) {
	t.Helper()
	gr := G.NewGraph()
	c, W, err := cb.Build(gr)
	if err != nil {
		t.Fatal(err)
	}
	R := G.NewTensor(gr, tensor.Float64, len(cb.Shape), G.WithShape(cb.Shape...), G.WithName("R"),
		G.WithValue(tensor.New(tensor.WithShape(cb.Shape...), tensor.WithBacking(r))))
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(W, R))))
	if _, err := G.Grad(loss, c); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(gr)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	gv, err := c.Grad()
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(W.Value().Data().([]float64)), slices.Clone(gv.Data().([]float64))
}

func TestLectureCentroidGradient(t *testing.T) {
	cent := []float64{-1, 0, 1.5, 2}
	for _, test := range []struct {
		rule Rule
		mask []bool
		want []float64
	}{
		// Grouped by cluster:
		//   0: -0.01 -0.02 -0.01 +0.01        sum -0.03, 4 members
		//   1: +0.02 -0.01 +0.01 +0.04 -0.02  sum +0.04, 5 members
		//   2: +0.03 +0.01 -0.02              sum +0.02, 3 members
		//   3: -0.03 +0.12 +0.02 -0.07        sum +0.04, 4 members
		{Sum, nil, []float64{-0.03, 0.04, 0.02, 0.04}},
		{Mean, nil, []float64{-0.0075, 0.008, 0.02 / 3, 0.01}},
		// Prune weight 7 (cluster 3, gradient 0.12) and weight 10 (cluster
		// 1, gradient 0.04): sums -0.03, 0.00, 0.02, -0.08; cluster 3 then
		// has 3 members, cluster 1 has 4.
		{Sum, pruned(16, 7, 10), []float64{-0.03, 0, 0.02, -0.08}},
		{Mean, pruned(16, 7, 10), []float64{-0.0075, 0, 0.02 / 3, -0.08 / 3}},
	} {
		cb, err := New("fc", []int{4, 4}, cent, lectureIdx, test.mask, test.rule)
		if err != nil {
			t.Fatal(err)
		}
		w, g := centroidGrad(t, cb, lectureGrad)
		for j := range g {
			if math.Abs(g[j]-test.want[j]) > 1e-12 {
				t.Errorf("%v mask=%v: grad %v, want %v", test.rule, test.mask != nil, g, test.want)
				break
			}
		}
		for i, j := range lectureIdx {
			want := cent[j]
			if test.mask != nil && !test.mask[i] {
				want = 0
			}
			if w[i] != want {
				t.Errorf("weight %d = %v, want %v", i, w[i], want)
			}
		}
	}
}

func pruned(n int, idx ...int) []bool {
	m := make([]bool, n)
	for i := range m {
		m[i] = true
	}
	for _, i := range idx {
		m[i] = false
	}
	return m
}

// TestNumericGradient checks the Sum rule against central differences of a
// nonlinear loss L = Σ R ⊙ tanh(W)² through the graph, in float64.
func TestNumericGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	shape := []int{3, 5}
	k := 4
	cent := []float64{-0.7, -0.1, 0.3, 0.9}
	idx := make([]int32, 15)
	r := make([]float64, 15)
	for i := range idx {
		idx[i] = int32(rng.Intn(k))
		r[i] = rng.NormFloat64()
	}
	cb, err := New("l", shape, cent, idx, pruned(15, 2, 11), Sum)
	if err != nil {
		t.Fatal(err)
	}
	gr := G.NewGraph()
	c, W, err := cb.Build(gr)
	if err != nil {
		t.Fatal(err)
	}
	R := G.NewTensor(gr, tensor.Float64, 2, G.WithShape(shape...), G.WithName("R"),
		G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(r))))
	th := G.Must(G.Tanh(W))
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(R, G.Must(G.Square(th))))))
	if _, err := G.Grad(loss, c); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(gr)
	defer m.Close()
	run := func() float64 {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		return loss.Value().Data().(float64)
	}
	run()
	gv, _ := c.Grad()
	analytic := slices.Clone(gv.Data().([]float64))
	data := cb.Centroids.Data().([]float64)
	const h = 1e-6
	for j := 0; j < k; j++ {
		orig := data[j]
		data[j] = orig + h
		up := run()
		data[j] = orig - h
		down := run()
		data[j] = orig
		num := (up - down) / (2 * h)
		if d := math.Abs(num - analytic[j]); d > 1e-6*math.Max(1, math.Abs(num)) {
			t.Errorf("centroid %d: analytic %v, numeric %v", j, analytic[j], num)
		}
	}
}

func TestFloat32Forward(t *testing.T) {
	w := []float32{0.9, -1.1, 0, 1.0, -0.9, 0.05, 0, 2}
	mask := []bool{true, true, false, true, true, true, false, true}
	cb, err := FromWeights("f", []int{2, 4}, w, mask, 2, kmeans.Linear, nil, Sum)
	if err != nil {
		t.Fatal(err)
	}
	gr := G.NewGraph()
	c, W, err := cb.Build(gr)
	if err != nil {
		t.Fatal(err)
	}
	loss := G.Must(G.Sum(W))
	if _, err := G.Grad(loss, c); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(gr)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := W.Value().Data().([]float32)
	if !slices.Equal(got, cb.Weights()) {
		t.Fatalf("forward %v, Weights %v", got, cb.Weights())
	}
	if got[2] != 0 || got[6] != 0 {
		t.Fatalf("pruned weights not zero: %v", got)
	}
	// dL/dc = number of unpruned members of each cluster.
	gv, _ := c.Grad()
	var total float32
	for _, v := range gv.Data().([]float32) {
		total += v
	}
	if total != 6 {
		t.Fatalf("gradient %v sums to %v, want 6", gv.Data(), total)
	}
	l := cb.Layer(nil)
	if err := l.Validate(); err != nil || !slices.Equal(l.Weights(), cb.Weights()) {
		t.Fatalf("layer %v", err)
	}
}

func TestTwoAppliesNotMerged(t *testing.T) {
	a, _ := New("a", []int{2}, []float64{1, 2}, []int32{0, 1}, nil, Sum)
	b, _ := New("b", []int{2}, []float64{1, 2}, []int32{1, 0}, nil, Sum)
	gr := G.NewGraph()
	c := a.CentroidNode(gr)
	wa, err := a.Apply(c)
	if err != nil {
		t.Fatal(err)
	}
	wb, err := b.Apply(c)
	if err != nil {
		t.Fatal(err)
	}
	if wa == wb {
		t.Fatal("two codebook ops merged")
	}
	m := G.NewTapeMachine(gr)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(wa.Value().Data().([]float64), []float64{1, 2}) || !slices.Equal(wb.Value().Data().([]float64), []float64{2, 1}) {
		t.Fatal(wa.Value(), wb.Value())
	}
}

func TestErrors(t *testing.T) {
	for i, f := range []func() error{
		func() error { _, err := New("x", []int{2, 2}, []float32{1}, []int32{0, 0, 0}, nil, Sum); return err },
		func() error { _, err := New("x", []int{2}, []float32{1}, []int32{0, 1}, nil, Sum); return err },
		func() error { _, err := New("x", []int{2}, []float32{1}, []int32{0, 0}, []bool{true}, Sum); return err },
		func() error { _, err := New("x", []int{2}, []float32{}, []int32{0, 0}, nil, Sum); return err },
		func() error { _, err := New("x", []int{2}, []float32{1}, []int32{0, 0}, nil, Rule(5)); return err },
	} {
		if err := f(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%d: err %v", i, err)
		}
	}
	// A pruned entry may carry any index (kmeans gives -1).
	if _, err := New("x", []int{2}, []float32{1}, []int32{0, -1}, []bool{true, false}, Sum); err != nil {
		t.Error(err)
	}
	cb, _ := New("x", []int{2}, []float32{1, 2}, []int32{0, 1}, nil, Sum)
	gr := G.NewGraph()
	wrong := G.NewVector(gr, tensor.Float64, G.WithShape(2), G.WithName("c"))
	if _, err := cb.Apply(wrong); !errors.Is(err, ErrNode) {
		t.Error(err)
	}
}

func TestSolverUpdatesCentroids(t *testing.T) {
	// loss = Σ W with W = c[idx]: dL/dc = (2, 1) (cluster sizes); one SGD
	// step at lr 0.5 moves c from (1, 3) to (0, 2.5), and Weights follows.
	cb, _ := New("s", []int{3}, []float32{1, 3}, []int32{0, 1, 0}, nil, Sum)
	gr := G.NewGraph()
	c, W, _ := cb.Build(gr)
	loss := G.Must(G.Sum(W))
	if _, err := G.Grad(loss, c); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(gr, G.BindDualValues(c))
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	s := G.NewVanillaSolver(G.WithLearnRate(0.5))
	if err := s.Step(G.NodesToValueGrads(G.Nodes{c})); err != nil {
		t.Fatal(err)
	}
	if got := cb.Weights(); !slices.Equal(got, []float32{0, 2.5, 0}) {
		t.Fatalf("weights after step %v", got)
	}
}
