package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entries lists the names in dir, to check that no temporary file is left.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFile(t *testing.T) {
	for i, test := range []struct {
		old  *string // nil: no file before
		data string
		perm os.FileMode
	}{
		{nil, "hello", 0o644},
		{ptr("old content that is longer"), "new", 0o600},
		{ptr("x"), "", 0o640},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "f.bin")
		if test.old != nil {
			if err := os.WriteFile(path, []byte(*test.old), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := WriteFile(path, []byte(test.data), test.perm); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != test.data {
			t.Errorf("case %d: content %q, want %q", i, got, test.data)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != test.perm {
			t.Errorf("case %d: mode %v, want %v", i, fi.Mode().Perm(), test.perm)
		}
		if names := entries(t, dir); len(names) != 1 || names[0] != "f.bin" {
			t.Errorf("case %d: directory holds %v, want only f.bin", i, names)
		}
	}
}

func ptr(s string) *string { return &s }

func TestCreateStreamCommit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "stream.txt")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	fmt.Fprintf(f, "line %d\n", 1)
	if _, err := io.Copy(f, strings.NewReader("line 2\n")); err != nil {
		t.Fatal(err)
	}
	// Before Commit the target still shows the old content.
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("before commit: %q, want %q", got, "old")
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "line 1\nline 2\n" {
		t.Errorf("after commit: %q", got)
	}
	if err := f.Commit(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Commit: %v, want ErrClosed", err)
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Commit: %v, want ErrClosed", err)
	}
	f.Abort() // no-op after Commit
	if got, _ := os.ReadFile(path); string(got) != "line 1\nline 2\n" {
		t.Errorf("Abort after Commit changed the file: %q", got)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v, want only stream.txt", names)
	}
}

// Each failure must leave the old content in place and no temporary file.
func TestFailureLeavesOldContent(t *testing.T) {
	for _, test := range []struct {
		name string
		run  func(path string) error
	}{
		{"abort", func(path string) error {
			f, err := Create(path)
			if err != nil {
				return err
			}
			f.Write([]byte("partial new content"))
			f.Abort()
			return errors.New("aborted")
		}},
		{"write error", func(path string) error {
			f, err := Create(path)
			if err != nil {
				return err
			}
			defer f.Abort()
			f.Write([]byte("partial"))
			f.f.Close() // the disk "fails" under the writer
			if _, err := f.Write([]byte("more")); err == nil {
				return errors.New("Write on a closed file succeeded")
			}
			return f.Commit()
		}},
		{"commit after write error", func(path string) error {
			f, err := Create(path)
			if err != nil {
				return err
			}
			f.err = errors.New("injected")
			return f.Commit()
		}},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "model.bin")
		if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := test.run(path); err == nil {
			t.Errorf("%s: no error", test.name)
		}
		if got, _ := os.ReadFile(path); string(got) != "old" {
			t.Errorf("%s: content %q, want %q", test.name, got, "old")
		}
		if names := entries(t, dir); len(names) != 1 || names[0] != "model.bin" {
			t.Errorf("%s: directory holds %v, want only model.bin", test.name, names)
		}
	}
}

// A rename over a non-empty directory fails; the directory and its content
// stay and the temporary file is removed.
func TestRenameFailure(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "keep"), []byte("k"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(target, []byte("data"), 0o644)
	if err == nil || !strings.Contains(err.Error(), target) {
		t.Fatalf("error %v, want one naming %s", err, target)
	}
	if names := entries(t, dir); len(names) != 1 || names[0] != "out" {
		t.Errorf("directory holds %v, want only out", names)
	}
	if got, _ := os.ReadFile(filepath.Join(target, "keep")); string(got) != "k" {
		t.Errorf("directory content changed: %q", got)
	}
}

func TestMissingDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "no", "such", "f")
	if err := WriteFile(path, []byte("x"), 0o644); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v, want one naming %s", err, path)
	}
	if _, err := Create(""); err == nil {
		t.Error("Create(\"\") succeeded")
	}
}

func ExampleWriteFile() {
	dir, _ := os.MkdirTemp("", "atomicfile-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "result.json")
	if err := WriteFile(path, []byte(`{"acc":0.99}`), 0o644); err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(path)
	fmt.Println(string(b))
	// Output: {"acc":0.99}
}
