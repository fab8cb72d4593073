package intmodel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// Read checks the 24-byte header before it reads a body: a 2 GiB file that
// is not a model, or a model header announcing more than the file holds,
// is refused after reading the header (it used to read up to 2 GiB first).
func TestReadChecksHeaderFirst(t *testing.T) {
	dir := t.TempDir()
	sparse := func(name string, head []byte, size int64) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(head)
		if err := f.Truncate(size); err != nil {
			t.Skipf("no sparse files here: %v", err)
		}
		f.Close()
		return p
	}
	hdr := func(mlen uint32, blen uint64) []byte {
		h := append([]byte(Magic), make([]byte, 16)...)
		binary.LittleEndian.PutUint32(h[8:], Version)
		binary.LittleEndian.PutUint32(h[12:], mlen)
		binary.LittleEndian.PutUint64(h[16:], blen)
		return h
	}
	for _, test := range []struct {
		name string
		head []byte
		size int64
		want error
	}{
		{"video.mp4", []byte("\x00\x00\x00\x18ftypmp42"), 2 << 30, ErrMagic},
		{"huge-blob.qint", hdr(10, 1<<31), 64, ErrTruncated},
		{"trailing.qint", hdr(10, 100), 1 << 30, ErrFormat},
		{"manifest-too-long.qint", hdr(MaxManifest+1, 0), 1 << 20, ErrFormat},
	} {
		p := sparse(test.name, test.head, test.size)
		var err error
		n := allocated(func() { _, err = Read(p) })
		if !errors.Is(err, test.want) {
			t.Errorf("%s: %v, want %v", test.name, err, test.want)
		}
		if n > 1<<20 {
			t.Errorf("%s: allocated %d bytes before refusing", test.name, n)
		}
	}
}

// Decode of a stream whose header announces more than it holds allocates
// with the data, not with the announcement.
func TestDecodeBoundedMemory(t *testing.T) {
	h := append([]byte(Magic), make([]byte, 16)...)
	binary.LittleEndian.PutUint32(h[8:], Version)
	binary.LittleEndian.PutUint64(h[16:], MaxFile)
	var err error
	n := allocated(func() { _, err = Decode(bytes.NewReader(append(h, make([]byte, 1000)...))) })
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("%v, want ErrTruncated", err)
	}
	if n > 4<<20 {
		t.Fatalf("allocated %d bytes", n)
	}
}
