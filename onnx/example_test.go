package onnx_test

import (
	"bytes"
	"fmt"

	"google.golang.org/protobuf/proto"

	pb "github.com/qatgo/qatgo/internal/onnxpb"
	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/onnx"
)

// Export a one-layer integer model and list the ONNX graph it becomes.
func ExampleExport() {
	in := intmodel.ActQuant{Scale: 1.0 / 255, ZeroPoint: 0, Bits: 8}
	out := intmodel.ActQuant{Scale: 0.125, ZeroPoint: 0, Bits: 8, Signed: true}
	fc := &intmodel.Linear{Name: "fc", InFeatures: 4, OutFeatures: 2, Quantized: intmodel.Quantized{
		WeightBits: 8, Weights: []int8{1, 2, 3, 4, -1, -2, -3, -4},
		WeightScale: []float32{0.5, 0.25}, InAct: in, OutAct: out, Bias: []int32{0, 10},
	}}
	if err := fc.SetRequant(2); err != nil {
		panic(err)
	}
	fc.SetClamp(false)
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: 4, H: 1, W: 1}, Output: out, Layers: []intmodel.Layer{fc}}

	var buf bytes.Buffer
	if err := onnx.Export(m, &buf); err != nil {
		panic(err)
	}
	var mp pb.ModelProto
	if err := proto.Unmarshal(buf.Bytes(), &mp); err != nil {
		panic(err)
	}
	fmt.Println("opset", mp.GetOpsetImport()[0].GetVersion(), "ir", mp.GetIrVersion())
	for _, n := range mp.GetGraph().GetNode() {
		fmt.Println(n.GetOpType(), n.GetOutput()[0])
	}
	// Output:
	// opset 13 ir 7
	// Mul input_scaled
	// QuantizeLinear input_q
	// Flatten 0_fc/flatten
	// MatMulInteger 0_fc/acc
	// Add 0_fc/acc_bias
	// Cast 0_fc/acc64
	// Mul 0_fc/mul_m0
	// Less 0_fc/mul_m0_neg
	// Where 0_fc/nudge
	// Add 0_fc/mul_m0_nudged
	// Div 0_fc/high_mul
	// Less 0_fc/high_mul_neg
	// Where 0_fc/round
	// Add 0_fc/rounded
	// Div 0_fc/rshift
	// Add 0_fc/plus_zp
	// Clip 0_fc/clamp
	// Cast 0_fc/q
	// DequantizeLinear logits
}
