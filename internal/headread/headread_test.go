package headread

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

var errMagic = errors.New("bad magic")

// check is a toy format: "TOY!" then a uint32 total length.
func check(head []byte) (int64, error) {
	if len(head) < 4 || string(head[:4]) != "TOY!" {
		return 0, errMagic
	}
	if len(head) < 8 {
		return -1, nil
	}
	return int64(binary.LittleEndian.Uint32(head[4:])), nil
}

func toy(total uint32, size int) []byte {
	b := make([]byte, size)
	copy(b, "TOY!")
	if size >= 8 {
		binary.LittleEndian.PutUint32(b[4:], total)
	}
	return b
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	for i, test := range []struct {
		data  []byte
		limit int64
		want  error // nil: the whole file comes back
	}{
		{toy(20, 20), 100, nil},
		{toy(20, 19), 100, ErrSize},
		{toy(20, 21), 100, ErrSize},
		{toy(200, 200), 100, ErrSize},
		{[]byte("GIF89a.........."), 100, errMagic},
		{[]byte("TO"), 100, errMagic},
		{toy(0, 6), 100, nil}, // header cut short: the check decides, the caller's parser reports it
	} {
		p := filepath.Join(dir, "f")
		os.WriteFile(p, test.data, 0o644)
		b, err := ReadFile(p, 8, test.limit, check)
		if !errors.Is(err, test.want) {
			t.Errorf("%d: err %v, want %v", i, err, test.want)
		}
		if test.want == nil && !bytes.Equal(b, test.data) {
			t.Errorf("%d: got %d bytes, want %d", i, len(b), len(test.data))
		}
	}
}

func TestReadFileMissing(t *testing.T) {
	if _, err := ReadFile(filepath.Join(t.TempDir(), "none"), 8, 10, check); !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
}
