package cli

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// A tiny FP32 run, a sweep from it, and a rerun that does no work.
func TestSweepSynthetic(t *testing.T) {
	dir := t.TempDir()
	fp := filepath.Join(dir, "fp32")
	if _, errs, code := runCLI(t, "train", "--model", "lenet300", "--data", "synthetic", "--epochs", "1", "--batch", "32",
		"--lr", "0.05", "--out", fp); code != 0 {
		t.Fatalf("train exit %d: %s", code, errs)
	}
	args := []string{"sweep", "--run", fp, "--groups", "fc,layer:fc3", "--methods", "linear-pc,kmeans,fp16", "--bits", "2,8",
		"--finetune", "0,1", "--max-steps", "2", "--test-limit", "64", "--workers", "2", "--json"}
	out, errs, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("sweep exit %d: %s", code, errs)
	}
	m := lastJSON(t, out)
	// FP32 + control + 2 groups × 2 epochs × (2 linear + 2 kmeans + fp16) = 22 points.
	if m["points"].(float64) != 22 || m["computed"].(float64) != 22 || m["failed"].(float64) != 0 {
		t.Errorf("summary %v", m)
	}
	for _, p := range []string{"results.csv", "results.md", "plot-fc.png", "plot-layer-fc3.png"} {
		if _, err := os.Stat(filepath.Join(fp, "sweep", p)); err != nil {
			t.Error(err)
		}
	}
	f, err := os.Open(filepath.Join(fp, "sweep", "plot-fc.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if c, err := png.DecodeConfig(f); err != nil || c.Width != 600 || c.Height != 400 {
		t.Errorf("plot: %+v, %v; want a 600×400 PNG", c, err)
	}
	md, _ := os.ReadFile(filepath.Join(fp, "sweep", "results.md"))
	out, errs, code = runCLI(t, args...)
	if code != 0 {
		t.Fatalf("rerun exit %d: %s", code, errs)
	}
	if m := lastJSON(t, out); m["computed"].(float64) != 0 || m["reused"].(float64) != 22 {
		t.Errorf("rerun summary %v; want no work", m)
	}
	if md2, _ := os.ReadFile(filepath.Join(fp, "sweep", "results.md")); string(md2) != string(md) {
		t.Error("rerun changed the tables")
	}
	// A directory that is not a run is refused.
	if _, _, code := runCLI(t, "sweep", "--run", dir); code == 0 {
		t.Error("sweep of a directory without config.json succeeded")
	}
}
