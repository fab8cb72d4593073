package onnx

import (
	"slices"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/internal/graphtest"
)

// The structure of an exported graph model (no onnxruntime needed): the
// edges become node inputs, the depthwise and grouped convolutions carry
// their group and [O, I/groups, kh, kw] weights, Add, Concat and the
// global average pool are there.
func TestGraphStructure(t *testing.T) {
	m, err := graphtest.InvertedResidual(1, 8)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Exporter{}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	mp := parse(t, b)
	inits := map[string][]int64{}
	for _, in := range mp.GetGraph().GetInitializer() {
		inits[in.GetName()] = in.GetDims()
	}
	var groups []int64
	ops := map[string]int{}
	for _, n := range mp.GetGraph().GetNode() {
		ops[n.GetOpType()]++
		if n.GetOpType() != "ConvInteger" || !strings.HasSuffix(n.GetName(), "/acc") {
			continue
		}
		for _, a := range n.GetAttribute() {
			if a.GetName() == "group" {
				groups = append(groups, a.GetI())
			}
		}
		if d := inits[n.GetInput()[1]]; n.GetName() == "1_conv1/acc" && !slices.Equal(d, []int64{12, 1, 3, 3}) {
			t.Errorf("depthwise weight dims %v, want [12 1 3 3]", d)
		}
	}
	// expand, depthwise, project, strided depthwise (multiplier 2),
	// grouped 3×3, depthwise 5×5, strided grouped 3×3.
	if want := []int64{1, 12, 1, 4, 2, 8, 2}; !slices.Equal(groups, want) {
		t.Errorf("conv groups %v, want %v", groups, want)
	}
	if ops["MatMulInteger"] != 1 || ops["ConvInteger"] != 8 {
		t.Errorf("ops %v", ops)
	}
	add := -1
	for i, n := range mp.GetGraph().GetNode() {
		if n.GetName() == "3_add3/a64" {
			add = i
			if n.GetInput()[0] != "input_q" && n.GetInput()[0] != "input_q_clamp" {
				t.Errorf("the residual add reads %q, want the quantized input", n.GetInput()[0])
			}
		}
	}
	if add < 0 {
		t.Error("no residual add reading the input")
	}
}
