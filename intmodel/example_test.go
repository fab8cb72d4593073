package intmodel_test

import (
	"fmt"
	"os"

	"github.com/qatgo/qatgo/intmodel"
)

func ExampleQuantizeMultiplier() {
	// M = S_W·S_X/S_Y = 0.1 = 0.8·2^-3: M0 = round(0.8·2^31), shift = -3.
	m0, shift := intmodel.QuantizeMultiplier(0.1)
	fmt.Println(m0, shift)
	// Output: 1717986918 -3
}

func ExamplePack() {
	// Three 4-bit values, least significant nibble first.
	buf := make([]byte, intmodel.PackedLen(3, 4))
	if err := intmodel.Pack(buf, []int8{1, -2, 7}, 4); err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", buf)
	// Output: e1 07
}

// A one-layer model, filled as an exporter would fill it.
func ExampleInspect() {
	in := intmodel.ActQuant{Scale: 1.0 / 255, ZeroPoint: 0, Bits: 8}
	out := intmodel.ActQuant{Scale: 0.125, ZeroPoint: 0, Bits: 8, Signed: true}
	fc := &intmodel.Linear{Name: "fc", InFeatures: 4, OutFeatures: 2, Quantized: intmodel.Quantized{
		WeightBits: 4, Weights: []int8{1, 2, 3, 4, -1, -2, -3, -4},
		WeightScale: []float32{0.5, 0.25}, InAct: in, OutAct: out, Bias: []int32{0, 10},
	}}
	if err := fc.SetRequant(2); err != nil {
		panic(err)
	}
	fc.SetClamp(false)
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: 4, H: 1, W: 1}, Output: out, Layers: []intmodel.Layer{fc}}
	s, err := intmodel.Inspect(m)
	if err != nil {
		panic(err)
	}
	s.WriteText(os.Stdout)
	// Output:
	// input 4x1x1  8-bit unsigned  S=0.003921569 Z=0
	// #      name  kind    from  in     out    w-bits  act  weights  stored B  fp32 B  MACs
	// 0      fc    linear  t0    4x1x1  2x1x1  4/ch    i8   8        30        40      8
	// total                                                 8        30        40      8  (1.33x smaller; 8 multiply-adds per image)
	// output dequant S=0.125 Z=0
}

// A residual add of two tensors on different grids (TFLite's int8 ADD):
// 0.5·(13−10) + 0.25·(5+3) = 3.5, so the output code is 5 + 3.5 → 9.
func ExampleNewAdd() {
	a := intmodel.ActQuant{Scale: 0.5, ZeroPoint: 10, Bits: 8}
	b := intmodel.ActQuant{Scale: 0.25, ZeroPoint: -3, Bits: 8, Signed: true}
	out := intmodel.ActQuant{Scale: 1, ZeroPoint: 5, Bits: 8}
	add, err := intmodel.NewAdd("add", a, b, out)
	if err != nil {
		panic(err)
	}
	add.QMin, add.QMax = intmodel.ClampFor(out, true, false) // fused ReLU
	fmt.Println(add.Apply(13, 5), add.Apply(0, -128))
	// Output: 9 5
}
