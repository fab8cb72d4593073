package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/internal/rundir"
)

// small is a quick synthetic run's flags.
var small = []string{"--model", "lenet5", "--data", "synthetic", "--batch", "32", "--train-limit", "256", "--test-limit", "64", "--lr", "0.02"}

func trainArgs(out string, extra ...string) []string {
	return append(append(append([]string{"train"}, small...), extra...), "--out", out)
}

func mustTrain(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	return out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A second writer of a run directory fails at once, naming the holder.
func TestTrainLockedRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	l, err := rundir.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	_, errs, code := runCLI(t, trainArgs(dir, "--epochs", "1")...)
	if code == 0 || !strings.Contains(errs, fmt.Sprintf("in use by process %d", os.Getpid())) {
		t.Fatalf("exit %d, %q; want a refusal naming pid %d", code, errs, os.Getpid())
	}
	if names, _ := rundir.Entries(dir); len(names) != 0 {
		t.Fatalf("the refused train wrote %v", names)
	}
}

// train into a run refuses without --resume or --overwrite; --overwrite
// starts afresh and removes what was derived from the old run; a directory
// of foreign files is never cleared.
func TestTrainExistingRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	mustTrain(t, trainArgs(dir, "--epochs", "1")...)
	old := readFile(t, filepath.Join(dir, stateFileName))
	os.WriteFile(filepath.Join(dir, "model.qint"), []byte("exported from the old run"), 0o644)
	_, errs, code := runCLI(t, trainArgs(dir, "--epochs", "1", "--seed", "2")...)
	if code == 0 || !strings.Contains(errs, "already holds a run") {
		t.Fatalf("train over a run: exit %d, %q", code, errs)
	}
	if !bytes.Equal(old, readFile(t, filepath.Join(dir, stateFileName))) {
		t.Fatal("the refused train changed model.state")
	}
	mustTrain(t, trainArgs(dir, "--epochs", "1", "--seed", "2", "--overwrite")...)
	if _, err := os.Stat(filepath.Join(dir, "model.qint")); !os.IsNotExist(err) {
		t.Fatalf("--overwrite kept the old export: %v", err)
	}
	if c, err := readRunConfig(dir); err != nil || c.Seed != 2 {
		t.Fatalf("config after --overwrite: %+v, %v", c, err)
	}
	foreign := t.TempDir()
	os.WriteFile(filepath.Join(foreign, "thesis.tex"), []byte("x"), 0o644)
	_, errs, code = runCLI(t, trainArgs(foreign, "--epochs", "1", "--overwrite")...)
	if code == 0 || !strings.Contains(errs, "holds no qatgo run") {
		t.Fatalf("--overwrite of a foreign directory: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(foreign, "thesis.tex")); err != nil {
		t.Fatal("foreign file deleted")
	}
}

// --resume refuses flags that would change the run and accepts the same
// values (spelt differently) and a new --data-dir.
func TestResumeRefusesChangedFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	mustTrain(t, trainArgs(dir, "--epochs", "1")...)
	for _, extra := range [][]string{{"--lr", "0.5"}, {"--quant", "w4a8"}, {"--epochs", "3"}, {"--seed", "9"}, {"--freeze-bn-epoch", "2"}} {
		_, errs, code := runCLI(t, append([]string{"train", "--resume", "--out", dir}, extra...)...)
		if code == 0 || !strings.Contains(errs, "would change the run") || !strings.Contains(errs, extra[0]) {
			t.Errorf("--resume %v: exit %d, %q", extra, code, errs)
		}
	}
	mustTrain(t, "train", "--resume", "--out", dir, "--lr", "0.020", "--model", "lenet5", "--data-dir", t.TempDir())
}

