package prune

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Sentinel errors; the returned errors wrap them with details.
var (
	ErrSparsity   = errors.New("prune: sparsity must be in [0, 1]")
	ErrNonFinite  = errors.New("prune: weights contain NaN or Inf")
	ErrMaskLength = errors.New("prune: mask length differs from weights length")
)

// Mask marks the weights that survive pruning: Mask[i] is true when w[i] is
// kept and false when it is pruned (forced to zero).
type Mask []bool

// Full returns a mask keeping all n weights.
func Full(n int) Mask {
	m := make(Mask, n)
	for i := range m {
		m[i] = true
	}
	return m
}

// Kept returns the number of kept weights.
func (m Mask) Kept() int {
	n := 0
	for _, k := range m {
		if k {
			n++
		}
	}
	return n
}

// Sparsity returns the pruned fraction (0 for an empty mask).
func (m Mask) Sparsity() float64 {
	if len(m) == 0 {
		return 0
	}
	return float64(len(m)-m.Kept()) / float64(len(m))
}

// Apply sets the pruned weights of w to zero. Call it after each optimizer
// step during retraining so pruned weights stay exactly zero.
func (m Mask) Apply(w []float32) error {
	if len(w) != len(m) {
		return fmt.Errorf("%w: %d vs %d", ErrMaskLength, len(m), len(w))
	}
	for i, k := range m {
		if !k {
			w[i] = 0
		}
	}
	return nil
}

// Apply64 is Apply for float64 weights (gradient checks).
func (m Mask) Apply64(w []float64) error {
	if len(w) != len(m) {
		return fmt.Errorf("%w: %d vs %d", ErrMaskLength, len(m), len(w))
	}
	for i, k := range m {
		if !k {
			w[i] = 0
		}
	}
	return nil
}

// Intersect returns the mask keeping what both m and o keep (pruning is
// monotone across iterative stages: a pruned weight is never revived).
func (m Mask) Intersect(o Mask) (Mask, error) {
	if len(o) != len(m) {
		return nil, fmt.Errorf("%w: %d vs %d", ErrMaskLength, len(m), len(o))
	}
	r := make(Mask, len(m))
	for i := range m {
		r[i] = m[i] && o[i]
	}
	return r, nil
}

// Count returns the number of weights pruned at sparsity s out of n:
// round(s·n), halves rounded away from zero.
func Count(s float64, n int) int {
	return int(math.Round(s * float64(n)))
}

// MagnitudeMask returns the mask that prunes exactly Count(s, len(w)) weights
// of smallest |w|. Ties are broken deterministically: among weights of equal
// magnitude the one with the lower index is pruned first. w is not changed.
func MagnitudeMask(w []float32, s float64) (Mask, error) {
	if !(s >= 0 && s <= 1) {
		return nil, fmt.Errorf("%w (got %v)", ErrSparsity, s)
	}
	for i, v := range w {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%w (index %d)", ErrNonFinite, i)
		}
	}
	m := Full(len(w))
	p := Count(s, len(w))
	if p == 0 {
		return m, nil
	}
	idx := make([]int32, len(w))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		x, y := abs32(w[a]), abs32(w[b])
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return int(a - b)
	})
	for _, i := range idx[:p] {
		m[i] = false
	}
	return m, nil
}

func abs32(v float32) float32 {
	return math.Float32frombits(math.Float32bits(v) &^ (1 << 31))
}

// Prune zeroes the Count(s, len(w)) smallest-magnitude weights of w in place
// and returns the mask.
func Prune(w []float32, s float64) (Mask, error) {
	m, err := MagnitudeMask(w, s)
	if err != nil {
		return nil, err
	}
	return m, m.Apply(w)
}

// Targets holds per-layer target sparsities: PerLayer[name] when present,
// Default otherwise. The paper prunes each layer to its own level (e.g.
// LeNet-300-100 keeps 8%, 9% and 26% of fc1, fc2, fc3).
type Targets struct {
	Default  float64
	PerLayer map[string]float64
}

// For returns the target sparsity of the named layer.
func (t Targets) For(name string) float64 {
	if s, ok := t.PerLayer[name]; ok {
		return s
	}
	return t.Default
}

// Validate checks that every sparsity lies in [0, 1].
func (t Targets) Validate() error {
	if !(t.Default >= 0 && t.Default <= 1) {
		return fmt.Errorf("%w: default %v", ErrSparsity, t.Default)
	}
	for name, s := range t.PerLayer {
		if !(s >= 0 && s <= 1) {
			return fmt.Errorf("%w: layer %q: %v", ErrSparsity, name, s)
		}
	}
	return nil
}
