package intmodel

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// tinyModel is conv 3×3 1→2 (pad 1, ReLU fused, per-channel 8-bit) → maxpool
// 2 → flatten → linear 8→3 (per-tensor 4-bit) on 1×4×4 uint8 input.
func tinyModel(t testing.TB, seed uint64) *Model {
	rng := rand.New(rand.NewPCG(seed, 7))
	in := ActQuant{Scale: 1.0 / 255, ZeroPoint: 3, Bits: 8}
	mid := ActQuant{Scale: 0.02, ZeroPoint: 0, Bits: 8}
	out := ActQuant{Scale: 0.1, ZeroPoint: -5, Bits: 8, Signed: true}
	rw := func(n, bits int) []int8 {
		w := make([]int8, n)
		for i := range w {
			w[i] = int8(rng.IntN(1<<bits) - 1<<(bits-1))
		}
		return w
	}
	conv := &Conv2d{Name: "conv1", InChannels: 1, OutChannels: 2, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1,
		Quantized: Quantized{WeightBits: 8, Weights: rw(18, 8), WeightScale: []float32{0.01, 0.02}, InAct: in, OutAct: mid, Bias: []int32{100, -200}}}
	fc := &Linear{Name: "fc", InFeatures: 8, OutFeatures: 3,
		Quantized: Quantized{WeightBits: 4, Weights: rw(24, 4), WeightScale: []float32{0.05}, InAct: mid, OutAct: out}}
	for _, q := range []*Quantized{&conv.Quantized, &fc.Quantized} {
		if err := q.SetRequant(len(q.Weights) / map[bool]int{true: 9, false: 8}[q == &conv.Quantized]); err != nil {
			t.Fatal(err)
		}
	}
	conv.SetClamp(true)
	fc.SetClamp(false)
	m := &Model{Input: in, InputShape: Shape{1, 4, 4}, Output: out, Meta: map[string]string{"source": "test"},
		Layers: []Layer{conv, &MaxPool2d{Name: "pool", Pool2d: Pool2d{2, 2, 2, 2, 0, 0}}, &Flatten{Name: "flat"}, fc}}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestShapes(t *testing.T) {
	m := tinyModel(t, 1)
	got, err := m.Shapes()
	if err != nil {
		t.Fatal(err)
	}
	want := []Shape{{2, 4, 4}, {2, 2, 2}, {8, 1, 1}, {3, 1, 1}}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("layer %d: shape %v, want %v", i, got[i], want[i])
		}
	}
	conv := m.Layers[0].(*Conv2d)
	if conv.QMin != 0 || conv.QMax != 255 {
		t.Errorf("conv clamp [%d, %d], want [0, 255] (ReLU with Z_Y = 0)", conv.QMin, conv.QMax)
	}
	// M = S_W·S_X/S_Y = 0.01·(1/255)/0.02 ≈ 1/510 = 0.50196·2^-8; the
	// float32 scales make M0 = 1077952640 rather than 1/510's 1077952576.
	if conv.Shift[0] != -8 || conv.M0[0] != 1077952640 {
		t.Errorf("conv M0/shift = %d, %d, want 1077952640, -8", conv.M0[0], conv.Shift[0])
	}
}

func TestValidateRejects(t *testing.T) {
	for _, test := range []struct {
		name   string
		break_ func(m *Model)
		want   string
	}{
		{"weight out of range", func(m *Model) { m.Layers[3].(*Linear).Weights[0] = 8 }, "outside the 4-bit range"},
		{"bits 9", func(m *Model) { m.Layers[3].(*Linear).WeightBits = 9 }, "weight bits 9"},
		{"clamp above type", func(m *Model) { m.Layers[3].(*Linear).QMax = 128 }, "clamp"},
		{"clamp inverted", func(m *Model) { m.Layers[0].(*Conv2d).QMin = 200; m.Layers[0].(*Conv2d).QMax = 100 }, "clamp"},
		{"M0 small", func(m *Model) { m.Layers[0].(*Conv2d).M0[1] = 5 }, "multiplier M0"},
		{"shift", func(m *Model) { m.Layers[0].(*Conv2d).Shift[1] = -40 }, "shift -40"},
		{"zero M0 with shift", func(m *Model) { m.Layers[0].(*Conv2d).M0[1] = 0 }, "zero multiplier"},
		{"bias count", func(m *Model) { m.Layers[0].(*Conv2d).Bias = []int32{1} }, "1 biases"},
		{"weights count", func(m *Model) { q := m.Layers[3].(*Linear); q.Weights = q.Weights[:5] }, "5 weights"},
		{"act mismatch", func(m *Model) { m.Layers[3].(*Linear).InAct.ZeroPoint = 1 }, "differs from its input tensor"},
		{"output mismatch", func(m *Model) { m.Output.Scale = 1 }, "output dequantization"},
		{"channels", func(m *Model) { m.Layers[0].(*Conv2d).InChannels = 3 }, "conv2d takes 3 channels"},
		{"no flatten", func(m *Model) { m.Layers = append(m.Layers[:2], m.Layers[3]) }, "flatten first"},
		{"kernel too big", func(m *Model) { m.InputShape = Shape{1, 2, 4}; m.Layers[0].(*Conv2d).PadH = 0 }, "kernel 3 larger"},
		{"zero point", func(m *Model) { m.Input.ZeroPoint = 300 }, "zero point 300"},
		{"nan scale", func(m *Model) { m.Layers[0].(*Conv2d).WeightScale[0] = float32(nan()) }, "weight scale 0"},
		{"pool pad", func(m *Model) { m.Layers[1].(*MaxPool2d).PadH = 2 }, "more than half"},
		{"nil layer", func(m *Model) { m.Layers[2] = nil }, "nil"},
		{"no layers", func(m *Model) { m.Layers = nil }, "no layers"},
	} {
		m := tinyModel(t, 2)
		test.break_(m)
		err := m.Validate()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: err = %v, want ErrInvalid mentioning %q", test.name, err, test.want)
		}
	}
}

func nan() float64 { var z float64; return z / z }

func TestFoldedBias(t *testing.T) {
	// Weights [[1, -2, 3], [0, 0, -1]], q_b = [10, -4], Z_X = 5:
	// channel 0: 10 − 5·(1−2+3) = 0; channel 1: −4 − 5·(−1) = 1.
	q := Quantized{Weights: []int8{1, -2, 3, 0, 0, -1}, Bias: []int32{10, -4}}
	got, err := q.FoldedBias(2, 5)
	if err != nil || got[0] != 0 || got[1] != 1 {
		t.Errorf("FoldedBias = %v, %v, want [0 1]", got, err)
	}
	q.Bias = []int32{2147483647, 0}
	if _, err := q.FoldedBias(2, -5); !errors.Is(err, ErrInvalid) {
		t.Errorf("overflow: err = %v", err)
	}
}
