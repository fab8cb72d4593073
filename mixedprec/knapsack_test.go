package mixedprec

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"
)

// Two layers: A of 100 weights, B of 50, at 2, 4 or 8 bits (cost = weights
// × bits), with hand-made losses.
var handLayers = []Layer{
	{"A", []Choice{{2, 200, 0.30, 0}, {4, 400, 0.05, 0}, {8, 800, 0, 0}}},
	{"B", []Choice{{2, 100, 0.02, 0}, {4, 200, 0.01, 0}, {8, 400, 0, 0}}},
}

func TestSolveHandWorked(t *testing.T) {
	for _, test := range []struct {
		budget int64
		bits   []int // of A, B
		loss   float64
		cost   int64
	}{
		// A4+B4 = 600 bits, loss .06 beats A4+B2 (.07) and A2+B8 (.30).
		{600, []int{4, 4}, 0.06, 600},
		// A4+B2 = 500, .07; A2+B4 = 400 costs less but loses .31.
		{500, []int{4, 2}, 0.07, 500},
		// A8+B2 = 900 (.02) and A8+B4 = 1000 (.01): the budget allows the second.
		{1000, []int{8, 4}, 0.01, 1000},
		{999, []int{8, 2}, 0.02, 900},
		// Everything at 8 bits: loss 0 at 1200; a larger budget changes nothing.
		{5000, []int{8, 8}, 0, 1200},
		// The cheapest: 300.
		{300, []int{2, 2}, 0.32, 300},
	} {
		sol, err := Solve(handLayers, test.budget, Options{})
		if err != nil {
			t.Fatalf("budget %d: %v", test.budget, err)
		}
		bits := []int{handLayers[0].Choices[sol.Pick[0]].Bits, handLayers[1].Choices[sol.Pick[1]].Bits}
		if !slices.Equal(bits, test.bits) || math.Abs(sol.Loss-test.loss) > 1e-12 || sol.Cost != test.cost || !sol.Exact {
			t.Errorf("budget %d: bits %v loss %g cost %d exact %v; want %v %g %d exact", test.budget, bits, sol.Loss, sol.Cost, sol.Exact, test.bits, test.loss, test.cost)
		}
	}
	if _, err := Solve(handLayers, 299, Options{}); !errors.Is(err, ErrInfeasible) {
		t.Errorf("budget 299: %v, want ErrInfeasible", err)
	}
	for _, bad := range [][]Layer{nil, {{"x", nil}}, {{"x", []Choice{{2, -1, 0, 0}}}}, {{"x", []Choice{{2, 1, math.NaN(), 0}}}},
		{{"x", []Choice{{2, 1, math.Inf(1), 0}}}}, {{"x", []Choice{{2, 1, 0, -1}}}}, {{"x", []Choice{{2, 1, 0, math.NaN()}}}}} {
		if _, err := Solve(bad, 100, Options{}); !errors.Is(err, ErrInput) {
			t.Errorf("Solve(%v): %v, want ErrInput", bad, err)
		}
	}
	for _, tol := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := Solve(handLayers, 600, Options{Tolerance: tol}); !errors.Is(err, ErrInput) {
			t.Errorf("tolerance %v: %v, want ErrInput", tol, err)
		}
	}
}

