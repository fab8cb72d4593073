//go:build cgo

package onnx

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/intruntime"
)

// needORT loads onnxruntime, or skips the test when the library is
// missing (with the command that installs it); with
// $QATGO_REQUIRE_ONNXRUNTIME set (CI), a missing library fails the test.
func needORT(t testing.TB) {
	t.Helper()
	if err := LoadRuntime(""); errors.Is(err, ErrNoRuntime) {
		if RuntimeRequired() {
			t.Fatalf("%v ($%s is set)", err, EnvRequireRuntime)
		}
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
}

// needExactORT is needORT for a test that compares onnxruntime's int8
// results with the integer runtime's bit for bit: it skips on CPUs where
// onnxruntime's kernels are not exact (RuntimeExact).
func needExactORT(t testing.TB) {
	t.Helper()
	needORT(t)
	if err := RuntimeExact(); err != nil {
		t.Skip(err)
	}
}

// ortRun runs n images x through the serialized model with a one-thread
// Session and returns the logits and the codes output (the model must have
// been exported with Codes). optimize selects onnxruntime's full graph
// optimization (the default of a session) instead of none.
func ortRun(t testing.TB, model []byte, x []float32, n int, optimize bool) ([]float32, []int32) {
	t.Helper()
	s, err := NewSession(model, SessionOptions{Optimize: optimize, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.HasCodes() {
		t.Fatal("model has no codes output")
	}
	logits, codes, err := s.Run(x, n)
	if err != nil {
		t.Fatal(err)
	}
	return logits, codes
}

// compare runs x through the reference and returns how many codes differ,
// the largest difference, the number of codes and the number of logits
// that are not bit-identical.
func compare(m *intmodel.Model, x []float32, n int, logits []float32, codes []int32) (mismatch, maxDiff, total, logitMismatch, interior int) {
	var last *intmodel.Quantized
	for _, l := range m.Layers {
		switch l := l.(type) {
		case *intmodel.Conv2d:
			last = &l.Quantized
		case *intmodel.Linear:
			last = &l.Quantized
		}
	}
	per := m.InputShape.Size()
	outPer := len(codes) / n
	for i := range n {
		wc, wl := refRun(m, x[i*per:(i+1)*per])
		for j := range wc {
			d := int(codes[i*outPer+j] - wc[j])
			if d != 0 {
				mismatch++
				maxDiff = max(maxDiff, d, -d)
			}
			if wc[j] > last.QMin && wc[j] < last.QMax {
				interior++
			}
			if logits[i*outPer+j] != wl[j] {
				logitMismatch++
			}
			total++
		}
	}
	return
}

// runtimeRun runs n images through qatgo's integer runtime and returns the
// logits and the last layer's codes.
func runtimeRun(t testing.TB, m *intmodel.Model, x []float32, n int) ([]float32, []int32) {
	t.Helper()
	r, err := intruntime.NewRunner(m, n, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	logits := make([]float32, n*r.OutputSize())
	if err := r.Run(x, n, logits); err != nil {
		t.Fatal(err)
	}
	codes, err := r.LayerCodes(r.NumLayers()-1, nil)
	if err != nil {
		t.Fatal(err)
	}
	return logits, codes
}

// handWorkedModel is TestONNXRuntimeHandWorked's Linear 2→2.
func handWorkedModel() *intmodel.Model {
	in := intmodel.ActQuant{Scale: 0.25, ZeroPoint: 2, Bits: 8}
	out := intmodel.ActQuant{Scale: 0.5, ZeroPoint: 1, Bits: 8}
	fc := &intmodel.Linear{Name: "fc", InFeatures: 2, OutFeatures: 2, Quantized: intmodel.Quantized{
		WeightBits: 8, Weights: []int8{3, -2, 1, 4}, WeightScale: []float32{0.5},
		InAct: in, OutAct: out, Bias: []int32{10, -7},
	}}
	if err := fc.SetRequant(2); err != nil {
		panic(err) // constants above are valid
	}
	fc.SetClamp(false)
	return &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: 2, H: 1, W: 1}, Output: out, Layers: []intmodel.Layer{fc}}
}

// A hand-worked Linear 2→2 whose second output shows gemmlowp's double
// rounding: acc = 1, M = 0.25 = 2^30·2^(−1−31): SaturatingRoundingDoublingHighMul
// rounds 1·0.5 up to 1, RoundingDivideByPOT rounds 1/2 up to 1 again, so
// q_Y = 1 + Z_Y = 2, where a single rounding of 0.25 gives 0 (code 1).
func TestONNXRuntimeHandWorked(t *testing.T) {
	needORT(t)
	m := handWorkedModel()
	// x = (1.0, 0.3) → q_X = (2+4, 2+round(1.2)) = (6, 3).
	// acc = (3·4 − 2·1 + 10, 1·4 + 4·1 − 7) = (20, 1).
	// M = 0.5·0.25/0.5 = 0.25: 20 → 5, 1 → 1 (double rounding); + Z_Y = 1.
	x := []float32{1.0, 0.3}
	for _, test := range []struct {
		format     Format
		wantCodes  []int32
		wantLogits []float32
	}{
		{Integer, []int32{6, 2}, []float32{2.5, 0.5}},
		// onnxruntime's float requantization: round(0.25) = 0 → code 1.
		{QLinear, []int32{6, 1}, []float32{2.5, 0}},
	} {
		b, err := Exporter{Format: test.format, Codes: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, opt := range []bool{false, true} {
			logits, codes := ortRun(t, b, x, 1, opt)
			if fmt.Sprint(codes) != fmt.Sprint(test.wantCodes) || fmt.Sprint(logits) != fmt.Sprint(test.wantLogits) {
				t.Errorf("%v (optimize %v): codes %v logits %v, want %v %v", test.format, opt, codes, logits, test.wantCodes, test.wantLogits)
			}
		}
	}
}

func TestONNXRuntimeTinyModel(t *testing.T) {
	needExactORT(t)
	t.Logf("onnxruntime %s", RuntimeVersion())
	m := tinyModel()
	b, err := Exporter{Codes: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const n = 200
	x := randomInputs(r, m, n)
	for _, opt := range []bool{false, true} {
		logits, codes := ortRun(t, b, x, n, opt)
		mis, maxd, total, lmis, _ := compare(m, x, n, logits, codes)
		if mis != 0 || lmis != 0 {
			t.Errorf("optimize %v: %d of %d codes differ (max |diff| %d), %d logits differ", opt, mis, total, maxd, lmis)
		}
		rl, rc := runtimeRun(t, m, x, n)
		if fmt.Sprint(rl) != fmt.Sprint(logits) || fmt.Sprint(rc) != fmt.Sprint(codes) {
			t.Errorf("optimize %v: onnxruntime and intruntime differ", opt)
		}
	}
}

// TestONNXRuntimeRandomModels checks that the Integer format gives exactly
// the reference's codes on random models (8- and 4-bit activations, signed
// and unsigned, per-channel and per-tensor weights, left shifts), and
// measures how often the QLinear format's float requantization differs.
func TestONNXRuntimeRandomModels(t *testing.T) {
	needExactORT(t)
	nModels, nImages := 40, 64
	if testing.Short() {
		nModels = 10
	}
	r := rand.New(rand.NewPCG(3, 4))
	type key struct {
		kind   string
		format Format
		bits   int
	}
	type tally struct{ models, mismatch, maxDiff, total, logitMismatch, interior int }
	runtimeMismatch := 0
	stats := map[key]*tally{}
	var keys []key
	for i := range nModels {
		for _, bits := range []int{8, 4} {
			for _, kind := range []string{"conv", "linear", "model"} {
				m := randomModel(r, bits, kind == "conv", kind == "linear")
				x := randomInputs(r, m, nImages)
				for _, f := range []Format{Integer, QLinear} {
					b, err := Exporter{Format: f, Codes: true}.Marshal(m)
					if err != nil {
						t.Fatalf("model %d: %v", i, err)
					}
					logits, codes := ortRun(t, b, x, nImages, i%2 == 0)
					mis, maxd, total, lmis, interior := compare(m, x, nImages, logits, codes)
					if f == Integer {
						rl, rc := runtimeRun(t, m, x, nImages)
						if fmt.Sprint(rl) != fmt.Sprint(logits) || fmt.Sprint(rc) != fmt.Sprint(codes) {
							runtimeMismatch++
						}
					}
					k := key{kind, f, bits}
					s := stats[k]
					if s == nil {
						s = &tally{}
						stats[k] = s
						keys = append(keys, k)
					}
					s.models++
					s.mismatch += mis
					s.maxDiff = max(s.maxDiff, maxd)
					s.total += total
					s.logitMismatch += lmis
					s.interior += interior
				}
			}
		}
	}
	if runtimeMismatch != 0 {
		t.Errorf("%d models: onnxruntime (integer format) and intruntime differ", runtimeMismatch)
	}
	for _, k := range keys {
		s := stats[k]
		t.Logf("%-7s %-6s %d-bit: %3d models, %6d of %7d codes (%7d not at a clamp bound) differ from the fixed-point reference (%.3f%% of all, %.3f%% of unclamped), max |diff| %d; %d logits not bit-identical",
			k.format, k.kind, k.bits, s.models, s.mismatch, s.total, s.interior, 100*float64(s.mismatch)/float64(s.total), 100*float64(s.mismatch)/float64(s.interior), s.maxDiff, s.logitMismatch)
		if k.format == Integer && (s.mismatch != 0 || s.logitMismatch != 0) {
			t.Errorf("integer format, %s %d-bit: %d codes and %d logits differ, want 0", k.kind, k.bits, s.mismatch, s.logitMismatch)
		}
	}
}
