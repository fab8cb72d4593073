package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A second Acquire of a held directory fails at once with the holder's pid;
// after Release it succeeds.
func TestAcquireExclusive(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(dir)
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire: %v, want a *LockedError", err)
	}
	if le.PID != os.Getpid() {
		t.Fatalf("holder pid %d, want %d", le.PID, os.Getpid())
	}
	l.Release()
	l.Release() // twice is fine
	l2, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l2.Release()
}

func TestAcquireRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"checkpoint.qat", "checkpoint.qat.tmp-99", "model.state.tmp-7"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	slices.Sort(l.Removed)
	if !slices.Equal(l.Removed, []string{"checkpoint.qat.tmp-99", "model.state.tmp-7"}) {
		t.Fatalf("removed %v", l.Removed)
	}
	names, err := Entries(dir)
	if err != nil || !slices.Equal(names, []string{"checkpoint.qat"}) {
		t.Fatalf("Entries = %v, %v; want [checkpoint.qat]", names, err)
	}
}

func TestClearKeepsLock(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "model.qint"), []byte("x"), 0o644)
	os.MkdirAll(filepath.Join(dir, "sweep", "points"), 0o755)
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if err := l.Clear(); err != nil {
		t.Fatal(err)
	}
	if names, _ := Entries(dir); len(names) != 0 {
		t.Fatalf("left %v", names)
	}
	if _, err := Acquire(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("lock lost by Clear: %v", err)
	}
}

func TestAcquireEmptyName(t *testing.T) {
	if _, err := Acquire(""); err == nil {
		t.Fatal("no error")
	}
}
