package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/cli"
	"github.com/qatgo/qatgo/zoo"
)

// The README's custom-model walk-through on synthetic data: FP32 training,
// QAT from it, export, and 0 disagreements between the integer runtime and
// the fake-quant model.
func TestCustomModelThroughCLI(t *testing.T) {
	reg := zoo.Default()
	if err := reg.Register("tinyres", "", TinyRes); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := cli.Main(args, &out, &errb, reg); code != 0 {
			t.Fatalf("qatgo %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
		}
		return out.String()
	}
	fp, q := filepath.Join(dir, "fp32"), filepath.Join(dir, "w8a8")
	common := []string{"--model", "tinyres", "--data", "synthetic", "--epochs", "1", "--batch", "16", "--train-limit", "256", "--test-limit", "64"}
	run(append([]string{"train", "--quant", "fp32", "--out", fp}, common...)...)
	run(append([]string{"train", "--quant", "w8a8", "--init", fp, "--out", q}, common...)...)
	model := filepath.Join(q, "model.qint")
	run("export", "--run", q, "--out", model)
	out := run("eval", "--model", model, "--compare-run", q, "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var res map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("eval --json: %v in %q", err, out)
	}
	t.Logf("eval: %v", res)
	for _, k := range []string{"disagreements", "logits_differing"} {
		if v, ok := res[k].(float64); !ok || v != 0 {
			t.Errorf("%s = %v, want 0", k, res[k])
		}
	}
}
