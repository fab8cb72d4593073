// Package headread reads a file format's header before its body, so that a
// loader refuses a file that is not its format, or whose header does not
// match its size, after reading a few bytes, and never allocates more than
// the file holds.
package headread

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrSize is wrapped when a file's size disagrees with its header or
// exceeds the format's limit.
var ErrSize = errors.New("headread: file size does not match its header")

// Check inspects a format's header (its first bytes, fewer when the file is
// shorter) and returns the file's total size as the header announces it, or
// -1 when the header does not say. An error stops the read.
type Check func(head []byte) (total int64, err error)

// ReadFile opens path, reads its first headLen bytes and passes them to
// check; only when check accepts them, the file's size agrees with the
// announced total (or is at most limit when none is announced) is the rest
// read. The result is the whole file.
func ReadFile(path string, headLen int, limit int64, check Check) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, headLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	head = head[:n]
	total, err := check(head)
	if err != nil {
		return nil, err
	}
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	want := limit
	if total >= 0 {
		if total > limit {
			return nil, fmt.Errorf("%w: header announces %d bytes, more than %d", ErrSize, total, limit)
		}
		if size >= 0 && size != total {
			return nil, fmt.Errorf("%w: %d bytes, header announces %d", ErrSize, size, total)
		}
		want = total
	} else if size > limit {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrSize, size, limit)
	}
	if int64(n) < int64(headLen) {
		return head, nil
	}
	// Grow with the data, not with the announcement.
	buf := bytes.NewBuffer(make([]byte, 0, min(want, 1<<20)))
	buf.Write(head)
	if _, err := buf.ReadFrom(io.LimitReader(f, want-int64(n)+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > want {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrSize, want)
	}
	return buf.Bytes(), nil
}
