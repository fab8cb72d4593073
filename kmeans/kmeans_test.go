package kmeans

import (
	"errors"
	"math"
	"math/rand"
	"slices"
	"testing"
)

func TestClusterClumps(t *testing.T) {
	// Three tight clumps around -1, 0.5 and 2: every init must find the
	// clump means exactly (up to float rounding).
	x := []float32{-1.1, -1, -0.9, 0.4, 0.5, 0.6, 1.9, 2, 2.1, 2.0}
	want := []float64{-1, 0.5, 2}
	wantAssign := []int32{0, 0, 0, 1, 1, 1, 2, 2, 2, 2}
	for _, init := range []Init{Linear, Density, Random, PlusPlus} {
		r, err := Cluster(x, Options{K: 3, Init: init, Rand: rand.New(rand.NewSource(1))})
		if err != nil {
			t.Fatalf("%v: %v", init, err)
		}
		if len(r.Centroids) != 3 {
			t.Fatalf("%v: centroids %v", init, r.Centroids)
		}
		for j, c := range r.Centroids {
			if math.Abs(float64(c)-want[j]) > 1e-6 {
				t.Errorf("%v: centroid %d = %v, want %v", init, j, c, want[j])
			}
		}
		if !slices.Equal(r.Assign, wantAssign) {
			t.Errorf("%v: assign %v, want %v", init, r.Assign, wantAssign)
		}
		if !r.Converged {
			t.Errorf("%v: not converged", init)
		}
		// SSE: 2*0.1^2 per clump, (-0.1, 0, 0.1) three times.
		if math.Abs(r.SSE-0.06) > 1e-6 {
			t.Errorf("%v: SSE %v, want 0.06", init, r.SSE)
		}
	}
}

