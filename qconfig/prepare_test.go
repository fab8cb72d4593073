package qconfig_test

import (
	"math/rand"
	"testing"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
)

func weightBits(t *testing.T, q fakequant.Quantizer) int {
	t.Helper()
	if q == nil {
		return 32
	}
	p, err := q.QParams()
	if err == nil {
		return p.Scheme.Bits
	}
	if a, ok := q.(*fakequant.Affine); ok {
		return a.Observer().Scheme().Bits
	}
	t.Fatalf("quantizer %v: %v", q, err)
	return 0
}

// Settings are built from the least to the most specific entry: global,
// type, patterns (shorter first), exact name; each entry changes only what
// it sets.
func TestRulesMostSpecificWins(t *testing.T) {
	c, err := qconfig.Parse("w8a8")
	if err != nil {
		t.Fatal(err)
	}
	if c.Overrides, err = qconfig.ParseOverrides([]byte(`{
		"type:depthwise": {"weight_bits": 6},
		"ir*": {"weight_bits": 5},
		"ir1.*": {"weight_bits": 4, "per_channel": false},
		"ir1.dw": {"weight_bits": 3},
		"type:add": {"act_bits": 7},
		"fc": {"float": true}
	}`)); err != nil {
		t.Fatal(err)
	}
	m, err := zoo.Default().New("mobilenetv2", zoo.MNIST, c, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]fakequant.Quantizer{}
	for _, q := range m.Quantizers() {
		got[q.Name] = q.Q
	}
	for _, test := range []struct {
		name string
		bits int
	}{
		{"stem.conv.weight", 8},   // global
		{"ir0.dw.weight", 5},      // type:depthwise (6), then "ir*" (5)
		{"ir0.project.weight", 5}, // "ir*"
		{"ir1.expand.weight", 4},  // "ir*", then the longer "ir1.*"
		{"ir1.dw.weight", 3},      // ..., then the exact name
		{"ir2.add.act", 7},        // type:add
		{"head.conv.weight", 8},   // nothing matches
	} {
		q, ok := got[test.name]
		if !ok {
			t.Errorf("no quantizer %s", test.name)
			continue
		}
		if b := weightBits(t, q); b != test.bits {
			t.Errorf("%s: %d bits, want %d", test.name, b, test.bits)
		}
	}
	if a, ok := got["ir1.expand.weight"].(*fakequant.Affine); !ok || a.Observer().Scheme().Granularity != fakequant.PerTensor {
		t.Errorf("ir1.expand.weight should be per-tensor from \"ir1.*\"")
	}
	if _, ok := got["fc.weight"]; ok {
		t.Error("fc should stay float")
	}
}

// Quantizers reach layers however deeply nested, and Prepare folds a
// Conv2d + BatchNorm2d pair (keeping the parameters, so FP32 weights carry
// over) and fuses the ReLU after it.
func TestPrepareNestedAndFolds(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	conv := nn.NewConv2d("c", 1, 2, 3, nn.ConvOpts{NoBias: true}, rng)
	bn := nn.NewBatchNorm2d("c.bn", 2)
	inner := nn.NewSequential("inner", conv, bn, &nn.ReLU{LayerName: "r"})
	body := nn.NewSequential("outer", nn.NewSequential("mid", inner), &nn.Flatten{LayerName: "f"}, nn.NewLinear("fc", 2*4*4, 3, true, rng))
	c, _ := qconfig.Parse("w4a8")
	m, err := qconfig.Prepare(body, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(inner.Layers) != 1 {
		t.Fatalf("inner has %d layers after Prepare, want one ConvBn", len(inner.Layers))
	}
	cb, ok := inner.Layers[0].(*nn.ConvBn)
	if !ok || cb.Conv != conv || cb.BN != bn || !conv.ReLU || conv.WQ == nil || conv.AQ == nil {
		t.Fatalf("inner layer %T: want the conv and batch norm folded, ReLU fused, quantized", inner.Layers[0])
	}
	if m.InputQ == nil {
		t.Error("no input quantizer")
	}
	net, err := nn.Compile(m, nn.CompileConfig{Batch: 2, InputShape: [3]int{1, 6, 6}, Classes: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	layers, _, err := net.Graph()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 3 || layers[0].Kind != "convbn" || !layers[0].ReLU || layers[1].Kind != "flatten" || layers[2].Inputs[0] != 1 {
		t.Errorf("graph %+v", layers)
	}
}
