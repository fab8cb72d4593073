package onnximport_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/export"
	"github.com/qatgo/qatgo/intruntime"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/onnximport"
	"github.com/qatgo/qatgo/qconfig"
)

// The fixtures in testdata/torchref come from scripts/torch_reference.py
// (PyTorch 1.13, Debian's python3-torch): three models trained briefly on
// Fashion-MNIST, exported to ONNX, with PyTorch's logits and torch.ao's PTQ
// parameters.
const refDir = "../testdata/torchref"

var refModels = []string{"lenet5", "resnet", "mobilenetv2"}

// fp32Models adds viewnet: x.view(x.size(0), -1) and a padded AvgPool2d
// as torch.onnx.export writes them (opset 11).
var fp32Models = append(refModels, "viewnet")

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// readImages reads N×784 image bytes normalised as qatgo's Fashion-MNIST
// loader (and the script) do.
func readImages(t *testing.T, name string) ([]float32, int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(refDir, name))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(b))
	datasets.FashionMNISTNorm().Apply(x, b)
	return x, len(b) / 784
}

const refBatch = 100

// predict runs net on n images, refBatch at a time.
func predict(t *testing.T, net *nn.Net, x []float32, n, classes int) []float32 {
	t.Helper()
	out := make([]float32, n*classes)
	for i := 0; i < n; i += refBatch {
		c := min(refBatch, n-i)
		if err := net.Predict(x[i*784:(i+c)*784], c, out[i*classes:(i+c)*classes]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func argmax(v []float32) int {
	b := 0
	for i, x := range v {
		if x > v[b] {
			b = i
		}
	}
	return b
}

func importRef(t *testing.T, name string, cfg qconfig.Config) (*onnximport.Model, *nn.Net) {
	t.Helper()
	m, err := onnximport.ReadFile(filepath.Join(refDir, name+".onnx"), onnximport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.InputShape != [3]int{1, 28, 28} || m.Classes != 10 {
		t.Fatalf("%s: input %v, %d classes; want [1 28 28], 10", name, m.InputShape, m.Classes)
	}
	pm, err := qconfig.Prepare(m.Graph, cfg)
	if err != nil {
		t.Fatal(err)
	}
	net, err := nn.Compile(pm, nn.CompileConfig{Batch: refBatch, InputShape: m.InputShape, Classes: m.Classes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { net.Close() })
	return m, net
}

// TestTorchFP32Logits: the imported FP32 models give PyTorch's logits within
// 1e-4 relative (to the largest logit of the image).
func TestTorchFP32Logits(t *testing.T) {
	x, n := readImages(t, "images.u8")
	for _, name := range fp32Models {
		t.Run(name, func(t *testing.T) {
			_, net := importRef(t, name, qconfig.FP32)
			got := predict(t, net, x, n, 10)
			want := readF32(t, filepath.Join(refDir, name+".logits"))
			if len(want) != len(got) {
				t.Fatalf("%d logits, PyTorch wrote %d", len(got), len(want))
			}
			worst, diffPred := 0.0, 0
			for i := 0; i < n; i++ {
				g, w := got[i*10:(i+1)*10], want[i*10:(i+1)*10]
				scale := 0.0
				for _, v := range w {
					scale = math.Max(scale, math.Abs(float64(v)))
				}
				for j := range g {
					worst = math.Max(worst, math.Abs(float64(g[j]-w[j]))/math.Max(scale, 1e-6))
				}
				if argmax(g) != argmax(w) {
					diffPred++
				}
			}
			t.Logf("%s: max relative logit difference %.2g on %d images; %d predictions differ", name, worst, n, diffPred)
			if worst > 1e-4 {
				t.Errorf("max relative difference %g > 1e-4", worst)
			}
		})
	}
}

type torchPTQ struct {
	Agree   int `json:"fp32_int8_agree"`
	Images  int `json:"images"`
	QParams map[string]struct {
		Scale       float64   `json:"scale"`
		ZeroPoint   int32     `json:"zero_point"`
		WeightScale []float64 `json:"weight_scale"`
		WeightZP    []int32   `json:"weight_zero_point"`
	} `json:"qparams"`
}

// TestTorchPTQ calibrates the imported models with PyTorch's default_qconfig
// rules (MinMax observers; activations unsigned 7-bit [0, 127], weights
// signed 8-bit per-tensor symmetric), as torch.ao's prepare/convert did on
// the same images, and compares every scale and zero point: zero points
// exactly, scales exactly or within 1e-5 relative (counted apart: float32
// sums in another order, or PyTorch's float32 rsqrt in the BN folding, move
// an observed extreme by an ulp or two). PyTorch observes a convolution
// before a ReLU6 it cannot fuse, qatgo after the fused ReLU6: those
// activation grids differ by design and are counted apart too.
func TestTorchPTQ(t *testing.T) {
	calib, nc := readImages(t, "calib.u8")
	x, n := readImages(t, "images.u8")
	cfg, err := qconfig.Parse("w8a7,per-tensor,wobs=minmax,aobs=minmax")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range refModels {
		t.Run(name, func(t *testing.T) {
			_, net := importRef(t, name, cfg)
			qs := map[string]nn.NamedQuantizer{}
			for _, q := range net.Quantizers() {
				qs[q.Name] = q
				q.Q.SetEnabled(false) // observe the float model, as torch.ao's prepare does
			}
			net.SetObserving(true)
			for i := 0; i < nc; i += refBatch {
				c := min(refBatch, nc-i)
				if err := net.Calibrate(calib[i*784:(i+c)*784], c); err != nil {
					t.Fatal(err)
				}
			}
			net.SetObserving(false)
			for _, q := range qs {
				q.Q.SetEnabled(true)
			}
			relu6 := map[string]bool{}
			for _, li := range net.Layers() {
				relu6[li.Name] = li.ReLU6
			}
			b, err := os.ReadFile(filepath.Join(refDir, name+".ptq.json"))
			if err != nil {
				t.Fatal(err)
			}
			var ref torchPTQ
			if err := json.Unmarshal(b, &ref); err != nil {
				t.Fatal(err)
			}
			var same, near, differ, byDesign int
			worst := 0.0
			check := func(what string, q nn.NamedQuantizer, ch int, scale float64, zp int32, design bool) {
				if q.Q == nil {
					if strings.HasSuffix(what, ".add") {
						return // a FloatFunctional the torch model never calls
					}
					t.Errorf("%s: no qatgo quantizer", what)
					return
				}
				p, err := q.Q.QParams()
				if err != nil {
					t.Errorf("%s: %v", q.Name, err)
					return
				}
				rel := math.Abs(float64(p.Scale[ch])-float64(float32(scale))) / scale
				switch {
				case p.Scale[ch] == float32(scale) && p.ZeroPoint[ch] == zp:
					same++
				case design:
					byDesign++
				case p.ZeroPoint[ch] == zp && rel <= 1e-5:
					near++
					worst = math.Max(worst, rel)
				default:
					differ++
					t.Errorf("%s[%d]: qatgo (%v, %d), torch.ao (%v, %d)", q.Name, ch, p.Scale[ch], p.ZeroPoint[ch], float32(scale), zp)
				}
			}
			for mod, r := range ref.QParams {
				if mod == "quant" {
					check(mod, qs["input"], 0, r.Scale, r.ZeroPoint, false)
					continue
				}
				check(mod, qs[mod+".act"], 0, r.Scale, r.ZeroPoint, relu6[mod])
				for c := range r.WeightScale {
					check(mod, qs[mod+".weight"], c, r.WeightScale[c], r.WeightZP[c], false)
				}
			}
			// Predictions of the calibrated model (integer-exact) against
			// the converted torch.ao model's.
			got := predict(t, net, x, n, 10)
			tq := readF32(t, filepath.Join(refDir, name+".qlogits"))
			fp := readF32(t, filepath.Join(refDir, name+".logits"))
			fq := readF32(t, filepath.Join(refDir, name+".fqlogits"))
			differs := func(a, b []float32) int {
				c := 0
				for i := 0; i < n; i++ {
					if argmax(a[i*10:(i+1)*10]) != argmax(b[i*10:(i+1)*10]) {
						c++
					}
				}
				return c
			}
			vsInt8, vsFQ, torchFQvsInt8, torchFPvsInt8 := differs(got, tq), differs(got, fq), differs(fq, tq), differs(fp, tq)
			// qatgo's own pair, as torch's fake-quant vs converted: its
			// fake-quant evaluation (integer-exact, the default) against the
			// exported model in the integer runtime, which must agree on
			// every image; and, reported only, the plain float simulation
			// (integer-exact evaluation off) against the runtime.
			net.SetIntegerExactEval(false)
			simFloat := predict(t, net, x, n, 10)
			net.SetIntegerExactEval(true)
			im, err := export.FromNet(net)
			if err != nil {
				t.Fatal(err)
			}
			run, err := intruntime.NewRunner(im, n, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer run.Close()
			rt := make([]float32, n*10)
			if err := run.Run(x[:n*784], n, rt); err != nil {
				t.Fatal(err)
			}
			fqVsRuntime, exactVsRuntime := differs(simFloat, rt), differs(got, rt)
			if exactVsRuntime != 0 {
				t.Errorf("%s: integer-exact evaluation and the integer runtime differ on %d of %d predictions", name, exactVsRuntime, n)
			}
			t.Logf("%s: qatgo float fake-quant vs qatgo integer runtime %d, integer-exact vs integer runtime %d (torch fake-quant vs torch int8 %d)",
				name, fqVsRuntime, exactVsRuntime, torchFQvsInt8)
			t.Logf("%s: scales/zero points: %d equal, %d within %.1g relative, %d differ, %d differ by design (ReLU6 observed before/after); "+
				"predictions differing on %d images: qatgo PTQ vs torch int8 %d, qatgo PTQ vs torch fake-quant %d, torch fake-quant vs torch int8 %d, torch FP32 vs torch int8 %d",
				name, same, near, worst, differ, byDesign, n, vsInt8, vsFQ, torchFQvsInt8, torchFPvsInt8)
		})
	}
}
