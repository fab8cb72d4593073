package rundir_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/qatgo/qatgo/internal/rundir"
)

func Example() {
	dir, _ := os.MkdirTemp("", "run")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "checkpoint.qat.tmp-123"), []byte("torn"), 0o644) // a killed write

	l, err := rundir.Acquire(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Release()
	fmt.Println("removed:", l.Removed)

	_, err = rundir.Acquire(dir) // a second writer
	fmt.Println("second writer refused:", errors.Is(err, rundir.ErrLocked))
	// Output:
	// removed: [checkpoint.qat.tmp-123]
	// second writer refused: true
}
