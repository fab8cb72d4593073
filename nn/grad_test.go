package nn

import (
	"math/rand"
	"testing"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/internal/gradcheck"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// identityQ is a quantizer that passes values through; it lets the
// BN-folding path of ConvBn (which only exists with a weight quantizer) be
// gradient-checked in float64.
type identityQ struct{}

func (identityQ) Apply(_ fakequant.Binder, x *G.Node) (*G.Node, error) { return x, nil }
func (identityQ) SetObserving(bool)                                    {}
func (identityQ) SetEnabled(bool)                                      {}
func (identityQ) QParams() (fakequant.QParams, error) {
	return fakequant.QParams{}, fakequant.ErrNotObserved
}
func (identityQ) MarshalState() ([]byte, error) { return nil, nil }
func (identityQ) UnmarshalState([]byte) error   { return nil }
func (identityQ) String() string                { return "identity" }

// toFloat64 converts m's parameters to float64 in place (before Compile).
func toFloat64(m Module) {
	for _, p := range m.Params() {
		f := p.Float32s()
		v := make([]float64, len(f))
		for i, e := range f {
			v[i] = float64(e)
		}
		p.Value = tensor.New(tensor.WithShape(p.Value.Shape().Clone()...), tensor.WithBacking(v))
		if p.Grad != nil {
			p.Grad = tensor.New(tensor.WithShape(p.Value.Shape().Clone()...), tensor.Of(tensor.Float64))
		}
	}
}

// checkGrad compiles m in float64 with an input gradient, loads a random
// batch and random labels, and compares every trainable parameter's and the
// input's gradient with central differences.
func checkGrad(t *testing.T, name string, m Module, in [3]int, batch, classes int, frozen bool) {
	t.Helper()
	toFloat64(m)
	n, err := Compile(m, CompileConfig{Batch: batch, InputShape: in, Classes: classes, DType: tensor.Float64, inputGrad: true})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer n.Close()
	n.FreezeBN(frozen)
	rng := rand.New(rand.NewSource(7))
	x := data[float64](n.train.x)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	oh := data[float64](n.train.onehot)
	for i := 0; i < batch; i++ {
		oh[i*classes+rng.Intn(classes)] = 1
	}
	if _, err := n.step(false); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	vars := []gradcheck.Param{{Name: "input", Value: x, Grad: append([]float64(nil), data[float64](n.xgrad)...)}}
	for _, p := range n.Params() {
		if p.Trainable {
			vars = append(vars, gradcheck.Param{Name: p.Name, Value: data[float64](p.Value), Grad: append([]float64(nil), data[float64](p.Grad)...)})
		}
	}
	loss := func() (float64, error) { return n.step(false) }
	// Relative error 1e-5 with magnitudes below 1e-4 compared absolutely.
	r, err := gradcheck.Check(loss, vars, gradcheck.Options{Step: 1e-6, AbsTol: 1e-9, RelTol: 1e-5, MaxPerParam: 60})
	switch {
	case err != nil:
		t.Errorf("%s: %v", name, err)
	case !r.OK() || r.Skipped > r.Checked/10:
		t.Errorf("%s: %v", name, r)
	default:
		t.Logf("%s: %v", name, r)
	}
}

func TestGradients(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	seq := func(ls ...Module) Module { return &Model{ModelName: "t", Body: NewSequential("t", ls...)} }
	// BN with non-trivial running statistics for the frozen checks.
	bnWithStats := func(name string, c int) *BatchNorm2d {
		bn := NewBatchNorm2d(name, c)
		bn.Gamma.uniform(rng, 2)
		bn.Beta.uniform(rng, 1)
		bn.RunningMean.uniform(rng, 0.5)
		v := data[float32](bn.RunningVar.Value)
		for i := range v {
			v[i] = 0.5 + rng.Float32()
		}
		return bn
	}
	convBn := func(name string, in, out, k int, o ConvOpts, wq bool) *ConvBn {
		cb := NewConvBn(name, in, out, k, o, rng)
		cb.BN = bnWithStats(name+".bn", out)
		if wq {
			cb.Conv.WQ = identityQ{}
		}
		return cb
	}
	for _, test := range []struct {
		name    string
		m       Module
		in      [3]int
		batch   int
		classes int
		frozen  bool
	}{
		{"linear+relu+linear", seq(&Flatten{"f"}, NewLinear("fc1", 6, 5, true, rng), &ReLU{"r"}, NewLinear("fc2", 5, 4, true, rng)), [3]int{6, 1, 1}, 3, 4, false},
		{"linear no bias", seq(&Flatten{"f"}, NewLinear("fc1", 12, 3, false, rng)), [3]int{3, 2, 2}, 2, 3, false},
		{"conv stride2 pad1 dil2", seq(NewConv2d("c", 2, 3, 3, ConvOpts{Stride: 2, Padding: 1, Dilation: 2}, rng), &Flatten{"f"}), [3]int{2, 7, 6}, 2, 3 * 3 * 2, false},
		{"conv 1x1", seq(NewConv2d("c", 3, 2, 1, ConvOpts{}, rng), &Flatten{"f"}), [3]int{3, 2, 3}, 2, 12, false},
		{"conv+relu+maxpool", seq(NewConv2d("c", 1, 2, 3, ConvOpts{Padding: 1}, rng), &ReLU{"r"}, &MaxPool2d{LayerName: "p", Kernel: 3, Stride: 2, Padding: 1}, &Flatten{"f"}), [3]int{1, 5, 5}, 2, 18, false},
		{"avgpool", seq(NewConv2d("c", 1, 2, 3, ConvOpts{}, rng), &AvgPool2d{LayerName: "p", Kernel: 2}, &Flatten{"f"}), [3]int{1, 6, 6}, 2, 8, false},
		{"avgpool overlapping padded", seq(NewConv2d("c", 1, 2, 1, ConvOpts{}, rng), &AvgPool2d{LayerName: "p", Kernel: 3, Stride: 2, Padding: 1}, &Flatten{"f"}), [3]int{1, 5, 4}, 2, 12, false},
		{"batchnorm train", seq(bnWithStats("bn", 3), &Flatten{"f"}), [3]int{3, 2, 2}, 4, 12, false},
		{"batchnorm frozen", seq(bnWithStats("bn", 3), &Flatten{"f"}), [3]int{3, 2, 2}, 4, 12, true},
		{"convbn train", seq(convBn("cb", 2, 3, 3, ConvOpts{Padding: 1}, false), &ReLU{"r"}, &Flatten{"f"}), [3]int{2, 3, 3}, 3, 27, false},
		{"convbn folded train", seq(convBn("cb", 2, 3, 3, ConvOpts{Padding: 1}, true), &Flatten{"f"}), [3]int{2, 3, 3}, 3, 27, false},
		{"convbn folded frozen", seq(convBn("cb", 2, 3, 3, ConvOpts{Padding: 1}, true), &Flatten{"f"}), [3]int{2, 3, 3}, 3, 27, true},
		{"dropout", seq(&Flatten{"f"}, NewLinear("fc", 8, 6, true, rng), NewDropout("d", 0.5, rng)), [3]int{8, 1, 1}, 3, 6, false},
		{"depthwise+relu6", seq(NewConv2d("dw", 3, 3, 3, ConvOpts{Padding: 1, Stride: 2, Groups: 3}, rng), &ReLU6{"r6"}, &Flatten{"f"}), [3]int{3, 5, 5}, 2, 27, false},
		{"grouped x2", seq(NewConv2d("g", 4, 6, 3, ConvOpts{Padding: 1, Groups: 2}, rng), &Flatten{"f"}), [3]int{4, 3, 3}, 2, 54, false},
		{"residual identity+relu", seq(NewResidual("res", NewSequential("b", NewConv2d("c1", 2, 2, 3, ConvOpts{Padding: 1}, rng), &ReLU{"r"}, NewConv2d("c2", 2, 2, 3, ConvOpts{Padding: 1}, rng)), nil), &ReLU{"r2"}, &Flatten{"f"}), [3]int{2, 3, 3}, 2, 18, false},
		{"residual projection", seq(NewResidual("res", NewConv2d("c1", 2, 3, 3, ConvOpts{Padding: 1, Stride: 2}, rng), convBn("proj", 2, 3, 1, ConvOpts{Stride: 2}, true)), &Flatten{"f"}), [3]int{2, 4, 4}, 2, 12, false},
		{"branches concat+gap", seq(NewBranches("br", NewConv2d("a", 2, 2, 1, ConvOpts{}, rng), NewConv2d("b", 2, 3, 3, ConvOpts{Padding: 1}, rng)), &GlobalAvgPool{LayerName: "gap"}), [3]int{2, 3, 3}, 2, 5, false},
	} {
		checkGrad(t, test.name, test.m, test.in, test.batch, test.classes, test.frozen)
	}
}
