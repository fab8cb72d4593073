package compress

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/qatgo/qatgo/huffman"
	"github.com/qatgo/qatgo/internal/atomicfile"
	"github.com/qatgo/qatgo/internal/headread"
)

// File layout (all integers little-endian; uvarint as encoding/binary):
//
//	magic "QGDC" | version uint16 | flags uint16 (0) | payload length uint64 |
//	payload | CRC-32C of everything before it (uint32)
//
// payload: uvarint layer count, then per layer:
//
//	name: uvarint length + bytes
//	shape: uvarint rank + rank uvarints
//	codebook: uvarint k + k float32 bit patterns
//	uvarint kept count, byte sparse flag (0 or 1)
//	if sparse: uvarint r (bits), uvarint entry count, Huffman table,
//	           uvarint stream bits + stream bytes (relative positions)
//	Huffman table, uvarint stream bits + stream bytes (cluster indices of
//	           the kept weights, in order)
//	bias: uvarint count + float32 bit patterns
const (
	Magic   = "QGDC"
	Version = 1
)

const headerLen = 16

// Sentinel errors of the file format; a *FormatError wraps one of them.
var (
	ErrFormat   = errors.New("compress: malformed file")
	ErrMagic    = errors.New("compress: not a compressed-model file (bad magic)")
	ErrVersion  = errors.New("compress: unsupported file version")
	ErrChecksum = errors.New("compress: checksum mismatch")
)

// FormatError locates a decoding failure.
type FormatError struct {
	File   string // "" when decoding bytes
	Offset int    // byte offset in the file
	Layer  int    // layer index, -1 outside layers
	Msg    string
	Err    error // one of the sentinels, or a wrapped decoding error
}

