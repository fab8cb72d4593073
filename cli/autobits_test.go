package cli

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/sweep"
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
	// The default measure is the loss; the weight noise falls from 2 to 8
	// bits in every layer.
	if sum.Measure != "loss" || !(sum.FP32Loss > 0) || len(sum.Noise) != 4 || !(sum.Tolerance >= 0) {
		t.Errorf("summary: measure %q, FP32 loss %v, %d noise rows, tolerance %v", sum.Measure, sum.FP32Loss, len(sum.Noise), sum.Tolerance)
	}
	for l, nz := range sum.Noise {
		if len(nz) != 2 || !(nz[0] > nz[1]) || !(nz[1] > 0) {
			t.Errorf("%s: weight noise %v at 2 and 8 bits", l, nz)
		}
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

	// A point file from before the loss was recorded is recomputed, with a
	// warning naming it; the accuracy measure reads the same points.
	files, _ := filepath.Glob(filepath.Join(out, "sensitivity", "points", "*.json"))
	var oldFile string
	for _, f := range files {
		var pr sweep.PointResult
		b, err := os.ReadFile(f)
		if err != nil || json.Unmarshal(b, &pr) != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if pr.Point.Kind == sweep.Sensitivity {
			pr.TestLoss = nil
			b, _ = json.Marshal(pr)
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
			oldFile = f
			break
		}
	}
	stdout, errs, code = runCLI(t, append(args, "--shard", "0/1")...)
	if code != 0 || oldFile == "" || !strings.Contains(errs, oldFile) || !strings.Contains(errs, "no test loss") || !strings.Contains(stdout, "1 computed") {
		t.Errorf("old point file: exit %d\n%s\n%s", code, stdout, errs)
	}
	stdout, errs, code = runCLI(t, append(args, "--sensitivity", "accuracy")...)
	lines = strings.Split(strings.TrimSpace(stdout), "\n")
	var acc autobitsSummary
	if code != 0 || json.Unmarshal([]byte(lines[len(lines)-1]), &acc) != nil || acc.Measure != "accuracy" || acc.Points.Computed != 0 {
		t.Errorf("--sensitivity accuracy: exit %d, %+v\n%s", code, acc, errs)
	}
	stdout, errs, code = runCLI(t, append(slices.Clone(args[:len(args)-1]), "--search-only", "--tie", "0")...)
	if code != 0 || !strings.Contains(stdout, "tie tolerance 0\n") || !strings.Contains(stdout, "conv1:2 conv2:2 fc1:2 fc2:2") {
		t.Errorf("--search-only: exit %d\n%s\n%s", code, stdout, errs)
	}
	// Sensitivities on held-out training images: their own points, the
	// reported float accuracy still the test images' (its point reused).
	stdout, errs, code = runCLI(t, append(args, "--sens-data", "train:100", "--uniform=false")...)
	lines = strings.Split(strings.TrimSpace(stdout), "\n")
	var held autobitsSummary
	if code != 0 || json.Unmarshal([]byte(lines[len(lines)-1]), &held) != nil {
		t.Fatalf("--sens-data train:100: exit %d\n%s\n%s", code, stdout, errs)
	}
	if held.SensData != "train:100" || held.FP32 != sum.FP32 || held.Points.Computed == 0 || !strings.Contains(stdout, "on train:100 images") {
		t.Errorf("--sens-data train:100: data %q, FP32 %v (test %v), %d points computed", held.SensData, held.FP32, sum.FP32, held.Points.Computed)
	}
	if !strings.HasPrefix(sum.SensData, "train:") {
		t.Errorf("default sensitivity data %q, want the training images", sum.SensData)
	}
	stdout, errs, code = runCLI(t, append(args, "--sens-data", "test", "--uniform=false")...)
	lines = strings.Split(strings.TrimSpace(stdout), "\n")
	var onTest autobitsSummary
	if code != 0 || json.Unmarshal([]byte(lines[len(lines)-1]), &onTest) != nil || onTest.SensData != "test" || onTest.FP32 != sum.FP32 {
		t.Errorf("--sens-data test: exit %d, data %q, FP32 %v (want %v)\n%s", code, onTest.SensData, onTest.FP32, sum.FP32, errs)
	}
	for _, bad := range [][]string{{"--sensitivity", "hessian"}, {"--tie", "-0.1"}, {"--tie", "2"}, {"--sens-data", "val"}, {"--sens-data", "train:0"}, {"--sens-data", "train:1000000"}} {
		if _, errs, code := runCLI(t, append(args, bad...)...); code != 2 || !strings.Contains(errs, bad[0]) {
			t.Errorf("%v: exit %d (%s), want 2 naming the flag", bad, code, errs)
		}
	}
}
