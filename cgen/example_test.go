package cgen_test

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/qatgo/qatgo/cgen"
	"github.com/qatgo/qatgo/internal/graphtest"
	"github.com/qatgo/qatgo/intmodel"
)

// A one-layer model (4 inputs, 2 outputs, 4-bit weights) as C: the header
// declares one function and the memory figures. Everything is live at once
// here (input 4 B, int16 column 8 B, unpacked weight row 4 B, output 2 B
// rounded to 4), so the arena equals the naive plan; constants: packed
// weights 4 B, bias and M0 8 B each, shifts 2 B, the layer table 52 B.
func ExampleGenerate() {
	in := intmodel.ActQuant{Scale: 1.0 / 255, ZeroPoint: 0, Bits: 8}
	out := intmodel.ActQuant{Scale: 0.125, ZeroPoint: 0, Bits: 8, Signed: true}
	fc := &intmodel.Linear{Name: "fc", InFeatures: 4, OutFeatures: 2, Quantized: intmodel.Quantized{
		WeightBits: 4, Weights: []int8{1, -2, 3, -4, 5, -6, 7, -8}, WeightScale: []float32{0.1},
		InAct: in, OutAct: out, Bias: []int32{10, -10}}}
	if err := fc.SetRequant(2); err != nil {
		panic(err)
	}
	fc.SetClamp(false)
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: 4, H: 1, W: 1}, Output: out, Layers: []intmodel.Layer{fc}}
	res, err := cgen.Generate(m, cgen.Options{Prefix: "tiny"})
	if err != nil {
		panic(err)
	}
	for _, f := range res.Files {
		fmt.Println(f.Name)
	}
	sc := bufio.NewScanner(bytes.NewReader(res.Files[0].Data))
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "void") || strings.HasPrefix(l, "#define") && strings.Contains(l, "_BYTES") {
			fmt.Println(l)
		}
	}
	// Output:
	// tiny.h
	// tiny.c
	// tiny_weights.h
	// #define TINY_ARENA_BYTES 20
	// #define TINY_ARENA_NAIVE_BYTES 20
	// #define TINY_CONST_BYTES 74
	// #define TINY_WEIGHT_BYTES 4
	// void tiny_run(const tiny_input_t *input, tiny_output_t *output);
}

// A residual block as C: the skip tensor (conv0) stays live until the add
// that reads it, the add writes over it, and the global average pool and
// flatten after it work in place; the run function reads each layer's
// inputs by edge.
func ExampleGenerate_residual() {
	b := graphtest.NewBuilder(1, intmodel.Shape{C: 1, H: 8, W: 8}, intmodel.ActQuant{Scale: 1.0 / 255, Bits: 8}, 8)
	c := b.Conv(0, 4, 3, 1, 1, 1, true, false)
	dw := b.Conv(c, 4, 3, 1, 1, 4, true, false) // depthwise
	b.Linear(b.Flatten(b.GlobalAvgPool(b.Add(c, dw, false, false))), 10, false)
	m, err := b.Model()
	if err != nil {
		panic(err)
	}
	res, err := cgen.Generate(m, cgen.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println("arena", res.Report.ArenaBytes, "naive", res.Report.NaiveBytes)
	src := string(res.Files[1].Data)
	for _, l := range strings.Split(src[strings.Index(src, "void model_run"):], "\n") {
		if strings.HasPrefix(l, "\t/* ") {
			fmt.Println(strings.TrimSpace(l))
		}
	}
	// Output:
	// arena 512 naive 956
	// /* conv0: conv2d 1x8x8 -> 4x8x8, 3x3/1, 8-bit weights */
	// /* conv1: depthwise conv2d (4 groups) 4x8x8 -> 4x8x8, 3x3/1, 8-bit weights */
	// /* add2: add 4x8x8, in place */
	// /* gap3: global average pool 4x8x8 -> 4x1x1, in place */
	// /* flatten4: flatten (in place) */
	// /* fc5: linear 4 -> 10, 8-bit weights */
}
