//go:build cgo

package onnx

import (
	"math/rand/v2"
	"sort"
	"testing"
)

// TestQDQONNXRuntime runs the QDQ exports of the graph models (residual,
// inverted residual with depthwise convolutions, concat; 8- and 4-bit
// weights) in onnxruntime, with its graph optimizations (which turn the
// QDQ groups into QLinear kernels) and without, and counts how many output
// codes and predictions differ from the integer runtime's: onnxruntime
// requantizes in float, so a code near a rounding boundary may move by one
// and the move propagates. Counted (logged) and bounded, not hidden.
func TestQDQONNXRuntime(t *testing.T) {
	needExactORT(t)
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 64
	ms := qdqModels(t)
	names := make([]string, 0, len(ms))
	for k := range ms {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		m := ms[name]
		b, err := Exporter{Format: QDQ, Codes: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		x := randomInputs(rng, m, n)
		_, rc := runtimeRun(t, m, x, n)
		per := len(rc) / n
		for _, opt := range []bool{false, true} {
			_, oc := ortRun(t, b, x, n, opt)
			diff, maxDiff, preds := 0, int32(0), 0
			for j := range oc {
				if d := oc[j] - rc[j]; d != 0 {
					diff++
					maxDiff = max(maxDiff, d, -d)
				}
			}
			for i := 0; i < n; i++ {
				if argmax32(oc[i*per:(i+1)*per]) != argmax32(rc[i*per:(i+1)*per]) {
					preds++
				}
			}
			t.Logf("%s optimize=%v: %d of %d output codes differ from intruntime (max |Δ| %d), %d of %d predictions", name, opt, diff, len(oc), maxDiff, preds, n)
			// Measured: up to 37% of the output codes move, by at most 3
			// (±1 per layer, compounding through up to 11 layers); a
			// wrong scale or zero point moves them by tens.
			if maxDiff > 4 {
				t.Errorf("%s: output codes differ by up to %d: more than float requantization explains", name, maxDiff)
			}
		}
	}
}

func argmax32(v []int32) int {
	b := 0
	for i, x := range v {
		if x > v[b] {
			b = i
		}
	}
	return b
}
