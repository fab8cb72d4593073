package qconfig_test

import (
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
)

func TestParse(t *testing.T) {
	sym8 := fakequant.QScheme{Bits: 8, Signed: true, Symmetric: true, Granularity: fakequant.PerChannel}
	for _, test := range []struct {
		spec     string
		w, a     *fakequant.QScheme
		wobs     string
		aobs     string
		failWith string
	}{
		{spec: "fp32"},
		{spec: "w8a8", w: &sym8, a: &fakequant.QScheme{Bits: 8}, wobs: "minmax", aobs: "ema"},
		{spec: "W4A8,per-tensor,narrow,wobs=mse,aobs=histogram",
			w: &fakequant.QScheme{Bits: 4, Signed: true, Symmetric: true, NarrowRange: true, Granularity: fakequant.PerTensor},
			a: &fakequant.QScheme{Bits: 8}, wobs: "mse", aobs: "histogram"},
		{spec: "w2a32", w: &fakequant.QScheme{Bits: 2, Signed: true, Symmetric: true, Granularity: fakequant.PerChannel}, wobs: "minmax"},
		{spec: "w32a4", a: &fakequant.QScheme{Bits: 4}, aobs: "ema"},
		// Below 4 activation bits the default is the MSE-optimal range;
		// an explicit observer and LSQ keep theirs.
		{spec: "w2a2", w: &fakequant.QScheme{Bits: 2, Signed: true, Symmetric: true, Granularity: fakequant.PerChannel},
			a: &fakequant.QScheme{Bits: 2}, wobs: "minmax", aobs: "mse"},
		{spec: "w4a3,aobs=ema", w: &fakequant.QScheme{Bits: 4, Signed: true, Symmetric: true, Granularity: fakequant.PerChannel},
			a: &fakequant.QScheme{Bits: 3}, wobs: "minmax", aobs: "ema"},
		{spec: "w2a2,method=lsq", w: &fakequant.QScheme{Bits: 2, Signed: true, Symmetric: true, Granularity: fakequant.PerChannel},
			a: &fakequant.QScheme{Bits: 2}, wobs: "minmax", aobs: "ema"},
		{spec: "w0a8", failWith: "bit width 0"},
		{spec: "w8a17", failWith: "bit width 17"},
		{spec: "w8", failWith: "want fp32"},
		{spec: "int8", failWith: "want fp32"},
		{spec: "wxa8", failWith: "not integers"},
		{spec: "w8a8,fast", failWith: "unknown option"},
		{spec: "w8a8,method=magic", failWith: "method"},
		{spec: "w1a8,narrow", failWith: "narrow"},
	} {
		c, err := qconfig.Parse(test.spec)
		if test.failWith != "" {
			if !errors.Is(err, qconfig.ErrSpec) || !strings.Contains(err.Error(), test.failWith) {
				t.Errorf("%q: got %v, want qconfig.ErrSpec with %q", test.spec, err, test.failWith)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", test.spec, err)
			continue
		}
		if (c.Weight == nil) != (test.w == nil) || (c.Act == nil) != (test.a == nil) {
			t.Errorf("%q: weight %v act %v", test.spec, c.Weight, c.Act)
			continue
		}
		if c.Weight != nil && (c.Weight.Scheme != *test.w || c.Weight.Observer != test.wobs) {
			t.Errorf("%q: weight %+v", test.spec, *c.Weight)
		}
		var aobs string
		if c.Act != nil {
			if aobs = c.Act.Observer; aobs == "" {
				aobs = qconfig.DefaultObserver(*c.Act, true)
			}
		}
		if c.Act != nil && (c.Act.Scheme != *test.a || aobs != test.aobs) {
			t.Errorf("%q: act %+v", test.spec, *c.Act)
		}
	}
}

func TestOverrides(t *testing.T) {
	c, _ := qconfig.Parse("w8a8")
	ov, err := qconfig.ParseOverrides([]byte(`{"fc2": {"weight_bits": 2}, "conv1": {"weight_bits": 4, "per_channel": false}, "fc1": {"float": true}}`))
	if err != nil {
		t.Fatal(err)
	}
	c.Overrides = ov
	m, err := zoo.New("lenet5", c, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	seq := m.Body.(*nn.Sequential)
	conv1, fc1, fc2 := seq.Layers[0].(*nn.Conv2d), seq.Layers[5].(*nn.Linear), seq.Layers[6].(*nn.Linear)
	if s := conv1.WQ.(*fakequant.Affine).Observer().Scheme(); s.Bits != 4 || s.Granularity != fakequant.PerTensor {
		t.Errorf("conv1 weight scheme %v", s)
	}
	if fc1.WQ != nil || fc1.AQ != nil {
		t.Error("fc1 should stay float")
	}
	if s := fc2.WQ.(*fakequant.Affine).Observer().Scheme(); s.Bits != 2 || s.Granularity != fakequant.PerChannel {
		t.Errorf("fc2 weight scheme %v", s)
	}
	for _, test := range []struct{ json, want string }{
		{`{"fc9": {"weight_bits": 4}}`, `override "fc9" selects no layer`},
		{`{"type:lstm": {"weight_bits": 4}}`, `layer type "lstm"`},
		{`{"fc[": {"weight_bits": 4}}`, "not a valid pattern"},
		{`{"fc1": {"method": "magic"}}`, `method "magic"`},
		{`{"fc1": {"weight_bitz": 4}}`, "weight_bitz"},
		{`{"fc1": {"act_bits": 0}}`, "bit width 0"},
		{`[1]`, "overrides"},
	} {
		ov, err := qconfig.ParseOverrides([]byte(test.json))
		if err == nil {
			c.Overrides = ov
			_, err = zoo.New("lenet5", c, rand.New(rand.NewSource(1)))
		}
		if !errors.Is(err, qconfig.ErrSpec) || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: got %v, want qconfig.ErrSpec with %q", test.json, err, test.want)
		}
	}
}

func TestParseQuantConfigFloatFormats(t *testing.T) {
	for spec, want := range map[string]string{"bf16": "bf16", "FP8-E4M3": "fp8e4m3", "fp16": "fp16", "tf32": "tf32"} {
		c, err := qconfig.Parse(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if c.Weight == nil || c.Act == nil {
			t.Fatalf("%s: weights and activations should both be simulated", spec)
		}
		q, err := qconfig.NewQuantizer(*c.Weight, false)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if q.String() != want {
			t.Errorf("%s: quantizer %q, want %q", spec, q.String(), want)
		}
	}
	if _, err := qconfig.Parse("fp7"); err == nil {
		t.Error("fp7 accepted")
	}
}

// TestEdgeActBits: with io8 the input quantizer and the last layer's output
// (LeNet-5's fc2) are 8-bit, the hidden activations keep the spec's bits.
func TestEdgeActBits(t *testing.T) {
	c, err := qconfig.Parse("w2a2,method=lsq,io8")
	if err != nil || c.EdgeActBits != 8 {
		t.Fatalf("%+v %v", c, err)
	}
	m, err := zoo.New("lenet5", c, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"input": "uint8", "conv1.act": "uint2", "conv2.act": "uint2", "fc1.act": "uint2", "fc2.act": "uint8"}
	seen := 0
	for _, nq := range m.Quantizers() {
		if w, ok := want[nq.Name]; ok {
			seen++
			if got := nq.Q.String(); !strings.HasPrefix(got, w+" ") {
				t.Errorf("%s: %q, want %s", nq.Name, got, w)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("saw %d of %d quantizers", seen, len(want))
	}
}
