package mixedprec

import (
	"errors"
	"fmt"
	"math"
	"slices"
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
	Loss float64 `json:"loss"` // estimated loss (accuracy or cross-entropy) with this choice
	// Noise is a secondary cost that breaks near-ties of Loss (see
	// Options.Tolerance): autobits uses the squared weight quantization
	// error Σ‖w − Q_b(w)‖², which every added bit lowers, so that a budget
	// the losses cannot tell how to spend goes where rounding hurts most.
	Noise float64 `json:"noise,omitempty"`
}

// Layer is a layer and its choices.
type Layer struct {
	Name    string
	Choices []Choice
}

// Solution is one choice per layer.
type Solution struct {
	// Pick holds the index into each layer's Choices.
	Pick  []int
	Cost  int64
	Loss  float64 // summed Loss of the picks
	Noise float64 // summed Noise of the picks
	// Exact is false when the budget had more than MaxCells units of the
	// costs' greatest common divisor and costs were rounded up to a coarser
	// unit: the solution is then within the budget and optimal for the
	// rounded costs.
	Exact bool
}

// MaxCells bounds the budget's discretisation (the DP table has one row of
// this many cells per layer).
const MaxCells = 1 << 18

// Options tunes Solve.
type Options struct {
	// Tolerance is how much summed Loss the Noise may outweigh. Solve
	// minimises Loss + Tolerance·Noise/N, N the largest summed Noise (every
	// layer at its noisiest choice): the noise term lies in [0, Tolerance],
	// so it ranks solutions whose losses differ by less than Tolerance
	// (measurement noise, losses that do not add up exactly) and never
	// overturns a larger difference. 0: Noise only breaks exact ties.
	Tolerance float64
}

// Solve picks one choice per layer minimising the summed Loss (plus the
// Noise term of opt.Tolerance) subject to summed Cost ≤ budget; remaining
// ties go to the lower summed Noise, then to the lower Cost. It is exact
// when budget/g ≤ MaxCells for g the greatest common divisor of the costs
// (weight counts × bits have large common divisors).
func Solve(layers []Layer, budget int64, opt Options) (Solution, error) {
	if len(layers) == 0 {
		return Solution{}, fmt.Errorf("%w: no layers", ErrInput)
	}
	if budget < 0 {
		return Solution{}, fmt.Errorf("%w: budget %d < 0", ErrInput, budget)
	}
	if !(opt.Tolerance >= 0) || math.IsInf(opt.Tolerance, 1) {
		return Solution{}, fmt.Errorf("%w: tolerance %v, want a finite number ≥ 0", ErrInput, opt.Tolerance)
	}
	var g int64
	var maxNoise float64 // N: the summed noise of every layer's noisiest choice
	for _, l := range layers {
		if len(l.Choices) == 0 {
			return Solution{}, fmt.Errorf("%w: layer %q has no choices", ErrInput, l.Name)
		}
		var worst float64
		for _, c := range l.Choices {
			if c.Cost < 0 || !finite(c.Loss) || !finite(c.Noise) || c.Noise < 0 {
				return Solution{}, fmt.Errorf("%w: layer %q: choice %+v (want cost ≥ 0, finite loss, finite noise ≥ 0)", ErrInput, l.Name, c)
			}
			g = gcd(g, c.Cost)
			worst = max(worst, c.Noise)
		}
		maxNoise += worst
	}
	lambda := 0.0 // weight of Noise in the score
	if maxNoise > 0 {
		lambda = opt.Tolerance / maxNoise
	}
	unit, exact := max(g, 1), true
	if budget/unit > MaxCells {
		unit, exact = (budget+MaxCells-1)/MaxCells, false
	}
	cells := int(budget / unit)
	units := func(c int64) int { return int((c + unit - 1) / unit) } // rounded up: never over budget

	// best[c] is the least (score, noise, cost), lexicographically, over
	// the layers so far with at most c units; pick[i][c] the choice of
	// layer i in it. Each component is a sum over layers, so the order is
	// preserved by adding a choice and the DP is exact for it.
	type state struct {
		score, loss, noise float64
		cost               int64
	}
	less := func(a, b state) bool {
		if a.score != b.score {
			return a.score < b.score
		}
		if a.noise != b.noise {
			return a.noise < b.noise
		}
		return a.cost < b.cost
	}
	none := state{score: math.Inf(1)}
	best := make([]state, cells+1)
	next := make([]state, cells+1)
	pick := make([][]int8, len(layers))
	for i, l := range layers {
		if len(l.Choices) > 127 {
			return Solution{}, fmt.Errorf("%w: layer %q has %d choices (at most 127)", ErrInput, l.Name, len(l.Choices))
		}
		pick[i] = make([]int8, cells+1)
		for c := 0; c <= cells; c++ {
			next[c], pick[i][c] = none, -1
			for j, ch := range l.Choices {
				u := units(ch.Cost)
				if u > c {
					continue
				}
				var prev state
				if i > 0 {
					prev = best[c-u]
				}
				if math.IsInf(prev.score, 1) {
					continue
				}
				s := state{score: prev.score + ch.Loss + lambda*ch.Noise, loss: prev.loss + ch.Loss,
					noise: prev.noise + ch.Noise, cost: prev.cost + ch.Cost}
				if less(s, next[c]) {
					next[c], pick[i][c] = s, int8(j)
				}
			}
		}
		best, next = next, best
	}
	if math.IsInf(best[cells].score, 1) {
		return Solution{}, fmt.Errorf("%w: budget %d", ErrInfeasible, budget)
	}
	b := best[cells]
	sol := Solution{Pick: make([]int, len(layers)), Loss: b.loss, Noise: b.noise, Cost: b.cost, Exact: exact}
	for i, c := len(layers)-1, cells; i >= 0; i-- {
		j := int(pick[i][c])
		sol.Pick[i] = j
		c -= units(layers[i].Choices[j].Cost)
	}
	return sol, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Monotone returns a copy of layers in which no choice has a larger Loss
// than a choice of the same layer with fewer bits: each Loss becomes the
// least measured at its width or below. Quantization error falls with
// every added bit, so a measured loss that rises with the width is noise
// (rounding happens to land well at one width); left in, it would stop
// the knapsack from spending budget on the wider choice, which then looks
// worse for no reason. Noise and Cost are kept.
func Monotone(layers []Layer) []Layer {
	out := make([]Layer, len(layers))
	for i, l := range layers {
		out[i] = Layer{Name: l.Name, Choices: slices.Clone(l.Choices)}
		for j := range out[i].Choices {
			c := &out[i].Choices[j]
			for _, o := range l.Choices {
				if o.Bits < c.Bits {
					c.Loss = min(c.Loss, o.Loss)
				}
			}
		}
	}
	return out
}