func TestClusterHandWorkedLloyd(t *testing.T) {
	// x = 0, 1, 2, 10, k = 2, linear init: c = (0, 10), midpoint 5:
	// clusters {0,1,2} -> mean 1 and {10} -> 10; next iteration unchanged.
	r, err := Cluster([]float32{10, 0, 2, 1}, Options{K: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Centroids, []float32{1, 10}) || !slices.Equal(r.Assign, []int32{1, 0, 0, 0}) {
		t.Fatalf("got %v %v", r.Centroids, r.Assign)
	}
	// SSE = 1 + 1 + 0 + 0.
	if r.SSE != 2 || r.Iter != 2 {
		t.Fatalf("SSE %v iter %d, want 2 and 2", r.SSE, r.Iter)
	}
}

func TestClusterFewDistinct(t *testing.T) {
	for i, test := range []struct {
		x    []float32
		k    int
		want []float32
		asg  []int32
	}{
		{[]float32{3, 1, 3, 2}, 3, []float32{1, 2, 3}, []int32{2, 0, 2, 1}},
		{[]float32{3, 1, 3, 2}, 8, []float32{1, 2, 3}, []int32{2, 0, 2, 1}},
		{[]float32{5, 5, 5}, 4, []float32{5}, []int32{0, 0, 0}},         // all equal
		{[]float32{-2, -2}, 1, []float32{-2}, []int32{0, 0}},            // all equal, k=1
		{[]float32{7}, 16, []float32{7}, []int32{0}},                    // one point
		{[]float32{1, 2, 3, 4}, 1, []float32{2.5}, []int32{0, 0, 0, 0}}, // k=1 -> mean
	} {
		r, err := Cluster(test.x, Options{K: test.k})
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !slices.Equal(r.Centroids, test.want) || !slices.Equal(r.Assign, test.asg) {
			t.Errorf("%d: got %v %v, want %v %v", i, r.Centroids, r.Assign, test.want, test.asg)
		}
	}
}

func TestClusterMask(t *testing.T) {
	// Pruned entries (mask false, or exact zero with IgnoreZeros) are not
	// clustered: otherwise the zeros would pull a centroid to 0.
	x := []float32{0, -1, 0, 1, 0, 3}
	mask := []bool{false, true, false, true, false, true}
	for _, opt := range []Options{{K: 2, Mask: mask}, {K: 2, IgnoreZeros: true}} {
		r, err := Cluster(x, opt)
		if err != nil {
			t.Fatal(err)
		}
		// Linear init (-1, 3), midpoint 1 -> {-1, 1} mean 0, {3}.
		if !slices.Equal(r.Centroids, []float32{0, 3}) || !slices.Equal(r.Assign, []int32{-1, 0, -1, 0, -1, 1}) {
			t.Errorf("got %v %v", r.Centroids, r.Assign)
		}
	}
}

func TestClusterEmptyReseed(t *testing.T) {
	// Linear init over [0, 100] with k = 3 puts a centroid at 50 where no
	// point is: that cluster is empty after the first assignment and must be
	// re-seeded, ending with three non-empty clusters.
	x := []float32{0, 1, 2, 98, 99, 100}
	r, err := Cluster(x, Options{K: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.Reseeded == 0 {
		t.Errorf("expected a re-seed")
	}
	seen := map[int32]int{}
	for _, a := range r.Assign {
		seen[a]++
	}
	if len(seen) != 3 {
		t.Errorf("clusters used %v, centroids %v", seen, r.Centroids)
	}
	if !slices.IsSorted(r.Centroids) {
		t.Errorf("unsorted %v", r.Centroids)
	}
}

func TestClusterDeterministic(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	x := make([]float32, 5000)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for _, init := range []Init{Random, PlusPlus} {
		a, _ := Cluster(x, Options{K: 16, Init: init, Rand: rand.New(rand.NewSource(42))})
		b, _ := Cluster(x, Options{K: 16, Init: init, Rand: rand.New(rand.NewSource(42))})
		if !slices.Equal(a.Centroids, b.Centroids) || !slices.Equal(a.Assign, b.Assign) {
			t.Errorf("%v: same seed, different result", init)
		}
	}
}

func TestClusterNearest(t *testing.T) {
	// Property: every point is assigned its nearest centroid, and at
	// convergence each centroid is (close to) the mean of its points.
	rng := rand.New(rand.NewSource(3))
	x := make([]float32, 20000)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 0.05)
	}
	for _, init := range []Init{Linear, Density, Random, PlusPlus} {
		r, err := Cluster(x, Options{K: 32, Init: init, Rand: rand.New(rand.NewSource(1))})
		if err != nil {
			t.Fatal(err)
		}
		sum := make([]float64, len(r.Centroids))
		cnt := make([]int, len(r.Centroids))
		for i, v := range x {
			a := r.Assign[i]
			d := math.Abs(float64(v - r.Centroids[a]))
			for _, c := range r.Centroids {
				if math.Abs(float64(v-c)) < d-1e-9 {
					t.Fatalf("%v: point %v assigned %v but %v is nearer", init, v, r.Centroids[a], c)
				}
			}
			sum[a] += float64(v)
			cnt[a]++
		}
		if !r.Converged {
			t.Errorf("%v: not converged in %d iterations", init, r.Iter)
		}
		for j := range sum {
			if cnt[j] > 0 && math.Abs(sum[j]/float64(cnt[j])-float64(r.Centroids[j])) > 1e-6 {
				t.Errorf("%v: centroid %d %v is not its mean %v", init, j, r.Centroids[j], sum[j]/float64(cnt[j]))
			}
		}
	}
}

func TestClusterErrors(t *testing.T) {
	nan := float32(math.NaN())
	for i, test := range []struct {
		x    []float32
		opt  Options
		want error
	}{
		{[]float32{1}, Options{K: 0}, ErrBadK},
		{nil, Options{K: 2}, ErrNoData},
		{[]float32{0, 0}, Options{K: 2, IgnoreZeros: true}, ErrNoData},
		{[]float32{1, nan}, Options{K: 2}, ErrNonFinite},
		{[]float32{1, 2}, Options{K: 2, Mask: []bool{true}}, ErrMaskLength},
		{[]float32{1, 2}, Options{K: 2, Init: Random}, ErrNeedRand},
		{[]float32{1, 2}, Options{K: 2, Init: Init(9)}, ErrBadInit},
	} {
		if _, err := Cluster(test.x, test.opt); !errors.Is(err, test.want) {
			t.Errorf("%d: err %v, want %v", i, err, test.want)
		}
	}
}

func BenchmarkCluster400k32(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	x := make([]float32, 400000)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 0.05)
	}
	b.ResetTimer()
	var it int
	for i := 0; i < b.N; i++ {
		r, err := Cluster(x, Options{K: 32})
		if err != nil {
			b.Fatal(err)
		}
		it = r.Iter
	}
	b.ReportMetric(float64(it), "iters")
}
