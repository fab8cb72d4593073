package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// FormatError reports a file that is not a valid IDX file of the expected
// kind, or whose content is inconsistent (labels out of range, counts that
// do not match). Use errors.As to get the file name.
type FormatError struct {
	File   string // the file name (or the name given to ReadIDX)
	Reason string // what was expected and what was found
}

func (e *FormatError) Error() string {
	return "datasets: " + e.File + ": " + e.Reason
}

func formatErr(file, format string, args ...any) *FormatError {
	return &FormatError{File: file, Reason: fmt.Sprintf(format, args...)}
}

// IDX element type codes (third byte of the magic number). Only unsigned
// bytes are supported: MNIST and Fashion-MNIST use nothing else.
const idxTypeUint8 = 0x08

// Magic numbers of the two IDX files a classification set consists of.
const (
	MagicImages = 0x00000803 // unsigned bytes, 3 dimensions: N×H×W
	MagicLabels = 0x00000801 // unsigned bytes, 1 dimension: N
)

// maxPayload bounds the size a header may declare, so that a corrupt header
// yields an error instead of an attempt to allocate terabytes.
const maxPayload int64 = 1 << 34

// preallocLimit is the largest payload allocated in one piece before any of
// it has been read; larger payloads grow as data arrives, so a truncated
// file with a huge header costs only what it actually holds.
const preallocLimit = 256 << 20

// IDX is the content of an IDX file of unsigned bytes.
type IDX struct {
	Dims []int  // dimension sizes, outermost first
	Data []byte // row-major payload, len = product of Dims
}

// ReadIDX reads an IDX file of unsigned bytes with any number of dimensions
// from r, gunzipping it first when it starts with the gzip magic bytes
// 1f 8b. name is used in errors. The payload must have exactly the length
// the header declares.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	return readIDX(r, name, 0)
}

// ReadIDXFile reads the IDX file at path (raw or gzipped).
func ReadIDXFile(path string) (*IDX, error) {
	return readIDXFile(path, 0)
}

func readIDXFile(path string, wantDims int) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	return readIDX(f, path, wantDims)
}

// readIDX reads an IDX file; wantDims > 0 requires the magic number
// 0x000008<wantDims>.
func readIDX(r io.Reader, name string, wantDims int) (*IDX, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, err := br.Peek(2)
	if err != nil && len(head) < 2 {
		return nil, formatErr(name, "file is %d bytes long, too short for an IDX header", len(head))
	}
	var src io.Reader = br
	if head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, formatErr(name, "bad gzip header: %v", err)
		}
		defer zr.Close()
		src = zr
	}

	var hdr [4]byte
	if n, err := io.ReadFull(src, hdr[:]); err != nil {
		return nil, formatErr(name, "magic number: want 4 bytes, found %d (%s)", n, readErr(err))
	}
	magic := binary.BigEndian.Uint32(hdr[:])
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, formatErr(name, "magic number 0x%08x: the first two bytes must be zero (not an IDX file)", magic)
	}
	if hdr[2] != idxTypeUint8 {
		return nil, formatErr(name, "element type 0x%02x in magic number 0x%08x: only unsigned bytes (0x08) are supported", hdr[2], magic)
	}
	ndims := int(hdr[3])
	if wantDims > 0 && ndims != wantDims {
		return nil, formatErr(name, "magic number 0x%08x, want 0x%08x (%s)", magic, 0x0800|wantDims, kindName(wantDims))
	}
	if ndims == 0 {
		return nil, formatErr(name, "magic number 0x%08x declares zero dimensions", magic)
	}

	dimBytes := make([]byte, 4*ndims)
	if n, err := io.ReadFull(src, dimBytes); err != nil {
		return nil, formatErr(name, "header: want %d dimension sizes (%d bytes), found %d bytes (%s)", ndims, 4*ndims, n, readErr(err))
	}
	dims := make([]int, ndims)
	size := int64(1)
	for i := range dims {
		d := binary.BigEndian.Uint32(dimBytes[4*i:])
		if d == 0 {
			return nil, formatErr(name, "dimension %d is zero", i)
		}
		dims[i] = int(d)
		size *= int64(d)
		if size > maxPayload || size > math.MaxInt {
			return nil, formatErr(name, "dimensions %v declare more than %d bytes", dims[:i+1], min(maxPayload, math.MaxInt))
		}
	}

	var buf bytes.Buffer
	buf.Grow(int(min(size, preallocLimit)))
	got, err := buf.ReadFrom(io.LimitReader(src, size))
	if err != nil {
		return nil, formatErr(name, "payload after %d of %d bytes: %s", got, size, readErr(err))
	}
	if got != size {
		return nil, formatErr(name, "payload truncated: header declares %s = %d bytes, found %d", dimString(dims), size, got)
	}
	// Reading to the end also makes gzip verify its checksum.
	extra, err := io.Copy(io.Discard, src)
	if err != nil {
		return nil, formatErr(name, "after the payload: %s", readErr(err))
	}
	if extra != 0 {
		return nil, formatErr(name, "%d extra bytes after the payload: header declares %s = %d bytes, found %d", extra, dimString(dims), size, size+extra)
	}
	return &IDX{Dims: dims, Data: buf.Bytes()}, nil
}

// readErr describes a read error; a premature end of data is the common case.
func readErr(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of data"
	}
	return err.Error()
}

func kindName(ndims int) string {
	switch ndims {
	case 1:
		return "labels: unsigned bytes, 1 dimension"
	case 3:
		return "images: unsigned bytes, 3 dimensions"
	}
	return fmt.Sprintf("unsigned bytes, %d dimensions", ndims)
}

func dimString(dims []int) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, "×")
}

// ReadImagesFile reads an IDX images file (magic 0x00000803): n images of
// h×w unsigned bytes, row-major.
func ReadImagesFile(path string) (n, h, w int, pix []byte, err error) {
	x, err := readIDXFile(path, 3)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	return x.Dims[0], x.Dims[1], x.Dims[2], x.Data, nil
}

// ReadLabelsFile reads an IDX labels file (magic 0x00000801) and checks that
// every label is below numClasses.
func ReadLabelsFile(path string, numClasses int) ([]uint8, error) {
	x, err := readIDXFile(path, 1)
	if err != nil {
		return nil, err
	}
	if err := checkLabels(path, x.Data, numClasses); err != nil {
		return nil, err
	}
	return x.Data, nil
}

func checkLabels(name string, labels []uint8, numClasses int) error {
	for i, l := range labels {
		if int(l) >= numClasses {
			return formatErr(name, "label %d at index %d is out of range: want < %d classes", l, i, numClasses)
		}
	}
	return nil
}
