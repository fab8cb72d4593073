package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --model-file: a LeNet-5 exported by PyTorch (testdata/torchref) is
// QAT-trained on synthetic data, evaluated from its run, and exported in the
// QDQ form; a file that is not ONNX is refused by name.
func TestModelFile(t *testing.T) {
	dir := t.TempDir()
	model, err := filepath.Abs("../testdata/torchref/lenet5.onnx")
	if err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "w8a8")
	out, errs, code := runCLI(t, "train", "--model-file", model, "--data", "synthetic", "--epochs", "1", "--batch", "32",
		"--train-limit", "256", "--test-limit", "64", "--quant", "w8a8", "--out", run, "--json")
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, errs)
	}
	if m := lastJSON(t, out); m["model"] != "onnx:lenet5" {
		t.Errorf("model %v, want onnx:lenet5", m["model"])
	}
	if _, errs, code = runCLI(t, "eval", "--run", run); code != 0 {
		t.Fatalf("eval exit %d: %s", code, errs)
	}
	qdq := filepath.Join(dir, "qdq.onnx")
	if _, errs, code = runCLI(t, "export", "--run", run, "--out", filepath.Join(dir, "m.qint"), "--onnx", qdq, "--onnx-format", "qdq"); code != 0 {
		t.Fatalf("export exit %d: %s", code, errs)
	}
	if st, err := os.Stat(qdq); err != nil || st.Size() == 0 {
		t.Fatalf("no QDQ file: %v", err)
	}
	if _, errs, code = runCLI(t, "export", "--run", run, "--out", filepath.Join(dir, "m2.qint"), "--onnx", qdq, "--onnx-format", "qdx"); code == 0 || !strings.Contains(errs, "qdx") {
		t.Errorf("--onnx-format qdx: exit %d, %s", code, errs)
	}

	// A file that is not ONNX.
	bad := filepath.Join(dir, "bad.onnx")
	if err := os.WriteFile(bad, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code = runCLI(t, "train", "--model-file", bad, "--data", "synthetic", "--epochs", "1", "--out", filepath.Join(dir, "bad"))
	if code == 0 || !strings.Contains(errs, "not an ONNX model") {
		t.Errorf("non-ONNX file: exit %d, %s", code, errs)
	}
}
