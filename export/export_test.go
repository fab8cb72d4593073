package export_test

import (
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/export"
	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/intruntime"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
)

const batch = 32

// data returns a small MNIST training subset and a test batch, or synthetic
// data when MNIST is not installed.
func data(t *testing.T) (train, test *datasets.Dataset) {
	t.Helper()
	tr, te, err := datasets.Load("mnist", "")
	if err != nil {
		t.Logf("MNIST not available (%v); using synthetic data", err)
		if tr, te, err = datasets.Load("synthetic", ""); err != nil {
			t.Fatal(err)
		}
	}
	if tr, err = tr.Subset(min(tr.Len(), 40*batch)); err != nil {
		t.Fatal(err)
	}
	if te, err = te.Subset(min(te.Len(), 4*batch)); err != nil {
		t.Fatal(err)
	}
	return tr, te
}

// trainQAT builds LeNet-5 with spec and trains it briefly (plain SGD, QAT
// from scratch), so that observers, weights and biases are realistic.
func trainQAT(t *testing.T, spec string, tr *datasets.Dataset) *nn.Net {
	t.Helper()
	q, err := qconfig.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := zoo.New("lenet5", q, rand.New(rand.NewSource(7)))
	if err != nil {
		t.Fatal(err)
	}
	net, err := nn.Compile(m, nn.CompileConfig{Batch: batch, InputShape: [3]int{tr.C, tr.H, tr.W}, Classes: tr.NumClasses})
	if err != nil {
		t.Fatal(err)
	}
	per := tr.SampleSize()
	labels := make([]int, batch)
	for step := 0; step+batch <= tr.Len(); step += batch {
		for i := range labels {
			labels[i] = int(tr.Labels[step+i])
		}
		if _, _, err := net.Step(tr.X[step*per:(step+batch)*per], labels); err != nil {
			t.Fatal(err)
		}
		for _, p := range net.Params() {
			if !p.Trainable || p.Grad == nil {
				continue
			}
			v, g := p.Value.Data().([]float32), p.Grad.Data().([]float32)
			for i := range v {
				v[i] -= 0.05 * g[i]
			}
		}
	}
	return net
}

// TestLayerByLayer runs a QAT LeNet-5 in the fake-quant model's integer-exact
// evaluation and its export in the integer runtime on the same batches, and
// requires every activation code of every layer (the quantized input, each
// quantized layer's output, each pool and flatten output), the logits and
// the predictions to be identical.
func TestLayerByLayer(t *testing.T) {
	tr, te := data(t)
	for _, spec := range []string{"w8a8", "w4a8"} {
		t.Run(spec, func(t *testing.T) {
			net := trainQAT(t, spec, tr)
			defer net.Close()
			m, err := export.FromNet(net)
			if err != nil {
				t.Fatal(err)
			}
			// Through the file format, as a user would run it.
			b, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if m, err = intmodel.Unmarshal(b); err != nil {
				t.Fatal(err)
			}
			for _, l := range m.Layers {
				if c, ok := l.(*intmodel.Conv2d); ok && (c.WeightBits != q(spec) || len(c.WeightScale) != c.OutChannels) {
					t.Fatalf("%s: %d-bit weights with %d scales, want %d-bit per-channel", c.Name, c.WeightBits, len(c.WeightScale), q(spec))
				}
			}
			run, err := intruntime.NewRunner(m, batch, 2)
			if err != nil {
				t.Fatal(err)
			}
			defer run.Close()
			per, k := te.SampleSize(), tr.NumClasses
			fl, il := make([]float32, batch*k), make([]float32, batch*k)
			var compared int
			for s := 0; s+batch <= te.Len(); s += batch {
				x := te.X[s*per : (s+batch)*per]
				if err := net.Predict(x, batch, fl); err != nil {
					t.Fatal(err)
				}
				if err := run.Run(x, batch, il); err != nil {
					t.Fatal(err)
				}
				for i, l := range m.Layers {
					var q *intmodel.Quantized
					switch l := l.(type) {
					case *intmodel.Conv2d:
						q = &l.Quantized
					case *intmodel.Linear:
						q = &l.Quantized
					}
					if q == nil {
						continue
					}
					nin, nout, err := net.LayerCodes(l.LayerName())
					if err != nil {
						t.Fatal(err)
					}
					rin, err := run.LayerCodes(i-1, nil)
					if err != nil {
						t.Fatal(err)
					}
					rout, err := run.LayerCodes(i, nil)
					if err != nil {
						t.Fatal(err)
					}
					compared += same(t, l.LayerName()+" input", nin, rin) + same(t, l.LayerName()+" output", nout, rout)
				}
				for i := range fl {
					if fl[i] != il[i] {
						t.Fatalf("batch %d: logit %d: fake-quant %g, integer %g", s/batch, i, fl[i], il[i])
					}
				}
			}
			// With the mode off, Predict is the float simulation and
			// LayerCodes says so.
			net.SetIntegerExactEval(false)
			if err := net.Predict(te.X[:batch*per], batch, fl); err != nil {
				t.Fatal(err)
			}
			if _, _, err := net.LayerCodes("conv1"); err == nil {
				t.Fatal("LayerCodes after a float-simulation run: no error")
			}
			net.SetIntegerExactEval(true)
			codes, differ := net.IntegerExactStats()
			t.Logf("%s: %d activation codes identical; the float simulation would round %d of %d quantized-layer outputs differently", spec, compared, differ, codes)
		})
	}
}

