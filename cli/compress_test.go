package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// compress on a short synthetic LeNet-300-100 run: the --json fields, the
// per-layer table, the files, and the decoded model evaluating exactly as
// the compressed one.
func TestCompressSynthetic(t *testing.T) {
	dir := t.TempDir()
	fp := filepath.Join(dir, "fp32")
	if _, errs, code := runCLI(t, "train", "--model", "lenet300", "--data", "synthetic", "--epochs", "1", "--batch", "32",
		"--lr", "0.05", "--out", fp); code != 0 {
		t.Fatalf("train exit %d: %s", code, errs)
	}
	out := filepath.Join(dir, "dc")
	stdout, errs, code := runCLI(t, "compress", "--run", fp, "--out", out, "--keep", "fc1=0.1,*=0.3",
		"--prune-stages", "2", "--retrain-epochs", "1", "--fc-bits", "4", "--bits", "fc3=3", "--finetune-epochs", "1", "--json")
	if code != 0 {
		t.Fatalf("compress exit %d: %s", code, errs)
	}
	m := lastJSON(t, stdout)
	for _, k := range []string{"test_accuracy", "compression_ratio", "bytes", "decoded_test_accuracy", "decoded_exact", "layers", "stages"} {
		if _, ok := m[k]; !ok {
			t.Errorf("compress --json lacks %q: %v", k, m)
		}
	}
	if m["decoded_exact"] != true || m["decoded_test_accuracy"] != m["test_accuracy"] {
		t.Errorf("decoded %v (exact %v), compressed %v", m["decoded_test_accuracy"], m["decoded_exact"], m["test_accuracy"])
	}
	// 10% and 30% kept at 4 and 3 bits: far smaller than FP32.
	if r := m["compression_ratio"].(float64); r < 10 {
		t.Errorf("compression ratio %.1f < 10", r)
	}
	if acc := m["test_accuracy"].(float64); acc < 0.8 {
		t.Errorf("compressed synthetic accuracy %.3f < 0.8", acc)
	}
	layers := m["layers"].([]any)
	if len(layers) != 3 || layers[2].(map[string]any)["index_bits"].(float64) != 3 {
		t.Errorf("layers %v: want fc1..fc3 with fc3 at 3 bits", layers)
	}
	for _, s := range []string{"| fc1 | 235.2K | 10% | 4 |", "| fc3 | 1.0K | 30% | 3 |", "| total |"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("table lacks %q:\n%s", s, stdout)
		}
	}
	for _, f := range []string{compressedFileName, reportFileName, stateFileName, runConfigName, "result.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	stdout, errs, code = runCLI(t, "eval", "--run", out, "--json")
	if code != 0 {
		t.Fatalf("eval of the decoded model: exit %d: %s", code, errs)
	}
	if got := lastJSON(t, stdout)["test_accuracy"]; got != m["test_accuracy"] {
		t.Errorf("eval of the decoded model: %v, compress reported %v", got, m["test_accuracy"])
	}
	if _, _, code := runCLI(t, "compress", "--run", fp, "--out", out, "--keep", "fc1"); code == 0 {
		t.Error("bad --keep accepted")
	}
}
