package intruntime_test

import (
	"fmt"
	"time"

	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/intruntime"
)

func ExampleMultiplyByQuantizedMultiplier() {
	// M = 0.1 → (M0, shift) = (1717986918, −3): 1000·0.1 = 100.
	m0, shift := intmodel.QuantizeMultiplier(0.1)
	fmt.Println(intruntime.MultiplyByQuantizedMultiplier(1000, m0, shift))
	// Output: 100
}

// A one-layer model: y = relu(W·x + b) with 2 outputs, run on integers.
func ExampleRunner() {
	in := intmodel.ActQuant{Scale: 0.5, ZeroPoint: 10, Bits: 8}
	out := intmodel.ActQuant{Scale: 0.25, ZeroPoint: 0, Bits: 8}
	fc := &intmodel.Linear{Name: "fc", InFeatures: 3, OutFeatures: 2, Quantized: intmodel.Quantized{
		WeightBits: 8, Weights: []int8{4, -8, 2, -4, 4, 4}, WeightScale: []float32{0.25},
		InAct: in, OutAct: out, Bias: []int32{4, -8}}}
	if err := fc.SetRequant(2); err != nil {
		panic(err)
	}
	fc.SetClamp(true) // ReLU fused: qmin = Z_Y
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: 3, H: 1, W: 1}, Output: out, Layers: []intmodel.Layer{fc}}
	r, err := intruntime.NewRunner(m, 1, 1)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	logits := make([]float32, 2)
	// W = [[1 −2 .5] [−1 1 1]], b = [.5 −1]; x = [1 0 2]:
	// W·x + b = [2.5, 0] (the second output −1+2−1 = 0).
	if err := r.Run([]float32{1, 0, 2}, 1, logits); err != nil {
		panic(err)
	}
	codes, _ := r.LayerCodes(0, nil)
	fmt.Println(codes, logits)
	// Output: [10 0] [2.5 0]
}

// A residual graph: y = x + fc(x). Layer 1 (the add) reads tensor 0 (the
// input) and tensor 1 (the linear layer's output): Model.Inputs holds the
// edges; nil entries mean "the previous tensor".
func ExampleRunner_residual() {
	q := intmodel.ActQuant{Scale: 0.5, ZeroPoint: 0, Bits: 8}
	fc := &intmodel.Linear{Name: "fc", InFeatures: 2, OutFeatures: 2, Quantized: intmodel.Quantized{
		WeightBits: 8, Weights: []int8{2, 0, 0, 2}, WeightScale: []float32{0.25}, InAct: q, OutAct: q}}
	if err := fc.SetRequant(2); err != nil {
		panic(err)
	}
	fc.SetClamp(false)
	add, err := intmodel.NewAdd("residual", q, q, q)
	if err != nil {
		panic(err)
	}
	m := &intmodel.Model{Input: q, InputShape: intmodel.Shape{C: 2, H: 1, W: 1}, Output: q,
		Layers: []intmodel.Layer{fc, add},
		Inputs: [][]int{nil, {0, 1}}}
	r, err := intruntime.NewRunner(m, 1, 1)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	logits := make([]float32, 2)
	// x = [1 3]: fc(x) = 0.5·x = [0.5 1.5]; x + fc(x) = [1.5 4.5].
	if err := r.Run([]float32{1, 3}, 1, logits); err != nil {
		panic(err)
	}
	fmt.Println(logits)
	// Output: [1.5 4.5]
}

// Which layers an integer model spends its time in: TimeLayers on, a few
// batches, then each layer's time per image (the times vary by machine;
// here only the names and image counts are printed).
func ExampleRunner_TimeLayers() {
	q := intmodel.ActQuant{Scale: 0.5, ZeroPoint: 0, Bits: 8}
	fc := &intmodel.Linear{Name: "fc", InFeatures: 2, OutFeatures: 2, Quantized: intmodel.Quantized{
		WeightBits: 8, Weights: []int8{2, 0, 0, 2}, WeightScale: []float32{0.25}, InAct: q, OutAct: q}}
	if err := fc.SetRequant(2); err != nil {
		panic(err)
	}
	fc.SetClamp(true)
	m := &intmodel.Model{Input: q, InputShape: intmodel.Shape{C: 2, H: 1, W: 1}, Output: q, Layers: []intmodel.Layer{fc}}
	r, err := intruntime.NewRunner(m, 4, 1)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	r.TimeLayers(true)
	logits := make([]float32, 8)
	for range 3 {
		if err := r.Run([]float32{1, 3, 2, 2, 0, 1, 4, 0}, 4, logits); err != nil {
			panic(err)
		}
	}
	for _, lt := range r.LayerTimes() {
		perImage := lt.Time / time.Duration(lt.Images) // what bench/infer -layers prints
		fmt.Println(lt.Name, lt.Kind, lt.Images, perImage >= 0)
	}
	// Output: fc linear 12 true
}
