package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lastJSON decodes the last line of stdout, as --json promises.
func lastJSON(t *testing.T, out string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("last line is not JSON: %q: %v", lines[len(lines)-1], err)
	}
	return m
}

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.String(), errb.String(), code
}

// A short FP32 run, QAT from it, eval, and resume: the CLI's main path on
// synthetic data.
func TestTrainQATEvalSynthetic(t *testing.T) {
	dir := t.TempDir()
	fp := filepath.Join(dir, "fp32")
	out, errs, code := runCLI(t, "train", "--model", "lenet5", "--data", "synthetic", "--epochs", "2", "--batch", "32",
		"--lr", "0.02", "--out", fp, "--json")
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, errs)
	}
	m := lastJSON(t, out)
	for _, k := range []string{"test_accuracy", "train_images_per_sec", "epochs", "out"} {
		if _, ok := m[k]; !ok {
			t.Errorf("train --json lacks %q: %v", k, m)
		}
	}
	if acc := m["test_accuracy"].(float64); acc < 0.9 {
		t.Errorf("FP32 synthetic accuracy %.3f < 0.9", acc)
	}
	q := filepath.Join(dir, "w8a8")
	out, errs, code = runCLI(t, "train", "--model", "lenet5", "--data", "synthetic", "--epochs", "1", "--batch", "32",
		"--quant", "w8a8", "--init", fp, "--out", q, "--json")
	if code != 0 {
		t.Fatalf("QAT exit %d: %s", code, errs)
	}
	qatAcc := lastJSON(t, out)["test_accuracy"].(float64)
	if qatAcc < 0.9 {
		t.Errorf("W8A8 synthetic accuracy %.3f < 0.9", qatAcc)
	}
	out, errs, code = runCLI(t, "eval", "--run", q, "--json")
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, errs)
	}
	if got, want := lastJSON(t, out)["test_accuracy"].(float64), qatAcc; got != want {
		t.Errorf("eval accuracy %v differs from train's %v", got, want)
	}
	// Resume of a finished run does no more epochs and keeps the result.
	out, errs, code = runCLI(t, "train", "--resume", "--out", q, "--json")
	if code != 0 {
		t.Fatalf("resume exit %d: %s", code, errs)
	}
	if strings.Contains(errs, "epoch 1/1:") {
		t.Errorf("resume of a finished run trained again: %s", errs)
	}
}

func TestCLIErrors(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"},
		{"train"}, // no --out
		{"train", "--out", t.TempDir(), "--model", "resnet9000", "--data", "synthetic"},
		{"train", "--out", t.TempDir(), "--quant", "w9z3", "--data", "synthetic"},
		{"train", "--out", t.TempDir(), "--data", "imagenet"},
		{"eval", "--run", t.TempDir()},
	} {
		_, errs, code := runCLI(t, args...)
		if code == 0 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q; want a non-zero exit and a message", args, code, errs)
		}
	}
	// A corrupt model state names the file.
	dir := t.TempDir()
	_, errs, code := runCLI(t, "train", "--model", "lenet300", "--data", "synthetic", "--epochs", "1", "--out", dir)
	if code != 0 {
		t.Fatal(errs)
	}
	st := filepath.Join(dir, stateFileName)
	b, _ := os.ReadFile(st)
	b[len(b)/2] ^= 0xff
	os.WriteFile(st, b, 0o644)
	_, errs, code = runCLI(t, "eval", "--run", dir)
	if code == 0 || !strings.Contains(errs, st) {
		t.Errorf("corrupt state: exit %d, %q (want the file named)", code, errs)
	}
	// An integer model's flags with --run are refused by name, not ignored.
	_, errs, code = runCLI(t, "eval", "--run", dir, "--layer-times", "--batch", "64")
	if code == 0 || !strings.Contains(errs, "--layer-times") || !strings.Contains(errs, "--batch") {
		t.Errorf("eval --run --layer-times --batch: exit %d, %q (want both flags named)", code, errs)
	}
}
