package cli

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// QAT on synthetic data, export, inspect, and eval of the integer model
// against the run's fake-quant model: no prediction may differ.
func TestExportInspectEvalModel(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "w4a8")
	if _, errs, code := runCLI(t, "train", "--model", "lenet5", "--data", "synthetic", "--epochs", "1", "--batch", "32",
		"--lr", "0.02", "--quant", "w4a8", "--train-limit", "640", "--test-limit", "300", "--out", run); code != 0 {
		t.Fatalf("train exit %d: %s", code, errs)
	}
	file := filepath.Join(dir, "model.qint")
	cdir := filepath.Join(dir, "c")
	out, errs, code := runCLI(t, "export", "--run", run, "--out", file, "--json", "--c", cdir)
	if code != 0 {
		t.Fatalf("export exit %d: %s", code, errs)
	}
	m := lastJSON(t, out)
	for _, f := range []string{"model.h", "model.c", "model_weights.h"} {
		if _, err := os.Stat(filepath.Join(cdir, f)); err != nil {
			t.Errorf("export --c: %v", err)
		}
	}
	if a, n := m["c_arena_bytes"].(float64), m["c_naive_bytes"].(float64); a <= 0 || a >= n {
		t.Errorf("export --c --json: arena %v, naive %v", m["c_arena_bytes"], m["c_naive_bytes"])
	}
	if m["layers"].(float64) != 7 || m["stored_bytes"].(float64) <= 0 || m["fp32_bytes"].(float64) <= 6*m["stored_bytes"].(float64) {
		t.Errorf("export --json: %v (want 7 layers and 4-bit storage well under FP32/6)", m)
	}

	out, errs, code = runCLI(t, "inspect", file, "--json")
	if code != 0 {
		t.Fatalf("inspect exit %d: %s", code, errs)
	}
	m = lastJSON(t, out)
	layers := m["layers"].([]any)
	if len(layers) != 7 || layers[0].(map[string]any)["weight_bits"].(float64) != 4 {
		t.Errorf("inspect --json layers: %v", layers)
	}
	var macs float64
	for _, l := range layers {
		macs += l.(map[string]any)["macs"].(float64)
	}
	if total, _ := m["macs"].(float64); total <= 0 || total != macs {
		t.Errorf("inspect --json: %v multiply-adds, the layers' sum is %v", m["macs"], macs)
	}
	if c, ok := m["c"].(map[string]any); !ok || c["arena_bytes"].(float64) <= 0 || c["const_bytes"].(float64) <= 0 {
		t.Errorf("inspect --json c: %v", m["c"])
	}
	if out, _, code = runCLI(t, "inspect", file); code != 0 || !strings.Contains(out, "conv2") || !strings.Contains(out, "smaller") {
		t.Errorf("inspect text: exit %d: %s", code, out)
	}

	out, errs, code = runCLI(t, "eval", "--model", file, "--compare-run", run, "--float-sim", "--json")
	if code != 0 {
		t.Fatalf("eval --model exit %d: %s", code, errs)
	}
	m = lastJSON(t, out)
	for _, k := range []string{"test_accuracy", "images_per_sec", "disagreements", "fake_quant_accuracy", "disagreements_float_sim"} {
		if _, ok := m[k]; !ok {
			t.Errorf("eval --model --json lacks %q: %v", k, m)
		}
	}
	if m["disagreements"].(float64) != 0 || m["logits_differing"].(float64) != 0 || m["images"].(float64) != 300 {
		t.Errorf("integer runtime vs fake-quant model: %v", m)
	}
	if m["test_accuracy"] != m["fake_quant_accuracy"] {
		t.Errorf("accuracies differ: %v", m)
	}
	// Without a run: the integer model alone on the dataset.
	out, errs, code = runCLI(t, "eval", "--model", file, "--data", "synthetic", "--test-limit", "100", "--layer-times", "--json")
	if code != 0 {
		t.Fatalf("eval --model exit %d: %s", code, errs)
	}
	if m = lastJSON(t, out); m["images"].(float64) != 100 {
		t.Errorf("eval --model alone: %v", m)
	}
	// --layer-times: a row for every layer, the shares summing to 1.
	lts, _ := m["layer_times"].([]any)
	if !strings.Contains(out, "time per layer") || len(lts) == 0 {
		t.Fatalf("eval --layer-times: no layer times in %q", out)
	}
	var share float64
	rated := 0
	for _, lt := range lts {
		share += lt.(map[string]any)["share_of_layers"].(float64)
		if r, ok := lt.(map[string]any)["gmac_per_s"].(float64); ok && r > 0 {
			rated++
		}
	}
	if math.Abs(share-1) > 1e-9 || rated == 0 {
		t.Errorf("eval --layer-times: shares sum to %v, %d layers with a multiply-add rate", share, rated)
	}
}

func TestExportErrors(t *testing.T) {
	dir := t.TempDir()
	fp := filepath.Join(dir, "fp32")
	if _, errs, code := runCLI(t, "train", "--model", "lenet300", "--data", "synthetic", "--epochs", "1", "--train-limit", "256",
		"--test-limit", "64", "--out", fp); code != 0 {
		t.Fatal(errs)
	}
	for _, test := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "--run", fp, "--out", filepath.Join(dir, "m.qint")}, "FP32"},
		{[]string{"export", "--run", fp}, "required"},
		{[]string{"inspect"}, "required"},
		{[]string{"inspect", filepath.Join(dir, "missing.qint")}, "missing.qint"},
		{[]string{"eval", "--model", filepath.Join(dir, "missing.qint")}, "missing.qint"},
		{[]string{"eval", "--model", "x", "--run", fp}, "not both"},
	} {
		_, errs, code := runCLI(t, test.args...)
		if code == 0 || !strings.Contains(errs, test.want) {
			t.Errorf("%v: exit %d, stderr %q; want failure mentioning %q", test.args, code, errs, test.want)
		}
	}
}
