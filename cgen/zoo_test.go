package cgen

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qatgo/qatgo/intmodel"
)

// The model zoo of the tests, built directly as integer models with random
// weights (bit-exactness does not need trained ones): LeNet-5 and
// vgg-small with the shapes of package nn's models.

func quant(t testing.TB, rng *rand.Rand, outC, k, wbits int, in, out intmodel.ActQuant, relu, perChannel bool) intmodel.Quantized {
	nws := 1
	if perChannel {
		nws = outC
	}
	ws := make([]float32, nws)
	for i := range ws {
		ws[i] = 0.01 * (1 + rng.Float32())
	}
	w := make([]int8, outC*k)
	for i := range w {
		w[i] = int8(rng.IntN(1<<wbits) - 1<<(wbits-1))
	}
	b := make([]int32, outC)
	for i := range b {
		b[i] = int32(rng.IntN(20001) - 10000)
	}
	q := intmodel.Quantized{WeightBits: wbits, Weights: w, WeightScale: ws, InAct: in, OutAct: out, Bias: b}
	if err := q.SetRequant(outC); err != nil {
		t.Fatal(err)
	}
	q.SetClamp(relu)
	// Random weights have no trained scales: multipliers that map a typical
	// accumulator (√K·2^(b−1)·~100) onto ~150 codes, so that outputs
	// neither vanish nor saturate.
	for c := range q.M0 {
		q.M0[c], q.Shift[c] = intmodel.QuantizeMultiplier(150 / (math.Sqrt(float64(k)) * float64(int(1)<<(wbits-1)) * 100) * (1 + 0.3*rng.Float64()))
	}
	return q
}

// leNet5 is LeNet-5 (nn's "lenet5"): conv 5×5 1→20, pool, conv 5×5
// 20→50, pool, flatten, fc 800→500 ReLU, fc 500→10; int8 logits.
func leNet5(t testing.TB, seed uint64, wbits int) *intmodel.Model {
	rng := rand.New(rand.NewPCG(seed, 7))
	in := intmodel.ActQuant{Scale: 1.0 / 255, ZeroPoint: 0, Bits: 8}
	a1 := intmodel.ActQuant{Scale: 0.05, ZeroPoint: 0, Bits: 8}
	a2 := intmodel.ActQuant{Scale: 0.5, ZeroPoint: 0, Bits: 8}
	a3 := intmodel.ActQuant{Scale: 2, ZeroPoint: 0, Bits: 8}
	out := intmodel.ActQuant{Scale: 4, ZeroPoint: 3, Bits: 8, Signed: true}
	pool := intmodel.Pool2d{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: 1, H: 28, W: 28}, Output: out,
		Meta: map[string]string{"model": "lenet5", "quant": "test"}, Layers: []intmodel.Layer{
			&intmodel.Conv2d{Name: "conv1", InChannels: 1, OutChannels: 20, KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1,
				Quantized: quant(t, rng, 20, 25, wbits, in, a1, false, true)},
			&intmodel.MaxPool2d{Name: "pool1", Pool2d: pool},
			&intmodel.Conv2d{Name: "conv2", InChannels: 20, OutChannels: 50, KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1,
				Quantized: quant(t, rng, 50, 500, wbits, a1, a2, false, true)},
			&intmodel.MaxPool2d{Name: "pool2", Pool2d: pool},
			&intmodel.Flatten{Name: "flatten"},
			&intmodel.Linear{Name: "fc1", InFeatures: 800, OutFeatures: 500, Quantized: quant(t, rng, 500, 800, wbits, a2, a3, true, true)},
			&intmodel.Linear{Name: "fc2", InFeatures: 500, OutFeatures: 10, Quantized: quant(t, rng, 10, 500, wbits, a3, out, false, false)},
		}}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

