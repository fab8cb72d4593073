package compress

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/qatgo/qatgo/internal/headread"
)

// ReadFile refuses a file from its header: wrong magic, or a size other
// than the header announces, without reading the body.
func TestReadFileHeaderFirst(t *testing.T) {
	dir := t.TempDir()
	good, err := Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		name string
		head []byte
		size int64
		want error
	}{
		{"junk", []byte("PK\x03\x04zipfile!"), 2 << 30, ErrMagic},
		{"extended", good, 2 << 30, headread.ErrSize},
		{"truncated", good[:len(good)-1], int64(len(good) - 1), headread.ErrSize},
		{"good", good, int64(len(good)), nil},
	} {
		p := filepath.Join(dir, test.name)
		os.WriteFile(p, test.head, 0o644)
		if err := os.Truncate(p, test.size); err != nil {
			t.Skip(err)
		}
		_, err := ReadFile(p)
		if !errors.Is(err, test.want) {
			t.Errorf("%s: %v, want %v", test.name, err, test.want)
		}
	}
}