// The DP against brute force over every combination, on random instances
// with ties of loss and with and without a noise tolerance.
func TestSolveMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	bits := []int{2, 3, 4, 5, 6, 8}
	for trial := 0; trial < 200; trial++ {
		n := 1 + rng.Intn(4)
		layers := make([]Layer, n)
		var maxCost int64
		for i := range layers {
			w := int64(1 + rng.Intn(300))
			for _, b := range bits {
				// Losses on a coarse grid, so that exact ties occur and the
				// noise must break them.
				loss := math.Round(8*rng.Float64()/float64(b)) / 8
				layers[i].Choices = append(layers[i].Choices, Choice{b, w * int64(b), loss, rng.Float64() * float64(w) / float64(b*b)})
			}
			maxCost += w * 8
		}
		budget := rng.Int63n(maxCost + 1)
		tol := []float64{0, 0.05, 1}[trial%3]
		var maxNoise float64
		for _, l := range layers {
			worst := 0.0
			for _, c := range l.Choices {
				worst = max(worst, c.Noise)
			}
			maxNoise += worst
		}
		lambda := tol / maxNoise
		bestScore, bestNoise, bestCost, found := math.Inf(1), 0.0, int64(0), false
		idx := make([]int, n)
		for {
			var c int64
			var l, nz float64
			for i, j := range idx {
				c += layers[i].Choices[j].Cost
				l += layers[i].Choices[j].Loss
				nz += layers[i].Choices[j].Noise
			}
			// Scores within 1e-12 are ties: the DP sums in another order.
			s := l + lambda*nz
			if c <= budget && (s < bestScore-1e-12 || math.Abs(s-bestScore) <= 1e-12 && (nz < bestNoise || nz == bestNoise && c < bestCost)) {
				bestScore, bestNoise, bestCost, found = s, nz, c, true
			}
			k := 0
			for k < n {
				idx[k]++
				if idx[k] < len(bits) {
					break
				}
				idx[k] = 0
				k++
			}
			if k == n {
				break
			}
		}
		sol, err := Solve(layers, budget, Options{Tolerance: tol})
		if !found {
			if !errors.Is(err, ErrInfeasible) {
				t.Fatalf("trial %d: infeasible, Solve gave %v", trial, err)
			}
			continue
		}
		if err != nil || math.Abs(sol.Loss+lambda*sol.Noise-bestScore) > 1e-9 || math.Abs(sol.Noise-bestNoise) > 1e-9 || sol.Cost != bestCost {
			t.Fatalf("trial %d (tolerance %g): Solve %+v %v; brute force score %g noise %g cost %d (budget %d)",
				trial, tol, sol, err, bestScore, bestNoise, bestCost, budget)
		}
	}
}

// Hand-worked tie-breaks. In "ties", every loss is 0 (as when accuracy
// drops are clamped at 0): without noise Solve takes the cheapest solution,
// with it the least noisy one, which spends the budget. In "near", the
// losses favour A2+B4 (.0020 against A4+B2's .0029) but A2+B4 is far
// noisier (10.5 against 2; N = 10 + 1 = 11): the noise term tol·noise/11
// overturns the 0.0009 gap when tol·8.5/11 > 0.0009, i.e. tol > 0.001165.
func TestSolveTieBreak(t *testing.T) {
	ties := []Layer{
		{"big", []Choice{{2, 200, 0, 9}, {4, 400, 0, 1}, {8, 800, 0, 0}}},
		{"small", []Choice{{2, 20, 0, 4}, {4, 40, 0, 2}, {8, 80, 0, 0}}},
	}
	var silent []Layer // ties without noise
	for _, l := range ties {
		q := Layer{Name: l.Name}
		for _, c := range l.Choices {
			q.Choices = append(q.Choices, Choice{Bits: c.Bits, Cost: c.Cost})
		}
		silent = append(silent, q)
	}
	near := []Layer{
		{"A", []Choice{{2, 200, 0.0020, 10}, {4, 400, 0.0019, 1}}},
		{"B", []Choice{{2, 200, 0.0010, 1}, {4, 400, 0, 0.5}}},
	}
	// Equal loss and noise: the cheaper wins.
	same := []Layer{{"A", []Choice{{4, 400, 0.01, 1}, {2, 200, 0.01, 1}}}}
	for _, test := range []struct {
		name   string
		layers []Layer
		budget int64
		tol    float64
		bits   []int
		cost   int64
		noise  float64
	}{
		{"ties, no noise: cheapest", silent, 440, 0, []int{2, 2}, 220, 0},
		{"ties: least noise spends all", ties, 440, 0, []int{4, 4}, 440, 3},
		{"ties: 10 bits short", ties, 430, 0, []int{4, 2}, 420, 5},
		{"ties: everything at 8", ties, 880, 0, []int{8, 8}, 880, 0},
		{"ties: the tolerance changes nothing", ties, 440, 0.5, []int{4, 4}, 440, 3},
		{"near, no tolerance: loss decides", near, 600, 0, []int{2, 4}, 600, 10.5},
		{"near, tolerance under the gap", near, 600, 0.001, []int{2, 4}, 600, 10.5},
		{"near, tolerance over the gap", near, 600, 0.0012, []int{4, 2}, 600, 2},
		{"near, large tolerance", near, 600, 0.01, []int{4, 2}, 600, 2},
		{"same: cheaper", same, 400, 0, []int{2}, 200, 1},
	} {
		sol, err := Solve(test.layers, test.budget, Options{Tolerance: test.tol})
		if err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		var bits []int
		for i, l := range test.layers {
			bits = append(bits, l.Choices[sol.Pick[i]].Bits)
		}
		if !slices.Equal(bits, test.bits) || sol.Cost != test.cost || math.Abs(sol.Noise-test.noise) > 1e-12 {
			t.Errorf("%s: bits %v cost %d noise %g; want %v %d %g", test.name, bits, sol.Cost, sol.Noise, test.bits, test.cost, test.noise)
		}
	}
}

