package cli

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/onnx"
)

// A briefly QAT-trained LeNet-5 W8A8 on an MNIST subset, exported as an
// integer model and as ONNX: onnxruntime must give the integer runtime's
// predictions, logits and (with the codes output) codes exactly on 1,000
// MNIST test images. Skips when MNIST or the onnxruntime library is missing.
func TestEvalModelONNXMNIST(t *testing.T) {
	if err := onnx.LoadRuntime(""); errors.Is(err, onnx.ErrNoRuntime) {
		if onnx.RuntimeRequired() {
			t.Fatalf("%v ($%s is set)", err, onnx.EnvRequireRuntime)
		}
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
	if err := onnx.RuntimeExact(); err != nil {
		t.Skip(err)
	}
	if _, _, err := datasets.Load("mnist", ""); errors.Is(err, datasets.ErrNotFound) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := filepath.Join(dir, "w8a8")
	if _, errs, code := runCLI(t, "train", "--model", "lenet5", "--data", "mnist", "--epochs", "1", "--batch", "32",
		"--lr", "0.02", "--quant", "w8a8", "--train-limit", "1280", "--test-limit", "1000", "--out", run); code != 0 {
		t.Fatalf("train exit %d: %s", code, errs)
	}
	file, onnxFile := filepath.Join(dir, "model.qint"), filepath.Join(dir, "model.onnx")
	if _, errs, code := runCLI(t, "export", "--run", run, "--out", file, "--onnx", onnxFile); code != 0 {
		t.Fatalf("export exit %d: %s", code, errs)
	}
	// The same model with the codes output, so that codes are compared too.
	m, err := intmodel.Read(file)
	if err != nil {
		t.Fatal(err)
	}
	codesFile := filepath.Join(dir, "codes.onnx")
	if err := (onnx.Exporter{Codes: true}).WriteFile(codesFile, m); err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		file      string
		wantCodes bool
	}{
		{onnxFile, false},
		{codesFile, true},
	} {
		out, errs, code := runCLI(t, "eval", "--model", file, "--onnx", test.file, "--data", "mnist", "--test-limit", "1000", "--json")
		if code != 0 {
			t.Fatalf("eval --onnx %s: exit %d: %s", test.file, code, errs)
		}
		if !strings.Contains(out, "0 of 1000 predictions differ") {
			t.Errorf("eval --onnx text: %s", out)
		}
		j := lastJSON(t, out)
		if j["images"] != 1000.0 || j["onnx_disagreements"] != 0.0 || j["onnx_logits_differing"] != 0.0 || j["onnx_accuracy"] != j["test_accuracy"] {
			t.Errorf("eval --onnx %s: %v; want 1000 images, 0 disagreements, 0 logits differing, equal accuracies", test.file, j)
		}
		c, ok := j["onnx_codes_differing"]
		if ok != test.wantCodes || (ok && c != 0.0) {
			t.Errorf("eval --onnx %s: onnx_codes_differing %v (present %v), want present %v and 0", test.file, c, ok, test.wantCodes)
		}
		t.Logf("%s: integer runtime %.2f%%, onnxruntime %.2f%%, %v predictions, %v logits, %v codes differ",
			filepath.Base(test.file), 100*j["test_accuracy"].(float64), 100*j["onnx_accuracy"].(float64), j["onnx_disagreements"], j["onnx_logits_differing"], c)
	}
}

func TestEvalModelONNXErrors(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "w8a8")
	if _, errs, code := runCLI(t, "train", "--model", "lenet300", "--data", "synthetic", "--epochs", "1", "--quant", "w8a8",
		"--train-limit", "128", "--test-limit", "32", "--out", run); code != 0 {
		t.Fatal(errs)
	}
	file := filepath.Join(dir, "model.qint")
	if _, errs, code := runCLI(t, "export", "--run", run, "--out", file); code != 0 {
		t.Fatal(errs)
	}
	for _, test := range []struct {
		args []string
		want string
	}{
		{[]string{"--onnx", filepath.Join(dir, "missing.onnx")}, "missing.onnx"},
		{[]string{"--onnx", file, "--onnx-lib", filepath.Join(dir, "libnone.so")}, "libnone.so"},
	} {
		args := append([]string{"eval", "--model", file, "--data", "synthetic", "--test-limit", "32"}, test.args...)
		_, errs, code := runCLI(t, args...)
		if code == 0 || !strings.Contains(errs, test.want) {
			t.Errorf("%v: exit %d, stderr %q; want failure mentioning %q", args, code, errs, test.want)
		}
	}
}
