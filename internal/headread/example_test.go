package headread_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/qatgo/qatgo/internal/headread"
)

func Example() {
	dir, _ := os.MkdirTemp("", "headread")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "photo.jpg")
	os.WriteFile(path, []byte("\xff\xd8\xff\xe0 not a model"), 0o644)

	errBadMagic := errors.New("not a MYFMT file")
	_, err := headread.ReadFile(path, 5, 1<<20, func(head []byte) (int64, error) {
		if string(head) != "MYFMT" {
			return 0, errBadMagic
		}
		return -1, nil // the header does not give the size
	})
	fmt.Println(err)
	// Output: not a MYFMT file
}