// A QAT fine-tune killed before its first checkpoint resumes from --init,
// not from random weights: its final state equals an uninterrupted run's.
func TestResumeHonoursInit(t *testing.T) {
	root := t.TempDir()
	fp := filepath.Join(root, "fp32")
	mustTrain(t, trainArgs(fp, "--epochs", "1")...)
	full := filepath.Join(root, "full")
	mustTrain(t, trainArgs(full, "--epochs", "1", "--quant", "w8a8", "--init", fp)...)
	killed := filepath.Join(root, "killed")
	mustTrain(t, trainArgs(killed, "--epochs", "1", "--quant", "w8a8", "--init", fp)...)
	// As if killed inside the first epoch: only config.json was written.
	for _, n := range []string{"checkpoint.qat", stateFileName, "result.json"} {
		os.Remove(filepath.Join(killed, n))
	}
	mustTrain(t, "train", "--resume", "--out", killed)
	if !bytes.Equal(readFile(t, filepath.Join(full, stateFileName)), readFile(t, filepath.Join(killed, stateFileName))) {
		t.Fatal("resumed run differs from the uninterrupted one")
	}
}

// --resume of a finished PTQ run keeps its calibrated model.
func TestResumeFinishedPTQ(t *testing.T) {
	root := t.TempDir()
	fp := filepath.Join(root, "fp32")
	mustTrain(t, trainArgs(fp, "--epochs", "1")...)
	ptq := filepath.Join(root, "ptq")
	out := mustTrain(t, trainArgs(ptq, "--ptq", "--quant", "w8a8", "--calib-images", "64", "--init", fp, "--json")...)
	acc := lastJSON(t, out)["test_accuracy"]
	before := readFile(t, filepath.Join(ptq, stateFileName))
	out = mustTrain(t, "train", "--resume", "--out", ptq, "--json")
	if got := lastJSON(t, out)["test_accuracy"]; got != acc {
		t.Errorf("resumed PTQ accuracy %v, was %v", got, acc)
	}
	if !bytes.Equal(before, readFile(t, filepath.Join(ptq, stateFileName))) {
		t.Fatal("resume of a finished PTQ run changed its model")
	}
}

// Temporary files of a killed write are removed when the run is next
// opened.
func TestResumeRemovesStaleTemps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	mustTrain(t, trainArgs(dir, "--epochs", "1")...)
	stale := filepath.Join(dir, "checkpoint.qat.tmp-4242")
	os.WriteFile(stale, make([]byte, 1000), 0o644)
	_, errs, code := runCLI(t, "train", "--resume", "--out", dir)
	if code != 0 {
		t.Fatal(errs)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale temp file kept: %v", err)
	}
}

