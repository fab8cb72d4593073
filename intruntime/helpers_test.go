package intruntime

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qatgo/qatgo/internal/cpufeat"
	"github.com/qatgo/qatgo/intmodel"
)

func randWeights(rng *rand.Rand, n, bits int) []int8 {
	w := make([]int8, n)
	for i := range w {
		w[i] = int8(rng.IntN(1<<bits) - 1<<(bits-1))
	}
	return w
}

func randBias(rng *rand.Rand, n int) []int32 {
	b := make([]int32, n)
	for i := range b {
		b[i] = int32(rng.IntN(20001) - 10000)
	}
	return b
}

// quantLayer fills a Quantized with random weights and requantization.
// The output scale is chosen so that outputs use the code range.
func quantLayer(t testing.TB, rng *rand.Rand, outC, k, wbits int, in, out intmodel.ActQuant, relu bool) intmodel.Quantized {
	ws := make([]float32, outC)
	for i := range ws {
		ws[i] = 0.01 * (1 + rng.Float32())
	}
	q := intmodel.Quantized{WeightBits: wbits, Weights: randWeights(rng, outC*k, wbits), WeightScale: ws,
		InAct: in, OutAct: out, Bias: randBias(rng, outC)}
	if err := q.SetRequant(outC); err != nil {
		t.Fatal(err)
	}
	q.SetClamp(relu)
	return q
}

// leNet5 is the LeNet-5-shaped model of the benchmarks: conv 5×5 1→20,
// maxpool 2, conv 5×5 20→50, maxpool 2, flatten, fc 800→500 + ReLU, fc
// 500→10, with random weights of wbits bits and 8-bit activations.
func leNet5(t testing.TB, seed uint64, wbits int) *intmodel.Model {
	rng := rand.New(rand.NewPCG(seed, 11))
	in := intmodel.ActQuant{Scale: 1.0 / 255, ZeroPoint: 0, Bits: 8}
	a1 := intmodel.ActQuant{Scale: 0.05, ZeroPoint: 0, Bits: 8}
	a2 := intmodel.ActQuant{Scale: 0.5, ZeroPoint: 0, Bits: 8}
	a3 := intmodel.ActQuant{Scale: 2, ZeroPoint: 0, Bits: 8}
	out := intmodel.ActQuant{Scale: 4, ZeroPoint: 3, Bits: 8, Signed: true}
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: 1, H: 28, W: 28}, Output: out, Layers: []intmodel.Layer{
		&intmodel.Conv2d{Name: "conv1", InChannels: 1, OutChannels: 20, KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1,
			Quantized: quantLayer(t, rng, 20, 25, wbits, in, a1, true)},
		&intmodel.MaxPool2d{Name: "pool1", Pool2d: intmodel.Pool2d{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}},
		&intmodel.Conv2d{Name: "conv2", InChannels: 20, OutChannels: 50, KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1,
			Quantized: quantLayer(t, rng, 50, 500, wbits, a1, a2, true)},
		&intmodel.MaxPool2d{Name: "pool2", Pool2d: intmodel.Pool2d{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}},
		&intmodel.Flatten{Name: "flatten"},
		&intmodel.Linear{Name: "fc1", InFeatures: 800, OutFeatures: 500, Quantized: quantLayer(t, rng, 500, 800, wbits, a2, a3, true)},
		&intmodel.Linear{Name: "fc2", InFeatures: 500, OutFeatures: 10, Quantized: quantLayer(t, rng, 10, 500, wbits, a3, out, false)},
	}}
	// Random weights have no trained scales: pick multipliers that map a
	// typical accumulator (√K·2^(b−1)·~100) onto ~150 output codes (ReLU zeroes half), so that
	// the outputs neither vanish nor saturate.
	for _, l := range m.Layers {
		var q *intmodel.Quantized
		switch l := l.(type) {
		case *intmodel.Conv2d:
			q = &l.Quantized
		case *intmodel.Linear:
			q = &l.Quantized
		default:
			continue
		}
		k := len(q.Weights) / len(q.M0)
		for c := range q.M0 {
			q.M0[c], q.Shift[c] = intmodel.QuantizeMultiplier(150 / (math.Sqrt(float64(k)) * float64(int(1)<<(wbits-1)) * 100) * (1 + 0.3*rng.Float64()))
		}
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

func randImages(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()
	}
	return x
}

// namedImpl is the implementation one CPU variant selects.
type namedImpl struct {
	name string
	impl
}

// variantImpls returns the implementation of each variant of the host's
// features (cpufeat.Features.Variants): the host's, AVX2-only, generic, ...
func variantImpls() []namedImpl {
	var out []namedImpl
	for _, v := range cpufeat.Host.Variants() {
		out = append(out, namedImpl{v.Name + "/" + implFor(v.Features).kern.String(), implFor(v.Features)})
	}
	return out
}
