//go:build cgo

package onnx

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qatgo/qatgo/internal/graphtest"
	"github.com/qatgo/qatgo/intmodel"
)

// prefix returns the model made of m's first p layers (its output: layer
// p−1's), so that every layer's codes can be compared as a model output.
func prefix(t testing.TB, m *intmodel.Model, p int) *intmodel.Model {
	acts, err := m.Acts()
	if err != nil {
		t.Fatal(err)
	}
	pm := *m
	pm.Layers = m.Layers[:p]
	if m.Inputs != nil {
		pm.Inputs = m.Inputs[:p]
	}
	pm.Output = acts[p]
	return &pm
}

// TestONNXRuntimeGraphModels exports every prefix of the random graph
// models (residual, inverted residual with depthwise and grouped
// convolutions, concat; 8- and 4-bit weights) in the Integer format and
// checks that onnxruntime's codes and logits are those of intruntime, bit
// for bit, with and without onnxruntime's graph optimizations: every layer
// of every new op, 0 differences.
func TestONNXRuntimeGraphModels(t *testing.T) {
	needExactORT(t)
	rng := rand.New(rand.NewPCG(7, 8))
	const n = 24
	codes, layers := 0, 0
	for _, wbits := range []int{8, 4} {
		for _, build := range []struct {
			name string
			f    func(uint64, int) (*intmodel.Model, error)
		}{{"residual", graphtest.Residual}, {"inverted", graphtest.InvertedResidual}, {"concat", graphtest.ConcatNet}, {"flat", graphtest.FlatNet}} {
			m, err := build.f(uint64(wbits), wbits)
			if err != nil {
				t.Fatal(err)
			}
			x := randomInputs(rng, m, n)
			for p := 1; p <= len(m.Layers); p++ {
				pm := prefix(t, m, p)
				where := fmt.Sprintf("%s w%d layer %d (%s %s)", build.name, wbits, p-1, m.Layers[p-1].Kind(), m.Layers[p-1].LayerName())
				b, err := Exporter{Codes: true}.Marshal(pm)
				if err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				rl, rc := runtimeRun(t, pm, x, n)
				for _, opt := range []bool{false, true} {
					logits, oc := ortRun(t, b, x, n, opt)
					if !slices.Equal(oc, rc) || !slices.Equal(logits, rl) {
						diff := 0
						for j := range oc {
							if oc[j] != rc[j] {
								diff++
							}
						}
						t.Errorf("%s optimize %v: %d of %d codes differ from intruntime", where, opt, diff, len(oc))
					}
				}
				codes += len(rc)
				layers++
			}
			// The QLinear format (float requantization of the convolutions)
			// runs too; its codes may differ by ±1.
			b, err := Exporter{Format: QLinear, Codes: true}.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			ortRun(t, b, x, n, true)
		}
	}
	t.Logf("%d layer outputs, %d codes: onnxruntime = intruntime", layers, codes)
}

// Random graph topologies (graphtest.Random), exported in the Integer
// format: onnxruntime's codes and logits are intruntime's, with and without
// graph optimization; every fourth graph also layer by layer (prefixes).
func TestONNXRuntimeRandomGraphs(t *testing.T) {
	needORT(t)
	graphs := 24
	if testing.Short() {
		graphs = 8
	}
	const n = 8
	rng := rand.New(rand.NewPCG(9, 9))
	codes := 0
	for seed := range uint64(graphs) {
		wbits := []int{8, 4, 2}[seed%3]
		m, err := graphtest.Random(seed, wbits, 10)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		x := randomInputs(rng, m, n)
		first := len(m.Layers)
		if seed%4 == 0 {
			first = 1
		}
		for p := first; p <= len(m.Layers); p++ {
			pm := prefix(t, m, p)
			b, err := Exporter{Codes: true}.Marshal(pm)
			if err != nil {
				t.Fatalf("seed %d prefix %d: %v", seed, p, err)
			}
			rl, rc := runtimeRun(t, pm, x, n)
			for _, opt := range []bool{false, true} {
				logits, oc := ortRun(t, b, x, n, opt)
				if !slices.Equal(oc, rc) || !slices.Equal(logits, rl) {
					t.Errorf("seed %d layer %d (%s) optimize %v: onnxruntime differs from intruntime", seed, p-1, m.Layers[p-1].Kind(), opt)
				}
			}
			codes += len(rc)
		}
	}
	t.Logf("%d random graphs, %d codes compared: onnxruntime = intruntime", graphs, codes)
}
