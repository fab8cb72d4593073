package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// sparseFile makes a 2 GiB file that starts with head and holds nothing
// else (sparse: no disk used).
func sparseFile(t *testing.T, path string, head string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(head)
	if err := f.Truncate(2 << 30); err != nil {
		t.Skipf("no sparse files: %v", err)
	}
}

// Every loader refuses a 2 GiB file of the wrong kind from its first bytes,
// without reading (or allocating) the body.
func TestLoadersCheckMagicFirst(t *testing.T) {
	root := t.TempDir()
	run := filepath.Join(root, "run")
	mustTrain(t, trainArgs(run, "--epochs", "1")...)
	junk := filepath.Join(root, "junk.bin")
	sparseFile(t, junk, "\x89PNG\r\n\x1a\n")
	for _, test := range []struct {
		name  string
		setup func()
		args  []string
		want  string
	}{
		{"inspect", nil, []string{"inspect", junk}, "bad magic"},
		{"eval --model", nil, []string{"eval", "--model", junk}, "bad magic"},
		{"train --init", nil, trainArgs(filepath.Join(root, "new"), "--init", junk), "not a qatgo model state or checkpoint"},
		{"eval --run", func() { sparseFile(t, filepath.Join(run, stateFileName), "QGNNSTXX") }, []string{"eval", "--run", run}, "bad magic"},
		{"train --resume", func() { sparseFile(t, filepath.Join(run, "checkpoint.qat"), "QATGOCKX") }, []string{"train", "--resume", "--out", run}, "bad magic"},
		{"config.json", func() { sparseFile(t, filepath.Join(run, runConfigName), "{") }, []string{"eval", "--run", run}, "larger than"},
	} {
		if test.setup != nil {
			test.setup()
		}
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		_, errs, code := runCLI(t, test.args...)
		runtime.ReadMemStats(&b)
		if code == 0 || !strings.Contains(errs, test.want) {
			t.Errorf("%s: exit %d, %q; want an error with %q", test.name, code, errs, test.want)
		}
		if n := b.TotalAlloc - a.TotalAlloc; n > 64<<20 {
			t.Errorf("%s: allocated %d MiB before refusing", test.name, n>>20)
		}
	}
}
