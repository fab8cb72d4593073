package export_test

import (
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/export"
	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/intruntime"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
	G "gorgonia.org/gorgonia"
)

// stepQAT trains net for a few SGD steps on random images, so that weights,
// batch-norm statistics and observer ranges move away from their
// initialisation, then freezes the observers.
func stepQAT(t *testing.T, net *nn.Net, per, classes, steps int, rng *rand.Rand) {
	t.Helper()
	b := net.Batch()
	x := make([]float32, b*per)
	labels := make([]int, b)
	for range steps {
		for i := range x {
			x[i] = rng.Float32()
		}
		for i := range labels {
			labels[i] = rng.Intn(classes)
		}
		if _, _, err := net.Step(x, labels); err != nil {
			t.Fatal(err)
		}
		for _, p := range net.Params() {
			if !p.Trainable || p.Grad == nil {
				continue
			}
			v, g := p.Value.Data().([]float32), p.Grad.Data().([]float32)
			for i := range v {
				v[i] -= 0.02 * g[i]
			}
		}
	}
	net.SetObserving(false)
}

// exportAndCompare exports net, runs the integer model and the fake-quant
// model on random images and counts differing logits and predictions.
func exportAndCompare(t *testing.T, net *nn.Net, per, classes int, rng *rand.Rand) (m *intmodel.Model, logits, preds int) {
	t.Helper()
	m, err := export.FromNet(net)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if m, err = intmodel.Unmarshal(bs); err != nil {
		t.Fatal(err)
	}
	b := net.Batch()
	run, err := intruntime.NewRunner(m, b, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	x := make([]float32, b*per)
	fl, il := make([]float32, b*classes), make([]float32, b*classes)
	for range 3 {
		for i := range x {
			x[i] = rng.Float32()
		}
		if err := net.Predict(x, b, fl); err != nil {
			t.Fatal(err)
		}
		if err := run.Run(x, b, il); err != nil {
			t.Fatal(err)
		}
		for s := range b {
			if argmax(fl[s*classes:(s+1)*classes]) != argmax(il[s*classes:(s+1)*classes]) {
				preds++
			}
			for j := range classes {
				if fl[s*classes+j] != il[s*classes+j] {
					logits++
				}
			}
		}
	}
	return m, logits, preds
}

func argmax(v []float32) int {
	best := 0
	for i, e := range v {
		if e > v[best] {
			best = i
		}
	}
	return best
}

// TestGraphModelsExact exports ResNet-20 and MobileNetV2 (residual adds,
// projection shortcuts, depthwise convolutions, ReLU6, global average
// pooling) at W8A8 and W4A8 and requires the integer runtime to reproduce
// the fake-quant model's logits exactly.
func TestGraphModelsExact(t *testing.T) {
	sp := zoo.Spec{InputShape: [3]int{1, 16, 16}, Classes: 10}
	per := 16 * 16
	for _, name := range []string{"resnet20", "mobilenetv2"} {
		for _, spec := range []string{"w8a8", "w4a8"} {
			t.Run(name+"/"+spec, func(t *testing.T) {
				q, err := qconfig.Parse(spec)
				if err != nil {
					t.Fatal(err)
				}
				m, err := zoo.Default().New(name, sp, q, rand.New(rand.NewSource(3)))
				if err != nil {
					t.Fatal(err)
				}
				net, err := nn.Compile(m, nn.CompileConfig{Batch: 8, InputShape: sp.InputShape, Classes: sp.Classes})
				if err != nil {
					t.Fatal(err)
				}
				defer net.Close()
				rng := rand.New(rand.NewSource(4))
				stepQAT(t, net, per, sp.Classes, 3, rng)
				im, logits, preds := exportAndCompare(t, net, per, sp.Classes, rng)
				kinds := map[intmodel.Kind]int{}
				for _, l := range im.Layers {
					kinds[l.Kind()]++
				}
				if kinds[intmodel.KindAdd] == 0 || kinds[intmodel.KindGlobalAvgPool] != 1 {
					t.Errorf("layer kinds %v: want residual adds and one global average pool", kinds)
				}
				if logits != 0 || preds != 0 {
					t.Errorf("%d logits and %d predictions differ between fake-quant and the integer runtime", logits, preds)
				}
			})
		}
	}
}

// A user's own modules: a block holding layers (a Container) with two
// branches concatenated and a residual add, inside nested Sequentials.
type twoPath struct {
	name   string
	a, b   *nn.Sequential
	cat    *nn.Concat
	mix    *nn.Conv2d
	sum    *nn.Add
	layers []nn.Module
}

func newTwoPath(name string, c int, rng *rand.Rand) *twoPath {
	p := &twoPath{name: name,
		a:   nn.NewSequential(name+".a", nn.NewConv2d(name+".a.conv", c, c, 3, nn.ConvOpts{Padding: 1}, rng), &nn.ReLU{LayerName: name + ".a.relu"}),
		b:   nn.NewSequential(name+".b", nn.NewConv2d(name+".b.dw", c, c, 3, nn.ConvOpts{Padding: 1, Groups: c}, rng), nn.NewBatchNorm2d(name+".b.bn", c), &nn.ReLU6{LayerName: name + ".b.relu6"}),
		cat: &nn.Concat{LayerName: name + ".cat"},
		mix: nn.NewConv2d(name+".mix", 2*c, c, 1, nn.ConvOpts{}, rng),
		sum: &nn.Add{LayerName: name + ".add", ReLU: true},
	}
	return p
}

func (p *twoPath) Name() string { return p.name }
func (p *twoPath) Children() []nn.Module {
	return []nn.Module{p.a, p.b, p.cat, p.mix, p.sum}
}
func (p *twoPath) Params() []*nn.Param {
	var ps []*nn.Param
	for _, m := range p.Children() {
		ps = append(ps, m.Params()...)
	}
	return ps
}
func (p *twoPath) Quantizers() []nn.NamedQuantizer {
	var qs []nn.NamedQuantizer
	for _, m := range p.Children() {
		qs = append(qs, m.Quantizers()...)
	}
	return qs
}
func (p *twoPath) Build(b *nn.Builder, x *G.Node) (*G.Node, error) {
	ya, err := b.Build(p.a, x)
	if err != nil {
		return nil, err
	}
	yb, err := b.Build(p.b, x)
	if err != nil {
		return nil, err
	}
	y, err := p.cat.Apply(b, ya, yb)
	if err != nil {
		return nil, err
	}
	if y, err = b.Build(p.mix, y); err != nil {
		return nil, err
	}
	return p.sum.Apply(b, y, x)
}

func customModel(rng *rand.Rand) nn.Module {
	return nn.NewSequential("custom",
		nn.NewSequential("stem", nn.NewConv2d("stem.conv", 2, 8, 3, nn.ConvOpts{Stride: 2, Padding: 1}, rng), nn.NewBatchNorm2d("stem.bn", 8), &nn.ReLU{LayerName: "stem.relu"}),
		newTwoPath("block", 8, rng),
		&nn.AvgPool2d{LayerName: "pool", Kernel: 2},
		&nn.Flatten{LayerName: "flat"},
		nn.NewLinear("fc", 8*3*3, 5, true, rng),
	)
}

// TestCustomModel prepares a user-defined model (nested containers, a
// user module with branches, concat, depthwise conv with a standalone batch
// norm, residual add, average pooling) from its FP32 form in one call,
// trains it a little, exports it and requires 0 differing logits.
func TestCustomModel(t *testing.T) {
	for _, spec := range []string{"w8a8", "w4a8,per-tensor"} {
		t.Run(spec, func(t *testing.T) {
			q, err := qconfig.Parse(spec)
			if err != nil {
				t.Fatal(err)
			}
			m, err := qconfig.Prepare(customModel(rand.New(rand.NewSource(1))), q)
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, nqz := range m.Quantizers() {
				names[nqz.Name] = true
			}
			for _, want := range []string{"input", "stem.conv.weight", "block.a.conv.act", "block.b.dw.weight", "block.cat.act", "block.add.act", "pool.act", "fc.weight"} {
				if !names[want] {
					t.Errorf("no quantizer %s (have %v)", want, names)
				}
			}
			sp := [3]int{2, 12, 12}
			net, err := nn.Compile(m, nn.CompileConfig{Batch: 8, InputShape: sp, Classes: 5})
			if err != nil {
				t.Fatal(err)
			}
			defer net.Close()
			rng := rand.New(rand.NewSource(5))
			stepQAT(t, net, 2*12*12, 5, 4, rng)
			_, logits, preds := exportAndCompare(t, net, 2*12*12, 5, rng)
			if logits != 0 || preds != 0 {
				t.Errorf("%d logits and %d predictions differ", logits, preds)
			}
		})
	}
}

// times2 is a user module computing with a raw gorgonia op: it trains, but
// has no quantized or integer form.
type times2 struct{}

func (times2) Name() string                    { return "times2" }
func (times2) Params() []*nn.Param             { return nil }
func (times2) Quantizers() []nn.NamedQuantizer { return nil }
func (times2) Build(b *nn.Builder, x *G.Node) (*G.Node, error) {
	return G.Mul(x, G.NewConstant(float32(2)))
}

// opaque holds a parameter but does not say what it is.
type opaque struct{ p *nn.Param }

func (o opaque) Name() string                    { return "opaque" }
func (o opaque) Params() []*nn.Param             { return []*nn.Param{o.p} }
func (o opaque) Quantizers() []nn.NamedQuantizer { return nil }
func (o opaque) Build(b *nn.Builder, x *G.Node) (*G.Node, error) {
	return x, nil
}

// TestUnsupportedModulesNamed: a module outside qatgo's layers fails
// preparation or export with an error naming it; nothing is skipped.
func TestUnsupportedModulesNamed(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	q, _ := qconfig.Parse("w8a8")
	body := nn.NewSequential("m", &nn.Flatten{LayerName: "f"}, nn.NewLinear("fc1", 16, 8, true, rng), times2{}, nn.NewLinear("fc2", 8, 3, true, rng))
	m, err := qconfig.Prepare(body, q)
	if err != nil {
		t.Fatal(err)
	}
	net, err := nn.Compile(m, nn.CompileConfig{Batch: 2, InputShape: [3]int{1, 4, 4}, Classes: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	if _, err := export.FromNet(net); !errors.Is(err, export.ErrUnsupported) || !errors.Is(err, nn.ErrUntraced) || !strings.Contains(err.Error(), `"times2"`) {
		t.Errorf("export of a model with a raw graph op: %v", err)
	}
	p := nn.NewLinear("x", 2, 2, false, rng).Weight
	_, err = qconfig.Prepare(nn.NewSequential("m", opaque{p}), q)
	if !errors.Is(err, qconfig.ErrPrepare) || !strings.Contains(err.Error(), `"opaque"`) {
		t.Errorf("prepare of an opaque module with parameters: %v", err)
	}
	_, err = qconfig.Prepare(nn.NewSequential("m", &nn.Flatten{LayerName: "f"}, nn.NewBatchNorm2d("bn", 2)), q)
	if !errors.Is(err, qconfig.ErrPrepare) || !strings.Contains(err.Error(), `"bn"`) {
		t.Errorf("prepare of an unfoldable batch norm: %v", err)
	}
}
