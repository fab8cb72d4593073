package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/qatgo/qatgo/internal/atomicfile"
)

// LockName is the lock file inside a run directory. It is not part of the
// run: Entries leaves it out.
const LockName = ".lock"

// ErrLocked is wrapped by the *LockedError Lock returns when another process
// holds the directory.
var ErrLocked = errors.New("rundir: run directory in use")

// LockedError names the directory and, when the lock file says, the pid of
// the process that holds it.
type LockedError struct {
	Dir string
	PID int // 0 when unknown
}

func (e *LockedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("rundir: %s is in use by process %d (lock %s)", e.Dir, e.PID, filepath.Join(e.Dir, LockName))
	}
	return fmt.Sprintf("rundir: %s is in use by another process (lock %s)", e.Dir, filepath.Join(e.Dir, LockName))
}

// Unwrap returns ErrLocked.
func (e *LockedError) Unwrap() error { return ErrLocked }

// Lock is an exclusive hold of a run directory.
type Lock struct {
	dir string
	f   *os.File
	// Removed lists the stale temporary files removed when the lock was
	// taken.
	Removed []string
}

// Acquire creates dir if needed, takes its lock without waiting (a held
// lock gives a *LockedError naming the holder) and removes stale temporary
// files of atomic writes (safe only now, since no other writer can exist).
func Acquire(dir string) (*Lock, error) {
	if dir == "" {
		return nil, errors.New("rundir: empty directory name")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("rundir: %w", err)
	}
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("rundir: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("rundir: lock %s: %w", path, err)
	}
	if !held {
		f.Close()
		return nil, &LockedError{Dir: dir, PID: readPID(path)}
	}
	// The pid is for the message a second writer gets; the lock itself is
	// the flock, which the kernel releases when this process dies.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	l := &Lock{dir: dir, f: f}
	removed, err := atomicfile.RemoveStale(dir)
	l.Removed = removed
	if err != nil {
		l.Release()
		return nil, fmt.Errorf("rundir: %w", err)
	}
	return l, nil
}

// Release drops the lock. It is safe to call more than once.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	// The pid goes first so that a reader never blames a finished process.
	l.f.Truncate(0)
	unlock(l.f)
	l.f.Close()
	l.f = nil
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil || len(b) > 32 {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// Entries lists the names in dir that belong to a run: everything but the
// lock file. A missing dir has none.
func Entries(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rundir: %w", err)
	}
	var names []string
	for _, de := range des {
		if de.Name() != LockName {
			names = append(names, de.Name())
		}
	}
	return names, nil
}

// Clear removes every entry of the directory l holds except its lock file:
// what --overwrite does to a run before it starts again.
func (l *Lock) Clear() error {
	names, err := Entries(l.dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := os.RemoveAll(filepath.Join(l.dir, n)); err != nil {
			return fmt.Errorf("rundir: %w", err)
		}
	}
	return nil
}