func q(spec string) int {
	if strings.HasPrefix(spec, "w4") {
		return 4
	}
	return 8
}

func same(t *testing.T, what string, a, b []int32) int {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d codes in the fake-quant model, %d in the integer runtime", what, len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("%s: code %d: fake-quant %d, integer %d", what, i, a[i], b[i])
		}
	}
	return len(a)
}

func TestRejects(t *testing.T) {
	tr, _ := data(t)
	x := tr.X[:batch*tr.SampleSize()]
	uint8W := qconfig.TensorQuant{Scheme: fakequant.QScheme{Bits: 8}, Observer: "minmax", Method: "affine"}
	act := qconfig.TensorQuant{Scheme: fakequant.QScheme{Bits: 8}, Observer: "ema", Method: "affine"}
	w16 := qconfig.TensorQuant{Scheme: fakequant.QScheme{Bits: 12, Signed: true, Symmetric: true}, Observer: "minmax", Method: "affine"}
	for _, test := range []struct {
		name string
		q    qconfig.Config
		want string
	}{
		{"fp32", qconfig.FP32, "FP32 model"},
		{"affine weights", qconfig.Config{Spec: "affine", Weight: &uint8W, Act: &act}, "signed symmetric"},
		{"12-bit weights", qconfig.Config{Spec: "w12", Weight: &w16, Act: &act}, "at most 8"},
		{"weights only", qconfig.Config{Spec: "w8a32", Weight: &w16}, "FP32 model"},
	} {
		t.Run(test.name, func(t *testing.T) {
			m, err := zoo.New("lenet5", test.q, rand.New(rand.NewSource(1)))
			if err != nil {
				t.Fatal(err)
			}
			net, err := nn.Compile(m, nn.CompileConfig{Batch: batch, InputShape: [3]int{1, 28, 28}, Classes: 10})
			if err != nil {
				t.Fatal(err)
			}
			defer net.Close()
			if err := net.Calibrate(x, batch); err != nil {
				t.Fatal(err)
			}
			_, err = export.FromNet(net)
			if !errors.Is(err, export.ErrUnsupported) || !strings.Contains(err.Error(), test.want) {
				t.Fatalf("FromNet: %v, want ErrUnsupported mentioning %q", err, test.want)
			}
		})
	}
}
