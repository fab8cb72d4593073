package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrClosed is returned by File methods called after Commit or Abort.
var ErrClosed = errors.New("atomicfile: file already committed or aborted")

// tempSuffix names temporary files "<base>.tmp-<random>" so that leftovers
// from a killed process are recognisable next to their target.
const tempSuffix = ".tmp-*"

// File is a pending replacement of a target file. Write to it, then call
// Commit to publish the content or Abort to discard it. A File is not safe
// for concurrent use.
type File struct {
	f      *os.File
	target string
	perm   os.FileMode
	err    error // first write error; Commit refuses to publish after one
	done   bool
}

// Create starts an atomic replacement of path with mode 0644. Nothing is
// visible at path until Commit succeeds. Callers should `defer f.Abort()`,
// which is a no-op after a successful Commit.
func Create(path string) (*File, error) {
	return CreatePerm(path, 0o644)
}

// CreatePerm is Create with an explicit mode for the new file. The mode is
// set with chmod, so the process umask does not apply.
func CreatePerm(path string, perm os.FileMode) (*File, error) {
	if path == "" {
		return nil, errors.New("atomicfile: empty path")
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, base+tempSuffix)
	if err != nil {
		return nil, fmt.Errorf("atomicfile: create temp file for %s: %w", path, err)
	}
	return &File{f: f, target: path, perm: perm}, nil
}

// Name returns the target path (not the temporary file's name).
func (f *File) Name() string { return f.target }

// Write appends p to the pending content. After a write error every later
// Write and Commit fails with that error.
func (f *File) Write(p []byte) (int, error) {
	if f.done {
		return 0, ErrClosed
	}
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.f.Write(p)
	if err != nil {
		f.err = fmt.Errorf("atomicfile: write %s: %w", f.target, err)
		return n, f.err
	}
	return n, nil
}

// ReadFrom lets io.Copy stream into the temporary file without an extra
// buffer.
func (f *File) ReadFrom(r io.Reader) (int64, error) {
	if f.done {
		return 0, ErrClosed
	}
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.f.ReadFrom(r)
	if err != nil {
		f.err = fmt.Errorf("atomicfile: write %s: %w", f.target, err)
	}
	return n, f.err
}

// Commit flushes the content to disk, renames it over the target and syncs
// the directory. On error the target keeps its old content (or stays absent)
// and the temporary file is removed.
func (f *File) Commit() error {
	if f.done {
		return ErrClosed
	}
	f.done = true
	tmp := f.f.Name()
	fail := func(err error) error {
		f.f.Close()
		os.Remove(tmp)
		return err
	}
	if f.err != nil {
		return fail(f.err)
	}
	if err := f.f.Chmod(f.perm); err != nil {
		return fail(fmt.Errorf("atomicfile: chmod %s: %w", f.target, err))
	}
	if err := f.f.Sync(); err != nil {
		return fail(fmt.Errorf("atomicfile: sync %s: %w", f.target, err))
	}
	if err := f.f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("atomicfile: close %s: %w", f.target, err)
	}
	if err := os.Rename(tmp, f.target); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("atomicfile: rename over %s: %w", f.target, err)
	}
	// The rename is done; a failing directory sync means only that it may
	// not survive a crash, which the caller should still hear about.
	if err := syncDir(filepath.Dir(f.target)); err != nil {
		return fmt.Errorf("atomicfile: sync directory of %s: %w", f.target, err)
	}
	return nil
}

// Abort discards the pending content and removes the temporary file. It is
// safe to call more than once and after Commit (then it does nothing).
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.f.Close()
	os.Remove(f.f.Name())
}

// WriteFile atomically replaces path with data, like os.WriteFile but never
// leaving a partly written file behind. perm is applied with chmod (no umask).
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := CreatePerm(path, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Commit()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// IsTemp reports whether name (a base name) is one of this package's
// temporary files: "<base>.tmp-<digits>", as os.CreateTemp fills in tempSuffix.
func IsTemp(name string) bool {
	i := strings.LastIndex(name, ".tmp-")
	if i <= 0 || i+len(".tmp-") == len(name) {
		return false
	}
	for _, c := range name[i+len(".tmp-"):] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// RemoveStale removes the temporary files that writes killed before Commit
// or Abort left in dir, and returns their names. Only call it while no other
// process writes into dir (it cannot tell a live write from a dead one).
func RemoveStale(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("atomicfile: %w", err)
	}
	var removed []string
	for _, de := range des {
		if !de.Type().IsRegular() || !IsTemp(de.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, de.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, fmt.Errorf("atomicfile: remove stale %s: %w", de.Name(), err)
		}
		removed = append(removed, de.Name())
	}
	return removed, nil
}
