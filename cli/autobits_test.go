package cli

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/qconfig"
)

// autobits end to end on a small synthetic LeNet-5: sensitivity points in
// two shards, then the search, the per-layer configs, the fine-tuned runs
// and the curve files; a rerun reuses everything.
func TestAutobitsSynthetic(t *testing.T) {
	dir := t.TempDir()
	fp := filepath.Join(dir, "fp32")
	mustTrain(t, trainArgs(fp, "--epochs", "1")...)
	out := filepath.Join(dir, "ab")
	args := []string{"autobits", "--run", fp, "--out", out, "--bits", "2,8", "--budgets", "w2,40%", "--epochs", "1",
		"--workers", "1", "--json"}
	for _, s := range []string{"0/2", "1/2"} {
		if _, errs, code := runCLI(t, append(args, "--shard", s)...); code != 0 {
			t.Fatalf("shard %s: exit %d: %s", s, code, errs)
		}
	}
	stdout, errs, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	t.Log(stdout)
	var sum autobitsSummary
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Points.Computed != 0 {
		t.Errorf("the shards left %d sensitivity points to compute", sum.Points.Computed)
	}
	if len(sum.Sensitivity) != 4 || len(sum.Choices) != 2 || len(sum.Curve) != 2+2 {
		t.Fatalf("summary: %d layers, %d choices, %d curve points", len(sum.Sensitivity), len(sum.Choices), len(sum.Curve))
	}
	for _, ch := range sum.Choices {
		if ch.WeightBytes*8 > float64(ch.Budget.Bits) {
			t.Errorf("budget %s: %v bytes over %d bits", ch.Budget.Label, ch.WeightBytes, ch.Budget.Bits)
		}
		q, _ := qconfig.Parse("w8a8")
		if err := loadOverrides(&q, ch.QuantConfig); err != nil || len(q.Overrides) != 4 {
			t.Errorf("%s: %v, %d overrides", ch.QuantConfig, err, len(q.Overrides))
		}
	}
	// At w2 every layer must take 2 bits: the budget leaves no room.
	if c := sum.Choices[0]; c.Bits["conv1"] != 2 || c.Bits["fc1"] != 2 {
		t.Errorf("w2 budget: %v", c.Bits)
	}
	for _, cp := range sum.Curve {
		if cp.QATAccuracy == nil || cp.PTQAccuracy == nil {
			t.Errorf("%s %s: accuracies missing", cp.Curve, cp.Label)
		}
	}
	f, err := os.Open(sum.Plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.DecodeConfig(f); err != nil {
		t.Error(err)
	}
	if b, err := os.ReadFile(sum.CSV); err != nil || strings.Count(string(b), "\n") != 5 {
		t.Errorf("CSV: %v\n%s", err, b)
	}
	// The chosen runs are ordinary runs: eval and export work on them.
	if _, errs, code := runCLI(t, "eval", "--run", sum.Choices[1].Run); code != 0 {
		t.Errorf("eval of the mixed run: %s", errs)
	}
	if _, errs, code := runCLI(t, "export", "--run", sum.Choices[1].Run, "--out", filepath.Join(dir, "mixed.qint")); code != 0 {
		t.Errorf("export of the mixed run: %s", errs)
	}
	t0 := sum.Curve[0].QATAccuracy
	stdout, errs, code = runCLI(t, args...)
	if code != 0 {
		t.Fatalf("rerun: exit %d: %s", code, errs)
	}
	lines = strings.Split(strings.TrimSpace(stdout), "\n")
	var again autobitsSummary
	json.Unmarshal([]byte(lines[len(lines)-1]), &again)
	if again.Points.Computed != 0 || *again.Curve[0].QATAccuracy != *t0 {
		t.Errorf("rerun recomputed: %d points, accuracy %v vs %v", again.Points.Computed, *again.Curve[0].QATAccuracy, *t0)
	}
}