// vggSmall is nn's "vgg-small" for 28×28: [conv3×3 pad 1 ReLU]×2 (16),
// pool, [conv3×3 pad 1 ReLU]×2 (32), pool, fc 1568→128 ReLU, fc 128→10,
// with signed (int8, zero point −128..) activations in the middle to
// exercise storage offsets, and int8 input.
func vggSmall(t testing.TB, seed uint64, wbits int) *intmodel.Model {
	rng := rand.New(rand.NewPCG(seed, 9))
	in := intmodel.ActQuant{Scale: 1.0 / 127, ZeroPoint: -3, Bits: 8, Signed: true}
	a := intmodel.ActQuant{Scale: 0.1, ZeroPoint: -128, Bits: 8, Signed: true}
	b := intmodel.ActQuant{Scale: 0.2, ZeroPoint: 0, Bits: 8}
	out := intmodel.ActQuant{Scale: 0.5, ZeroPoint: 10, Bits: 8, Signed: true}
	conv := func(name string, ci, co int, qin, qout intmodel.ActQuant) *intmodel.Conv2d {
		return &intmodel.Conv2d{Name: name, InChannels: ci, OutChannels: co, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1,
			Quantized: quant(t, rng, co, ci*9, wbits, qin, qout, true, true)}
	}
	pool := intmodel.Pool2d{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: 1, H: 28, W: 28}, Output: out,
		Meta: map[string]string{"model": "vgg-small", "quant": "test"}, Layers: []intmodel.Layer{
			conv("conv1", 1, 16, in, a), conv("conv2", 16, 16, a, a),
			&intmodel.MaxPool2d{Name: "pool1", Pool2d: pool},
			conv("conv3", 16, 32, a, b), conv("conv4", 32, 32, b, b),
			&intmodel.MaxPool2d{Name: "pool2", Pool2d: pool},
			&intmodel.Flatten{Name: "flatten"},
			&intmodel.Linear{Name: "fc1", InFeatures: 1568, OutFeatures: 128, Quantized: quant(t, rng, 128, 1568, wbits, b, b, true, true)},
			&intmodel.Linear{Name: "fc2", InFeatures: 128, OutFeatures: 10, Quantized: quant(t, rng, 10, 128, wbits, b, out, false, true)},
		}}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

// oddModel exercises what the zoo does not: a non-square signed input, a
// strided padded convolution, padded pools (not in place) and unpadded ones
// (in place), 3-, 5- and 1-bit weights, per-tensor and per-channel scales,
// a zero multiplier, left shifts, and biases that saturate the accumulator.
func oddModel(t testing.TB, seed uint64) *intmodel.Model {
	rng := rand.New(rand.NewPCG(seed, 13))
	in := intmodel.ActQuant{Scale: 0.01, ZeroPoint: 5, Bits: 8, Signed: true}
	a := intmodel.ActQuant{Scale: 0.05, ZeroPoint: 0, Bits: 8}
	b := intmodel.ActQuant{Scale: 0.3, ZeroPoint: -7, Bits: 6, Signed: true}
	out := intmodel.ActQuant{Scale: 0.7, ZeroPoint: 100, Bits: 8}
	conv := &intmodel.Conv2d{Name: "conv", InChannels: 3, OutChannels: 6, KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1,
		Quantized: quant(t, rng, 6, 27, 3, in, a, true, true)}
	fc1 := &intmodel.Linear{Name: "fc1", InFeatures: 24, OutFeatures: 7, Quantized: quant(t, rng, 7, 24, 5, a, b, false, false)}
	fc2 := &intmodel.Linear{Name: "fc2", InFeatures: 7, OutFeatures: 3, Quantized: quant(t, rng, 3, 7, 1, b, out, false, true)}
	conv.M0[1], conv.Shift[1] = 0, 0
	conv.M0[2], conv.Shift[2] = intmodel.QuantizeMultiplier(3.7)
	fc1.Bias[0], fc1.Bias[1] = math.MaxInt32, math.MinInt32
	fc1.M0[0], fc1.Shift[0] = intmodel.QuantizeMultiplier(1e-9)
	fc1.M0[1], fc1.Shift[1] = intmodel.QuantizeMultiplier(1e-9)
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: 3, H: 13, W: 11}, Output: out, Layers: []intmodel.Layer{
		conv, // 6×7×6
		&intmodel.AvgPool2d{Name: "avg3", Pool2d: intmodel.Pool2d{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}},
		&intmodel.MaxPool2d{Name: "max2p", Pool2d: intmodel.Pool2d{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}}, // 6×4×4
		&intmodel.AvgPool2d{Name: "avg2", Pool2d: intmodel.Pool2d{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}},                    // 6×2×2
		&intmodel.Flatten{Name: "flat"},
		fc1, fc2,
	}}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

// convPool is one convolution with its max pool fused, nothing else.
func convPool(t testing.TB, seed uint64) *intmodel.Model {
	rng := rand.New(rand.NewPCG(seed, 17))
	in := intmodel.ActQuant{Scale: 0.02, ZeroPoint: 128, Bits: 8}
	out := intmodel.ActQuant{Scale: 0.1, ZeroPoint: 3, Bits: 7, Signed: true}
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: 2, H: 9, W: 7}, Output: out, Layers: []intmodel.Layer{
		&intmodel.Conv2d{Name: "conv", InChannels: 2, OutChannels: 3, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1,
			Quantized: quant(t, rng, 3, 18, 6, in, out, false, true)},
		&intmodel.MaxPool2d{Name: "pool", Pool2d: intmodel.Pool2d{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}},
	}}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}
