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
	{"A", []Choice{{2, 200, 0.30}, {4, 400, 0.05}, {8, 800, 0}}},
	{"B", []Choice{{2, 100, 0.02}, {4, 200, 0.01}, {8, 400, 0}}},
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
		sol, err := Solve(handLayers, test.budget)
		if err != nil {
			t.Fatalf("budget %d: %v", test.budget, err)
		}
		bits := []int{handLayers[0].Choices[sol.Pick[0]].Bits, handLayers[1].Choices[sol.Pick[1]].Bits}
		if !slices.Equal(bits, test.bits) || math.Abs(sol.Loss-test.loss) > 1e-12 || sol.Cost != test.cost || !sol.Exact {
			t.Errorf("budget %d: bits %v loss %g cost %d exact %v; want %v %g %d exact", test.budget, bits, sol.Loss, sol.Cost, sol.Exact, test.bits, test.loss, test.cost)
		}
	}
	if _, err := Solve(handLayers, 299); !errors.Is(err, ErrInfeasible) {
		t.Errorf("budget 299: %v, want ErrInfeasible", err)
	}
	for _, bad := range [][]Layer{nil, {{"x", nil}}, {{"x", []Choice{{2, -1, 0}}}}, {{"x", []Choice{{2, 1, math.NaN()}}}}} {
		if _, err := Solve(bad, 100); !errors.Is(err, ErrInput) {
			t.Errorf("Solve(%v): %v, want ErrInput", bad, err)
		}
	}
}

// The DP against brute force over every combination, on random instances.
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
				layers[i].Choices = append(layers[i].Choices, Choice{b, w * int64(b), rng.Float64() / float64(b)})
			}
			maxCost += w * 8
		}
		budget := rng.Int63n(maxCost + 1)
		bestLoss, bestCost, found := math.Inf(1), int64(0), false
		idx := make([]int, n)
		for {
			var c int64
			var l float64
			for i, j := range idx {
				c += layers[i].Choices[j].Cost
				l += layers[i].Choices[j].Loss
			}
			if c <= budget && (l < bestLoss || l == bestLoss && c < bestCost) {
				bestLoss, bestCost, found = l, c, true
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
		sol, err := Solve(layers, budget)
		if !found {
			if !errors.Is(err, ErrInfeasible) {
				t.Fatalf("trial %d: infeasible, Solve gave %v", trial, err)
			}
			continue
		}
		if err != nil || math.Abs(sol.Loss-bestLoss) > 1e-9 || sol.Cost > budget {
			t.Fatalf("trial %d: Solve %+v %v; brute force loss %g cost %d (budget %d)", trial, sol, err, bestLoss, bestCost, budget)
		}
	}
}

// A budget far above MaxCells units of the costs' divisor falls back to
// costs rounded up to 31-unit cells (⌈8000040/2^18⌉): within the budget, but
// the exact optimum (both at 8 bits, 8000040 exactly) no longer fits:
// 8000012 → 258065 cells, 28 → 1, budget 258065 cells. The best rounded
// solution is big at 2 bits (64517 cells) and odd at 8.
func TestSolveCoarse(t *testing.T) {
	layers := []Layer{{"big", []Choice{{2, 2_000_003, 1}, {8, 8_000_012, 0}}}, {"odd", []Choice{{2, 7, 0.5}, {8, 28, 0}}}}
	sol, err := Solve(layers, 8_000_040)
	if err != nil || sol.Exact || sol.Cost != 2_000_031 || sol.Loss != 1 {
		t.Errorf("coarse: %+v, %v", sol, err)
	}
}

func ExampleSolve() {
	layers := []Layer{
		{"conv1", []Choice{{Bits: 4, Cost: 4 * 500, Loss: 0.004}, {Bits: 8, Cost: 8 * 500, Loss: 0}}},
		{"fc1", []Choice{{Bits: 2, Cost: 2 * 400000, Loss: 0.001}, {Bits: 4, Cost: 4 * 400000, Loss: 0}}},
	}
	sol, _ := Solve(layers, 1_000_000) // bits
	for i, l := range layers {
		fmt.Println(l.Name, l.Choices[sol.Pick[i]].Bits)
	}
	fmt.Printf("%d bits, loss %.3f\n", sol.Cost, sol.Loss)
	// Output:
	// conv1 8
	// fc1 2
	// 804000 bits, loss 0.001
}