// A budget far above MaxCells units of the costs' divisor falls back to
// costs rounded up to 31-unit cells (⌈8000040/2^18⌉): within the budget, but
// the exact optimum (both at 8 bits, 8000040 exactly) no longer fits:
// 8000012 → 258065 cells, 28 → 1, budget 258065 cells. The best rounded
// solution is big at 2 bits (64517 cells) and odd at 8.
func TestSolveCoarse(t *testing.T) {
	layers := []Layer{{"big", []Choice{{2, 2_000_003, 1, 0}, {8, 8_000_012, 0, 0}}}, {"odd", []Choice{{2, 7, 0.5, 0}, {8, 28, 0, 0}}}}
	sol, err := Solve(layers, 8_000_040, Options{})
	if err != nil || sol.Exact || sol.Cost != 2_000_031 || sol.Loss != 1 {
		t.Errorf("coarse: %+v, %v", sol, err)
	}
}

func ExampleSolve() {
	layers := []Layer{
		{"conv1", []Choice{{Bits: 4, Cost: 4 * 500, Loss: 0.004}, {Bits: 8, Cost: 8 * 500, Loss: 0}}},
		{"fc1", []Choice{{Bits: 2, Cost: 2 * 400000, Loss: 0.001}, {Bits: 4, Cost: 4 * 400000, Loss: 0}}},
	}
	sol, _ := Solve(layers, 1_000_000, Options{}) // bits
	for i, l := range layers {
		fmt.Println(l.Name, l.Choices[sol.Pick[i]].Bits)
	}
	fmt.Printf("%d bits, loss %.3f\n", sol.Cost, sol.Loss)
	// Output:
	// conv1 8
	// fc1 2
	// 804000 bits, loss 0.001
}

func TestMonotone(t *testing.T) {
	for _, test := range []struct {
		name string
		in   []Choice
		want []float64
	}{
		{"already monotone", []Choice{{2, 2, 0.5, 9}, {4, 4, 0.1, 1}, {8, 8, 0, 0}}, []float64{0.5, 0.1, 0}},
		{"a bump at 4 bits", []Choice{{2, 2, 0.5, 9}, {3, 3, 0.1, 3}, {4, 4, 0.2, 1}, {8, 8, 0.05, 0}}, []float64{0.5, 0.1, 0.1, 0.05}},
		{"8 bits worse than 6", []Choice{{6, 6, 0, 1}, {8, 8, 0.001, 0}}, []float64{0, 0}},
		{"unsorted choices", []Choice{{8, 8, 0.3, 0}, {2, 2, 0.2, 9}, {4, 4, 0.4, 1}}, []float64{0.2, 0.2, 0.2}},
	} {
		in := []Layer{{"x", slices.Clone(test.in)}}
		out := Monotone(in)
		for j, c := range out[0].Choices {
			if c.Loss != test.want[j] || c.Bits != test.in[j].Bits || c.Cost != test.in[j].Cost || c.Noise != test.in[j].Noise {
				t.Errorf("%s: choice %d = %+v, want loss %v", test.name, j, c, test.want[j])
			}
		}
		if !slices.Equal(in[0].Choices, test.in) {
			t.Errorf("%s: the input changed", test.name)
		}
	}
}
