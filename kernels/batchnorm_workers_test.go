package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestBatchNormWorkersSameBits: a batch norm splits the images of both its
// passes between the workers and adds each image's sums in image order
// afterwards, so one worker and two give the same bits — output, running
// statistics, a fold's range and every gradient — on the adjacent-planes
// loops (planes under planesMax) and the per-plane ones, with a plain,
// clamped, folded and scaled op, in batch and running-statistics mode, for
// float32 and float64, and an odd batch (uneven halves).
func TestBatchNormWorkersSameBits(t *testing.T) {
	type variant struct {
		hi            float64
		fold, scaled  bool
		train, frozen bool
	}
	variants := []variant{
		{train: true}, {hi: 6, train: true}, {hi: math.Inf(1), fold: true, train: true},
		{hi: 6, fold: true, scaled: true, train: true}, {scaled: true, train: true}, {hi: 6, train: true, frozen: true},
	}
	for _, xs := range [][]int{{32, 16, 8, 8}, {61, 8, 9, 9}, {16, 8, 16, 16}, {9, 4, 33, 33}} {
		for _, v := range variants {
			for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
				if v.fold && dt != tensor.Float32 {
					continue
				}
				name := fmt.Sprintf("%v %+v %v", xs, v, dt)
				var runs [2][]any
				for i, procs := range []int{1, 2} {
					prev := runtime.GOMAXPROCS(procs)
					runs[i] = bnRunOnce(t, name, xs, dt, v.hi, v.fold, v.scaled, v.train, v.frozen)
					runtime.GOMAXPROCS(prev)
				}
				for k := range runs[0] {
					if !sameBitsAny(runs[0][k], runs[1][k]) {
						t.Errorf("%s: result %d differs between 1 and 2 workers", name, k)
					}
				}
			}
		}
	}
}

// bnRunOnce runs a batch norm's forward and backward ops on seeded inputs
// and returns what they wrote: y, the running mean and variance, a fold's
// range, then dx, dγ, dβ (and d scale).
func bnRunOnce(t *testing.T, name string, xs []int, dt tensor.Dtype, hi float64, fold, scaled, train, frozen bool) []any {
	t.Helper()
	r := rand.New(rand.NewPCG(97, 98))
	c := xs[1]
	ins := scaledInputs(r, xs)
	x := ins[0].Data().([]float64)
	for i := range x {
		x[i] = 3*x[i] + float64(i/(x0(xs))%c) // channel means apart
	}
	if !scaled {
		ins = ins[:3]
	}
	dy := randTensor(r, tensor.Float64, xs...)
	if dt == tensor.Float32 {
		ins = to32(ins)
		dy = to32([]*tensor.Dense{dy})[0]
	}
	st := &bnState{stats: newStats(dt, c), train: train, scaled: scaled, hi: hi, shape: tensor.Shape(xs).Clone(), c: c}
	st.stats.Frozen = frozen
	if fold {
		st.fold = &Fold{}
	}
	fwd := &bnOp{opBase: opBase{name: "bn"}, st: st}
	vs := make([]G.Value, len(ins))
	for i, d := range ins {
		vs[i] = d
	}
	y, err := fwd.Do(vs...)
	if err != nil {
		t.Fatal(name, err)
	}
	out := []any{cloneData(y), cloneData(st.stats.Mean), cloneData(st.stats.Var)}
	if fold {
		mn, mx, ok := st.fold.OutputRange()
		out = append(out, []float32{mn, mx}, ok)
		st.fold.MaskGrad(float32(mn/2), float32(mx/2), false)
	}
	args := []G.Value{ins[0], ins[1], dy}
	if st.readsOutput() {
		args = append(args, y)
	}
	for w := range st.arity() {
		g, err := (&bnGradOp{opBase: opBase{name: "bngrad"}, st: st, which: w}).Do(args...)
		if err != nil {
			t.Fatal(name, err)
		}
		out = append(out, cloneData(g))
	}
	return out
}

// x0 is the size of one channel's plane of shape xs.
func x0(xs []int) int {
	n := 1
	for _, d := range xs[2:] {
		n *= d
	}
	return n
}

func cloneData(v G.Value) any {
	switch d := v.(*tensor.Dense).Data().(type) {
	case []float32:
		return append([]float32(nil), d...)
	case []float64:
		return append([]float64(nil), d...)
	}
	panic("dtype")
}

func sameBitsAny(a, b any) bool {
	switch a := a.(type) {
	case []float32:
		return sameBits(a, b.([]float32))
	case []float64:
		return sameBits(a, b.([]float64))
	}
	return a == b
}