func (e *FormatError) Error() string {
	s := "compress: "
	if e.File != "" {
		s += e.File + ": "
	}
	s += fmt.Sprintf("offset %d: ", e.Offset)
	if e.Layer >= 0 {
		s += fmt.Sprintf("layer %d: ", e.Layer)
	}
	s += e.Msg
	if e.Err != nil && e.Err != ErrFormat {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *FormatError) Unwrap() []error {
	if e.Err == nil || e.Err == ErrFormat {
		return []error{ErrFormat}
	}
	return []error{ErrFormat, e.Err}
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Marshal encodes the layers in the compressed file format.
func Marshal(layers []Layer) ([]byte, error) {
	b := make([]byte, headerLen, 1024)
	copy(b, Magic)
	binary.LittleEndian.PutUint16(b[4:], Version)
	b = binary.AppendUvarint(b, uint64(len(layers)))
	for i := range layers {
		l := &layers[i]
		st, err := layerStreams(l)
		if err != nil {
			return nil, err
		}
		b = appendString(b, l.Name)
		b = binary.AppendUvarint(b, uint64(len(l.Shape)))
		for _, d := range l.Shape {
			b = binary.AppendUvarint(b, uint64(d))
		}
		b = appendFloats(b, l.Centroids)
		b = binary.AppendUvarint(b, uint64(len(st.idx)))
		if st.relCode != nil {
			b = append(b, 1)
			b = binary.AppendUvarint(b, uint64(l.relBits()))
			b = binary.AppendUvarint(b, uint64(len(st.rel)))
			if b, err = appendStream(b, st.relCode, st.rel); err != nil {
				return nil, fmt.Errorf("compress: layer %q: %w", l.Name, err)
			}
		} else {
			b = append(b, 0)
		}
		if b, err = appendStream(b, st.idxCode, st.idx); err != nil {
			return nil, fmt.Errorf("compress: layer %q: %w", l.Name, err)
		}
		b = appendFloats(b, l.Bias)
	}
	binary.LittleEndian.PutUint64(b[8:], uint64(len(b)-headerLen))
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendFloats(b []byte, f []float32) []byte {
	b = binary.AppendUvarint(b, uint64(len(f)))
	for _, v := range f {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func appendStream(b []byte, c *huffman.Code, syms []int32) ([]byte, error) {
	b = c.AppendTable(b)
	data, nbits, err := c.Encode(nil, syms)
	if err != nil {
		return nil, err
	}
	b = binary.AppendUvarint(b, uint64(nbits))
	return append(b, data...), nil
}

// reader is a bounds-checked cursor; the first failure sticks.
type reader struct {
	b     []byte
	off   int
	layer int
	err   error
}

func (r *reader) fail(msg string, err error) {
	if r.err == nil {
		r.err = &FormatError{Offset: r.off, Layer: r.layer, Msg: msg, Err: err}
	}
}

func (r *reader) uvarint(what string, limit uint64) int {
	if r.err != nil {
		return 0
	}
	v, k := binary.Uvarint(r.b[r.off:])
	if k <= 0 {
		r.fail("reading "+what, ErrFormat)
		return 0
	}
	if v > limit {
		r.fail(fmt.Sprintf("%s %d exceeds %d", what, v, limit), ErrFormat)
		return 0
	}
	r.off += k
	return int(v)
}

func (r *reader) bytes(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.fail(fmt.Sprintf("%s: %d bytes needed, %d left", what, n, len(r.b)-r.off), ErrFormat)
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) floats(what string, limit int) []float32 {
	n := r.uvarint(what+" count", uint64(limit))
	raw := r.bytes(4*n, what)
	if r.err != nil {
		return nil
	}
	f := make([]float32, n)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return f
}

// stream reads a Huffman table and a stream of n symbols over an alphabet of
// alpha symbols.
func (r *reader) stream(what string, n, alpha int) []int32 {
	if r.err != nil {
		return nil
	}
	c, k, err := huffman.ReadTable(r.b[r.off:])
	if err != nil {
		r.fail(what+" table", err)
		return nil
	}
	if c.NumSymbols() != alpha {
		r.fail(fmt.Sprintf("%s table has %d symbols, want %d", what, c.NumSymbols(), alpha), ErrFormat)
		return nil
	}
	r.off += k
	nbits := r.uvarint(what+" bit count", uint64(8*(len(r.b)-r.off)))
	data := r.bytes((nbits+7)/8, what+" stream")
	if r.err != nil {
		return nil
	}
	syms, err := c.Decode(make([]int32, 0, min(n, nbits)), data, nbits, n)
	if err != nil {
		r.fail(what+" stream", err)
		return nil
	}
	return syms
}

// Unmarshal decodes and validates a compressed-model file's bytes.
func Unmarshal(b []byte) ([]Layer, error) {
	if len(b) < headerLen+4 {
		return nil, &FormatError{Offset: len(b), Layer: -1, Msg: fmt.Sprintf("file of %d bytes is shorter than header and checksum", len(b)), Err: ErrFormat}
	}
	if string(b[:4]) != Magic {
		return nil, &FormatError{Layer: -1, Msg: fmt.Sprintf("magic %q", b[:4]), Err: ErrMagic}
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != Version {
		return nil, &FormatError{Offset: 4, Layer: -1, Msg: fmt.Sprintf("version %d, this reader knows %d", v, Version), Err: ErrVersion}
	}
	plen := binary.LittleEndian.Uint64(b[8:])
	if plen != uint64(len(b)-headerLen-4) {
		return nil, &FormatError{Offset: 8, Layer: -1, Msg: fmt.Sprintf("payload length %d, file holds %d (truncated or extended)", plen, len(b)-headerLen-4), Err: ErrFormat}
	}
	body := b[:len(b)-4]
	if got, want := crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(b[len(b)-4:]); got != want {
		return nil, &FormatError{Offset: len(body), Layer: -1, Msg: fmt.Sprintf("CRC-32C %08x, stored %08x", got, want), Err: ErrChecksum}
	}
	r := &reader{b: body, off: headerLen, layer: -1}
	nl := r.uvarint("layer count", uint64(len(body)))
	var layers []Layer
	for i := 0; i < nl && r.err == nil; i++ {
		r.layer = i
		if l, ok := readLayer(r); ok {
			layers = append(layers, l)
		}
	}
	if r.err == nil && r.off != len(body) {
		r.layer = -1
		r.fail(fmt.Sprintf("%d trailing bytes", len(body)-r.off), ErrFormat)
	}
	if r.err != nil {
		return nil, r.err
	}
	return layers, nil
}

func readLayer(r *reader) (Layer, bool) {
	var l Layer
	l.Name = string(r.bytes(r.uvarint("name length", 1<<16), "name"))
	rank := r.uvarint("rank", 8)
	n := 1
	for j := 0; j < rank && r.err == nil; j++ {
		d := r.uvarint("dimension", MaxWeights)
		if d < 1 || n*d > MaxWeights {
			r.fail(fmt.Sprintf("shape dimension %d makes more than %d weights", d, MaxWeights), ErrFormat)
		}
		n *= d
		l.Shape = append(l.Shape, d)
	}
	if r.err == nil && rank == 0 {
		r.fail("rank 0", ErrFormat)
	}
	l.Centroids = r.floats("codebook", MaxClusters)
	if r.err == nil && len(l.Centroids) == 0 {
		r.fail("empty codebook", ErrFormat)
	}
	kept := r.uvarint("kept count", uint64(n))
	flag := r.bytes(1, "sparse flag")
	if r.err != nil {
		return l, false
	}
	switch flag[0] {
	case 0:
		if kept != n {
			r.fail(fmt.Sprintf("dense layer keeps %d of %d weights", kept, n), ErrFormat)
		}
	case 1:
		l.RelBits = r.uvarint("relative bits", 16)
		if r.err == nil && l.RelBits < 1 {
			r.fail("relative bits 0", ErrFormat)
		}
		ne := r.uvarint("relative entry count", uint64(8*len(r.b)))
		rel := r.stream("relative positions", ne, 1<<l.RelBits)
		if r.err != nil {
			return l, false
		}
		mask, err := DecodeRelative(rel, l.RelBits, n)
		if err != nil {
			r.fail("relative positions", err)
			return l, false
		}
		l.Mask = mask
	default:
		r.fail(fmt.Sprintf("sparse flag %d", flag[0]), ErrFormat)
	}
	idx := r.stream("cluster indices", kept, len(l.Centroids))
	l.Bias = r.floats("bias", MaxWeights)
	if r.err != nil {
		return l, false
	}
	l.Indices = make([]int32, n)
	j := 0
	for i := range l.Indices {
		if l.Mask == nil || l.Mask[i] {
			if j == len(idx) {
				r.fail(fmt.Sprintf("positions mark more than %d kept weights", kept), ErrFormat)
				return l, false
			}
			l.Indices[i] = idx[j]
			j++
		} else {
			l.Indices[i] = -1
		}
	}
	if j != kept {
		r.fail(fmt.Sprintf("positions mark %d kept weights, header says %d", j, kept), ErrFormat)
		return l, false
	}
	return l, true
}

// WriteFile writes the layers to path atomically (temp file in the same
// directory, fsync, rename, fsync of the directory).
func WriteFile(path string, layers []Layer) error {
	b, err := Marshal(layers)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

// MaxFile bounds the size of a compressed-model file ReadFile accepts.
const MaxFile = 1 << 31

// checkHeader refuses a file that is not a compressed model from its first
// bytes and returns the size its header announces (-1 when the header is
// cut short: Unmarshal then reports it).
func checkHeader(head []byte) (int64, error) {
	if len(head) >= len(Magic) && string(head[:len(Magic)]) != Magic {
		return 0, &FormatError{Layer: -1, Msg: fmt.Sprintf("magic %q", head[:len(Magic)]), Err: ErrMagic}
	}
	if len(head) < headerLen {
		return -1, nil
	}
	plen := binary.LittleEndian.Uint64(head[8:])
	if plen > MaxFile {
		return 0, &FormatError{Offset: 8, Layer: -1, Msg: fmt.Sprintf("payload length %d exceeds %d", plen, uint64(MaxFile)), Err: ErrFormat}
	}
	return int64(headerLen + plen + 4), nil
}

// ReadFile reads and validates a compressed-model file; a file that is not
// one is refused after its header is read.
func ReadFile(path string) ([]Layer, error) {
	b, err := headread.ReadFile(path, headerLen, MaxFile, checkHeader)
	if fe, ok := err.(*FormatError); ok {
		fe.File = path
		return nil, fe
	}
	if err != nil {
		return nil, fmt.Errorf("compress: %s: %w", path, err)
	}
	layers, err := Unmarshal(b)
	if fe, ok := err.(*FormatError); ok {
		fe.File = path
	}
	return layers, err
}
