package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/sweep"
)

// TestMain lets a test run the test binary itself as the qatgo command
// (separate processes, as a batch engine runs shards).
func TestMain(m *testing.M) {
	if os.Getenv("QATGO_TEST_AS_CLI") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// cliProcess starts the qatgo command line as a separate process.
func cliProcess(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "QATGO_TEST_AS_CLI=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%v:\n%s", args, out.String())
		}
	})
	return cmd
}

// Three shards run as concurrent processes into one directory and merged
// give exactly the tables (and plots) of one process running every point.
func TestSweepShardsMergeEqualSingle(t *testing.T) {
	dir := t.TempDir()
	fp := filepath.Join(dir, "fp32")
	if _, errs, code := runCLI(t, "train", "--model", "lenet300", "--data", "synthetic", "--epochs", "1", "--batch", "32",
		"--train-limit", "512", "--lr", "0.05", "--out", fp); code != 0 {
		t.Fatalf("train exit %d: %s", code, errs)
	}
	common := []string{"sweep", "--run", fp, "--groups", "fc,layer:fc3", "--methods", "linear-pc,kmeans", "--bits", "2,8",
		"--finetune", "0,1", "--max-steps", "2", "--test-limit", "64", "--workers", "1", "--sensitivity"}
	with := func(extra ...string) []string { return append(append([]string(nil), common...), extra...) }
	single, sharded := filepath.Join(dir, "single"), filepath.Join(dir, "sharded")
	if err := cliProcess(t, with("--out", single)...).Wait(); err != nil {
		t.Fatalf("single process: %v", err)
	}
	// Merging before the shards ran fails and writes no tables.
	if _, _, code := runCLI(t, with("--out", sharded, "--merge")...); code == 0 {
		t.Fatal("merge without results succeeded")
	}
	var shards []*exec.Cmd
	for _, s := range []string{"0/3", "1/3", "2/3"} {
		shards = append(shards, cliProcess(t, with("--out", sharded, "--shard", s)...))
	}
	for i, c := range shards {
		if err := c.Wait(); err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
	}
	if _, err := os.Stat(filepath.Join(sharded, "results.csv")); err == nil {
		t.Error("a shard wrote the tables")
	}
	if err := cliProcess(t, with("--out", sharded, "--merge")...).Wait(); err != nil {
		t.Fatalf("merge: %v", err)
	}
	for _, f := range []string{"results.csv", "results.md", "plot-fc.png", "plot-layer-fc3.png"} {
		a, b := readFile(t, filepath.Join(single, f)), readFile(t, filepath.Join(sharded, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: merged shards differ from the single process", f)
		}
	}
	// The point files agree too, test loss included (their wall times differ).
	files, _ := filepath.Glob(filepath.Join(single, "points", "*.json"))
	if len(files) == 0 {
		t.Fatal("no point files")
	}
	for _, f := range files {
		id := strings.TrimSuffix(filepath.Base(f), ".json")
		a, err1 := sweep.LoadResult(single, id)
		b, err2 := sweep.LoadResult(sharded, id)
		if err1 != nil || err2 != nil || a.TestLoss == nil || b.TestLoss == nil ||
			a.Accuracy != b.Accuracy || *a.TestLoss != *b.TestLoss || a.TrainLoss != b.TrainLoss {
			t.Errorf("point %s: single %+v (%v), sharded %+v (%v)", id, a, err1, b, err2)
		}
	}
	if _, errs, code := runCLI(t, with("--out", sharded, "--shard", "3/3")...); code != 2 {
		t.Errorf("--shard 3/3: exit %d (%s), want 2", code, errs)
	}
}