// Bad numbers and specs are refused at parse time: exit 2, one line, no
// internals, no run directory.
func TestTrainFlagValidation(t *testing.T) {
	root := t.TempDir()
	badJSON := filepath.Join(root, "bad.json")
	os.WriteFile(badJSON, []byte(`{"conv1": {"act_bits": 16}}`), 0o644)
	for i, test := range []struct {
		args []string
		want string
	}{
		{[]string{"--batch", "0"}, "--batch 0"},
		{[]string{"--batch", "-3"}, "--batch -3"},
		{[]string{"--batch", "100000000"}, "--batch"},
		{[]string{"--batch", "512"}, "only 256 images"},
		{[]string{"--epochs", "0"}, "--epochs 0"},
		{[]string{"--lr", "NaN"}, "--lr NaN"},
		{[]string{"--lr", "+Inf"}, "--lr +Inf"},
		{[]string{"--lr", "0"}, "--lr 0"},
		{[]string{"--lr", "-1"}, "--lr -1"},
		{[]string{"--lr", "1e300"}, "--lr"},
		{[]string{"--momentum", "1"}, "--momentum 1"},
		{[]string{"--momentum", "NaN"}, "--momentum NaN"},
		{[]string{"--weight-decay", "-0.1"}, "--weight-decay"},
		{[]string{"--weight-decay", "Inf"}, "--weight-decay"},
		{[]string{"--schedule", "step:2:NaN"}, "--schedule"},
		{[]string{"--schedule", "cosine:-Inf"}, "--schedule"},
		{[]string{"--optimizer", "rmsprop"}, "--optimizer"},
		{[]string{"--train-limit", "-1"}, "--train-limit"},
		{[]string{"--calib-images", "0", "--ptq", "--quant", "w8a8"}, "--calib-images"},
		{[]string{"--freeze-bn-epoch", "-2"}, "--freeze-bn-epoch"},
		{[]string{"--freeze-observers-epoch", "0"}, "--freeze-observers-epoch 0"},
		{[]string{"--quant", "w8a16"}, "16-bit activations"},
		{[]string{"--quant", "w8a15"}, "15-bit activations"},
		{[]string{"--quant", "w0a8"}, "--quant"},
		{[]string{"--quant", "w8a8", "--quant-config", badJSON}, "act_bits 16"},
		{[]string{"--quant-config", filepath.Join(root, "missing-overrides"), "--quant", "w8a8"}, "--quant-config"},
		{[]string{"--ptq"}, "nothing to calibrate"},
		{[]string{"--init", filepath.Join(root, "nope")}, "--init"},
	} {
		out := filepath.Join(root, fmt.Sprint("run", i))
		_, errs, code := runCLI(t, trainArgs(out, test.args...)...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(errs, test.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", test.args, code, errs, test.want)
		}
		for _, leak := range []string{"panic", "PANIC", "json:", "runtime error", "goroutine"} {
			if strings.Contains(errs, leak) {
				t.Errorf("%v: message leaks internals (%q): %s", test.args, leak, errs)
			}
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: run directory created", test.args)
		}
	}
}

// Wider-than-exportable quantization trains as a simulation and says so.
func TestTrainSimulationOnlyNote(t *testing.T) {
	_, errs, code := runCLI(t, trainArgs(filepath.Join(t.TempDir(), "r"), "--epochs", "1", "--quant", "w8a12")...)
	if code != 0 || !strings.Contains(errs, "export") {
		t.Fatalf("w8a12: exit %d, %q; want a run and a note that export refuses it", code, errs)
	}
}

// An export records its run's identity; once the run is trained again,
// comparing the old export with it is refused instead of counting
// disagreements against another model.
func TestCompareRunRefusesStaleExport(t *testing.T) {
	root := t.TempDir()
	run := filepath.Join(root, "run")
	mustTrain(t, trainArgs(run, "--epochs", "1", "--quant", "w8a8")...)
	file := filepath.Join(root, "m.qint")
	mustTrain(t, "export", "--run", run, "--out", file)
	mustTrain(t, "eval", "--model", file, "--compare-run", run)
	mustTrain(t, trainArgs(run, "--epochs", "1", "--quant", "w8a8", "--seed", "5", "--overwrite")...)
	_, errs, code := runCLI(t, "eval", "--model", file, "--compare-run", run)
	if code == 0 || !strings.Contains(errs, "export it again") {
		t.Fatalf("stale export: exit %d, %q", code, errs)
	}
}

// The other commands' numeric flags are checked before any work, too.
func TestOtherCommandsFlagValidation(t *testing.T) {
	run := filepath.Join(t.TempDir(), "no-such-run")
	for _, test := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "--run", run, "--workers", "0"}, "--workers 0"},
		{[]string{"sweep", "--run", run, "--lr", "NaN"}, "--lr NaN"},
		{[]string{"sweep", "--run", run, "--momentum", "-0.5"}, "--momentum"},
		{[]string{"sweep", "--run", run, "--test-limit", "-7"}, "--test-limit"},
		{[]string{"compress", "--run", run, "--lr", "Inf"}, "--lr +Inf"},
		{[]string{"compress", "--run", run, "--fc-bits", "0"}, "--fc-bits 0"},
		{[]string{"compress", "--run", run, "--weight-decay", "NaN"}, "--weight-decay"},
		{[]string{"eval", "--model", run, "--batch", "0"}, "--batch 0"},
		{[]string{"eval", "--model", run, "--workers", "-1"}, "--workers -1"},
	} {
		_, errs, code := runCLI(t, test.args...)
		if code != 2 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, test.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 and one line with %q", test.args, code, errs, test.want)
		}
	}
	if _, err := os.Stat(run); !os.IsNotExist(err) {
		t.Error("a refused command created the run directory")
	}
}
