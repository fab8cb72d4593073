package mixedprec

import (
	"errors"
	"fmt"
	"math"
)

// Errors of Solve.
var (
	ErrInput      = errors.New("mixedprec: bad input")
	ErrInfeasible = errors.New("mixedprec: budget below the cheapest choice of every layer")
)

// Choice is one option for a layer.
type Choice struct {
	Bits int     `json:"bits"`
	Cost int64   `json:"cost"` // e.g. the layer's weight count × Bits
	Loss float64 `json:"loss"` // estimated accuracy lost with this choice
}

// Layer is a layer and its choices.
type Layer struct {
	Name    string
	Choices []Choice
}

// Solution is one choice per layer.
type Solution struct {
	// Pick holds the index into each layer's Choices.
	Pick []int
	Cost int64
	Loss float64
	// Exact is false when the budget had more than MaxCells units of the
	// costs' greatest common divisor and costs were rounded up to a coarser
	// unit: the solution is then within the budget and optimal for the
	// rounded costs.
	Exact bool
}

// MaxCells bounds the budget's discretisation (the DP table has one row of
// this many cells per layer).
const MaxCells = 1 << 18

// Solve picks one choice per layer minimising the summed Loss subject to
// summed Cost ≤ budget; among equal losses it takes the cheaper solution.
// It is exact when budget/g ≤ MaxCells for g the greatest common divisor of
// the costs (weight counts × bits have large common divisors).
func Solve(layers []Layer, budget int64) (Solution, error) {
	if len(layers) == 0 {
		return Solution{}, fmt.Errorf("%w: no layers", ErrInput)
	}
	if budget < 0 {
		return Solution{}, fmt.Errorf("%w: budget %d < 0", ErrInput, budget)
	}
	var g int64
	for _, l := range layers {
		if len(l.Choices) == 0 {
			return Solution{}, fmt.Errorf("%w: layer %q has no choices", ErrInput, l.Name)
		}
		for _, c := range l.Choices {
			if c.Cost < 0 || math.IsNaN(c.Loss) {
				return Solution{}, fmt.Errorf("%w: layer %q: choice %+v", ErrInput, l.Name, c)
			}
			g = gcd(g, c.Cost)
		}
	}
	unit, exact := max(g, 1), true
	if budget/unit > MaxCells {
		unit, exact = (budget+MaxCells-1)/MaxCells, false
	}
	cells := int(budget / unit)
	units := func(c int64) int { return int((c + unit - 1) / unit) } // rounded up: never over budget

	// best[c] is the least (loss, cost) over the layers so far with at most
	// c units; pick[i][c] the choice of layer i in it.
	inf := math.Inf(1)
	best := make([]float64, cells+1)
	bestCost := make([]int64, cells+1)
	next := make([]float64, cells+1)
	nextCost := make([]int64, cells+1)
	pick := make([][]int8, len(layers))
	for i, l := range layers {
		if len(l.Choices) > 127 {
			return Solution{}, fmt.Errorf("%w: layer %q has %d choices (at most 127)", ErrInput, l.Name, len(l.Choices))
		}
		pick[i] = make([]int8, cells+1)
		for c := 0; c <= cells; c++ {
			next[c], nextCost[c], pick[i][c] = inf, 0, -1
			for j, ch := range l.Choices {
				u := units(ch.Cost)
				if u > c {
					continue
				}
				prev, prevCost := 0.0, int64(0)
				if i > 0 {
					prev, prevCost = best[c-u], bestCost[c-u]
				}
				if math.IsInf(prev, 1) {
					continue
				}
				loss, cost := prev+ch.Loss, prevCost+ch.Cost
				if loss < next[c] || loss == next[c] && cost < nextCost[c] {
					next[c], nextCost[c], pick[i][c] = loss, cost, int8(j)
				}
			}
		}
		best, next = next, best
		bestCost, nextCost = nextCost, bestCost
	}
	if math.IsInf(best[cells], 1) {
		return Solution{}, fmt.Errorf("%w: budget %d", ErrInfeasible, budget)
	}
	sol := Solution{Pick: make([]int, len(layers)), Loss: best[cells], Cost: bestCost[cells], Exact: exact}
	for i, c := len(layers)-1, cells; i >= 0; i-- {
		j := int(pick[i][c])
		sol.Pick[i] = j
		c -= units(layers[i].Choices[j].Cost)
	}
	return sol, nil
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
