package intmodel

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/qatgo/qatgo/internal/atomicfile"
)

// File format, version 2 (all integers little-endian):
//
//	offset  size  field
//	0       8     magic "QATGOINT"
//	8       4     format version (uint32) = 2
//	12      4     manifest length M (uint32)
//	16      8     blob length B (uint64)
//	24      M     manifest: JSON (see manifest below)
//	24+M    B     blob: the packed weights of the quantized layers, in
//	              layer order, each at its bit width (Pack), back to back
//	24+M+B  4     CRC-32C (Castagnoli) of bytes [0, 24+M+B)
//
// The manifest holds everything but the weights: input and output
// quantization, and per layer its kind, name, geometry and, for quantized
// layers, the scales, raw bias q_b, M0, shifts, clamp bounds, and the
// offset and length of its weights in the blob.
//
// Version 2 adds to a layer record: "inputs" (the tensors the layer reads,
// absent for the previous one), "groups" (Conv2d), "requant" (AvgPool2d),
// "rescale" (GlobalAvgPool), "add" and "concat" (their parameters), and the
// kinds add, concat and globalavgpool. Version 1 files (sequential models
// without those fields) still load.
const (
	// Magic opens every file.
	Magic = "QATGOINT"
	// Version is the format version this package writes.
	Version = 2
	// MinVersion is the oldest format version this package reads.
	MinVersion = 1
	// MaxManifest bounds the manifest length a reader accepts.
	MaxManifest = 64 << 20
	// MaxFile bounds the file size a reader accepts.
	MaxFile   = 1 << 31
	headerLen = 24
	crcLen    = 4
)

// Sentinel errors of Read and Decode, wrapped with details.
var (
	ErrFormat    = errors.New("intmodel: malformed file")
	ErrMagic     = errors.New("intmodel: not a qatgo integer model (bad magic)")
	ErrVersion   = errors.New("intmodel: unsupported format version")
	ErrChecksum  = errors.New("intmodel: checksum mismatch")
	ErrTruncated = errors.New("intmodel: truncated file")
)

// FileError reports a problem with a model file, naming the file.
type FileError struct {
	File string
	Err  error
}

func (e *FileError) Error() string { return fmt.Sprintf("intmodel: %s: %v", e.File, e.Err) }

// Unwrap returns the underlying error (one of the sentinels, or ErrInvalid).
func (e *FileError) Unwrap() error { return e.Err }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type blobRef struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

type quantRecord struct {
	WeightBits  int       `json:"weight_bits"`
	WeightScale []float32 `json:"weight_scale"`
	InAct       ActQuant  `json:"in"`
	OutAct      ActQuant  `json:"out"`
	Bias        []int32   `json:"bias,omitempty"`
	// FoldedBias is q_b − Z_X·Σ_k q_W[c,k] per output channel: what an
	// integer kernel adds to Σ q_W·q_X. Stored for integer back ends that
	// read the file; the loader recomputes it and rejects a mismatch.
	FoldedBias []int32 `json:"folded_bias"`
	M0         []int32 `json:"m0"`
	Shift      []int   `json:"shift"`
	QMin       int32   `json:"qmin"`
	QMax       int32   `json:"qmax"`
	Weights    blobRef `json:"weights"`
}

type layerRecord struct {
	Kind        string       `json:"kind"`
	Name        string       `json:"name"`
	InChannels  int          `json:"in_channels,omitempty"`
	OutChannels int          `json:"out_channels,omitempty"`
	InFeatures  int          `json:"in_features,omitempty"`
	OutFeatures int          `json:"out_features,omitempty"`
	KernelH     int          `json:"kernel_h,omitempty"`
	KernelW     int          `json:"kernel_w,omitempty"`
	StrideH     int          `json:"stride_h,omitempty"`
	StrideW     int          `json:"stride_w,omitempty"`
	PadH        int          `json:"pad_h,omitempty"`
	PadW        int          `json:"pad_w,omitempty"`
	Quant       *quantRecord `json:"quant,omitempty"`
	// Version 2.
	Inputs  []int    `json:"inputs,omitempty"`
	Groups  int      `json:"groups,omitempty"`
	Requant *Rescale `json:"requant,omitempty"`
	Rescale *Rescale `json:"rescale,omitempty"`
	Add     *Add     `json:"add,omitempty"`
	Concat  *Concat  `json:"concat,omitempty"`
}

// v2Only reports whether r uses anything version 1 did not have.
func (r *layerRecord) v2Only() bool {
	switch r.Kind {
	case "add", "concat", "globalavgpool":
		return true
	}
	return r.Inputs != nil || r.Groups != 0 || r.Requant != nil || r.Rescale != nil || r.Add != nil || r.Concat != nil
}

type manifest struct {
	Input      ActQuant          `json:"input"`
	InputShape [3]int            `json:"input_shape"`
	Output     ActQuant          `json:"output"`
	Meta       map[string]string `json:"meta,omitempty"`
	Layers     []layerRecord     `json:"layers"`
}

func (q *Quantized) record(blob *bytes.Buffer, outC int) (*quantRecord, error) {
	folded, err := q.FoldedBias(outC, q.InAct.ZeroPoint)
	if err != nil {
		return nil, err
	}
	n := PackedLen(len(q.Weights), q.WeightBits)
	off := int64(blob.Len())
	buf := make([]byte, n)
	if err := Pack(buf, q.Weights, q.WeightBits); err != nil {
		return nil, err
	}
	blob.Write(buf)
	return &quantRecord{
		WeightBits: q.WeightBits, WeightScale: q.WeightScale, InAct: q.InAct, OutAct: q.OutAct,
		Bias: q.Bias, FoldedBias: folded, M0: q.M0, Shift: q.Shift, QMin: q.QMin, QMax: q.QMax,
		Weights: blobRef{off, int64(n)},
	}, nil
}

// Marshal validates m and returns its encoding.
func (m *Model) Marshal() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	man := manifest{Input: m.Input, InputShape: [3]int{m.InputShape.C, m.InputShape.H, m.InputShape.W},
		Output: m.Output, Meta: m.Meta, Layers: make([]layerRecord, len(m.Layers))}
	var blob bytes.Buffer
	for i, l := range m.Layers {
		r := layerRecord{Kind: l.Kind().String(), Name: l.LayerName()}
		if i < len(m.Inputs) && len(m.Inputs[i]) > 0 {
			r.Inputs = m.Inputs[i]
		}
		var err error
		switch l := l.(type) {
		case *Conv2d:
			r.InChannels, r.OutChannels, r.KernelH, r.KernelW = l.InChannels, l.OutChannels, l.KernelH, l.KernelW
			r.StrideH, r.StrideW, r.PadH, r.PadW = l.StrideH, l.StrideW, l.PadH, l.PadW
			r.Groups = l.Groups // 0 (omitted) or as set: 1 stays 1
			r.Quant, err = l.Quantized.record(&blob, l.OutChannels)
		case *Linear:
			r.InFeatures, r.OutFeatures = l.InFeatures, l.OutFeatures
			r.Quant, err = l.Quantized.record(&blob, l.OutFeatures)
		case *MaxPool2d:
			r.KernelH, r.KernelW, r.StrideH, r.StrideW, r.PadH, r.PadW = l.KernelH, l.KernelW, l.StrideH, l.StrideW, l.PadH, l.PadW
		case *AvgPool2d:
			r.KernelH, r.KernelW, r.StrideH, r.StrideW, r.PadH, r.PadW = l.KernelH, l.KernelW, l.StrideH, l.StrideW, l.PadH, l.PadW
			r.Requant = l.Requant
		case *Flatten:
		case *GlobalAvgPool:
			r.Rescale = &l.Rescale
		case *Add:
			r.Add = l
		case *Concat:
			r.Concat = l
		default:
			err = fmt.Errorf("%w: unknown layer type %T", ErrInvalid, l)
		}
		if err != nil {
			return nil, fmt.Errorf("intmodel: layer %d: %w", i, err)
		}
		man.Layers[i] = r
	}
	js, err := json.Marshal(man)
	if err != nil {
		return nil, fmt.Errorf("intmodel: manifest: %w", err)
	}
	if len(js) > MaxManifest {
		return nil, fmt.Errorf("intmodel: manifest of %d bytes exceeds %d", len(js), MaxManifest)
	}
	out := make([]byte, headerLen, headerLen+len(js)+blob.Len()+crcLen)
	copy(out, Magic)
	binary.LittleEndian.PutUint32(out[8:], Version)
	binary.LittleEndian.PutUint32(out[12:], uint32(len(js)))
	binary.LittleEndian.PutUint64(out[16:], uint64(blob.Len()))
	out = append(out, js...)
	out = append(out, blob.Bytes()...)
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, castagnoli))
	if int64(len(out)) > MaxFile {
		return nil, fmt.Errorf("intmodel: encoded model of %d bytes exceeds %d", len(out), int64(MaxFile))
	}
	return out, nil
}

// Encode writes m's encoding to w.
func (m *Model) Encode(w io.Writer) error {
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Write saves m to path atomically: it writes a temporary file in the same
// directory, syncs it, renames it over path and syncs the directory, so path
// holds either the old file or the complete new one.
func (m *Model) Write(path string) error {
	b, err := m.Marshal()
	if err != nil {
		return &FileError{path, err}
	}
	if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
		return &FileError{path, err}
	}
	return nil
}

// Read loads and validates the model file at path. Errors are *FileError
// naming the file and wrapping ErrMagic, ErrVersion, ErrTruncated,
// ErrChecksum, ErrFormat or ErrInvalid.
func Read(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &FileError{path, err}
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	m, err := decode(f, size)
	if err != nil {
		return nil, &FileError{path, err}
	}
	return m, nil
}

// Decode reads and validates a model from r. The header is checked before
// the rest is read, and no more than the header announces is read (at most
// about MaxFile bytes).
func Decode(r io.Reader) (*Model, error) { return decode(r, -1) }

// Unmarshal decodes and validates an encoded model.
func Unmarshal(b []byte) (*Model, error) { return unmarshal(b) }

// decode reads the header, checks the magic and the announced lengths
// (against size, the file size when known, -1 otherwise) and only then
// reads the announced bytes: a non-model file or a lying header costs a
// 24-byte read, not a read of the whole file.
func decode(r io.Reader, size int64) (*Model, error) {
	head := make([]byte, headerLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if n < headerLen {
		return unmarshal(head[:n]) // a magic or truncation error
	}
	if string(head[:len(Magic)]) != Magic {
		return unmarshal(head)
	}
	mlen := uint64(binary.LittleEndian.Uint32(head[12:]))
	blen := binary.LittleEndian.Uint64(head[16:])
	if mlen > MaxManifest || blen > MaxFile {
		return unmarshal(head) // the length errors
	}
	want := headerLen + mlen + blen + crcLen
	if size >= 0 && uint64(size) != want {
		if uint64(size) < want {
			return nil, fmt.Errorf("%w: %d bytes, header announces %d", ErrTruncated, size, want)
		}
		return nil, fmt.Errorf("%w: %d trailing bytes after the checksum", ErrFormat, uint64(size)-want)
	}
	// Grow with the data actually read, not with the announced length.
	buf := bytes.NewBuffer(make([]byte, 0, min(want, 1<<20)))
	buf.Write(head)
	if _, err := buf.ReadFrom(io.LimitReader(r, int64(want-headerLen))); err != nil {
		return nil, err
	}
	if uint64(buf.Len()) == want {
		var one [1]byte
		if k, _ := io.ReadFull(r, one[:]); k > 0 {
			return nil, fmt.Errorf("%w: trailing bytes after the checksum", ErrFormat)
		}
	}
	return unmarshal(buf.Bytes())
}

func unmarshal(b []byte) (*Model, error) {
	if len(b) < len(Magic) {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the magic", ErrTruncated, len(b))
	}
	if string(b[:len(Magic)]) != Magic {
		return nil, fmt.Errorf("%w: starts with %q", ErrMagic, b[:len(Magic)])
	}
	if len(b) < headerLen {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrTruncated, len(b), headerLen)
	}
	version := binary.LittleEndian.Uint32(b[8:])
	if version < MinVersion || version > Version {
		return nil, fmt.Errorf("%w: %d (this reader knows versions %d to %d)", ErrVersion, version, MinVersion, Version)
	}
	mlen := uint64(binary.LittleEndian.Uint32(b[12:]))
	blen := binary.LittleEndian.Uint64(b[16:])
	if mlen > MaxManifest {
		return nil, fmt.Errorf("%w: manifest length %d exceeds %d", ErrFormat, mlen, MaxManifest)
	}
	if blen > MaxFile {
		return nil, fmt.Errorf("%w: blob length %d exceeds %d", ErrFormat, blen, int64(MaxFile))
	}
	want := headerLen + mlen + blen + crcLen
	if uint64(len(b)) < want {
		return nil, fmt.Errorf("%w: %d bytes, header announces %d", ErrTruncated, len(b), want)
	}
	if uint64(len(b)) > want {
		return nil, fmt.Errorf("%w: %d trailing bytes after the checksum", ErrFormat, uint64(len(b))-want)
	}
	body := b[:len(b)-crcLen]
	if got, stored := crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(b[len(body):]); got != stored {
		return nil, fmt.Errorf("%w: computed %08x, stored %08x", ErrChecksum, got, stored)
	}
	js := body[headerLen : headerLen+mlen]
	blob := body[headerLen+mlen:]
	var man manifest
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&man); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrFormat, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: manifest: data after the JSON object", ErrFormat)
	}
	if len(man.Layers) > MaxLayers {
		return nil, fmt.Errorf("%w: %d layers, at most %d", ErrInvalid, len(man.Layers), MaxLayers)
	}
	m := &Model{Input: man.Input, InputShape: Shape{man.InputShape[0], man.InputShape[1], man.InputShape[2]},
		Output: man.Output, Meta: man.Meta, Layers: make([]Layer, len(man.Layers))}
	var used int64
	for i, r := range man.Layers {
		if version < 2 && r.v2Only() {
			return nil, fmt.Errorf("%w: layer %d (%q): version %d file with a version 2 record", ErrFormat, i, r.Name, version)
		}
		l, err := r.layer(blob, &used)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%q): %w", i, r.Name, err)
		}
		m.Layers[i] = l
		if r.Inputs != nil {
			if len(r.Inputs) == 0 {
				return nil, fmt.Errorf("%w: layer %d (%q): empty input list", ErrFormat, i, r.Name)
			}
			if m.Inputs == nil {
				m.Inputs = make([][]int, len(man.Layers))
			}
			m.Inputs[i] = r.Inputs
		}
	}
	if used != int64(len(blob)) {
		return nil, fmt.Errorf("%w: layers use %d of the %d blob bytes", ErrFormat, used, len(blob))
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func (r *layerRecord) layer(blob []byte, used *int64) (Layer, error) {
	pool := Pool2d{r.KernelH, r.KernelW, r.StrideH, r.StrideW, r.PadH, r.PadW}
	var l Layer
	var q *Quantized
	var outC, k int
	if r.Kind != "conv2d" && r.Groups != 0 {
		return nil, fmt.Errorf("%w: %s layer with groups", ErrFormat, r.Kind)
	}
	if r.Requant != nil && r.Kind != "avgpool2d" {
		return nil, fmt.Errorf("%w: %s layer with requant", ErrFormat, r.Kind)
	}
	if (r.Kind == "globalavgpool") != (r.Rescale != nil) || (r.Kind == "add") != (r.Add != nil) || (r.Kind == "concat") != (r.Concat != nil) {
		return nil, fmt.Errorf("%w: %s layer: parameters missing or of another kind", ErrFormat, r.Kind)
	}
	switch r.Kind {
	case "conv2d":
		c := &Conv2d{Name: r.Name, InChannels: r.InChannels, OutChannels: r.OutChannels, KernelH: r.KernelH, KernelW: r.KernelW,
			StrideH: r.StrideH, StrideW: r.StrideW, PadH: r.PadH, PadW: r.PadW, Groups: r.Groups}
		if err := c.validGeometry(); err != nil {
			return nil, err
		}
		l, q, outC, k = c, &c.Quantized, c.OutChannels, c.K()
	case "linear":
		c := &Linear{Name: r.Name, InFeatures: r.InFeatures, OutFeatures: r.OutFeatures}
		if err := validGeom("input features", r.InFeatures, 1); err != nil {
			return nil, err
		}
		if err := validGeom("output features", r.OutFeatures, 1); err != nil {
			return nil, err
		}
		l, q, outC, k = c, &c.Quantized, c.OutFeatures, c.InFeatures
	case "maxpool2d":
		l = &MaxPool2d{Name: r.Name, Pool2d: pool}
	case "avgpool2d":
		l = &AvgPool2d{Name: r.Name, Pool2d: pool, Requant: r.Requant}
	case "flatten":
		l = &Flatten{Name: r.Name}
	case "globalavgpool":
		l = &GlobalAvgPool{Name: r.Name, Rescale: *r.Rescale}
	case "add":
		r.Add.Name = r.Name
		l = r.Add
	case "concat":
		r.Concat.Name = r.Name
		l = r.Concat
	default:
		return nil, fmt.Errorf("%w: unknown layer kind %q", ErrFormat, r.Kind)
	}
	if (q == nil) != (r.Quant == nil) {
		return nil, fmt.Errorf("%w: %s layer with quant record present=%v", ErrFormat, r.Kind, r.Quant != nil)
	}
	if q == nil {
		return l, nil
	}
	qr := r.Quant
	if qr.WeightBits < 1 || qr.WeightBits > 8 {
		return nil, fmt.Errorf("%w: weight bits %d, want 1..8", ErrInvalid, qr.WeightBits)
	}
	n := int64(outC) * int64(k)
	if k > MaxElems || n > MaxElems {
		return nil, fmt.Errorf("%w: %d weights, more than %d", ErrInvalid, n, MaxElems)
	}
	size := (n*int64(qr.WeightBits) + 7) / 8
	if qr.Weights.Offset != *used || qr.Weights.Length != size {
		return nil, fmt.Errorf("%w: weights at blob [%d, +%d), want [%d, +%d) for %d %d-bit values",
			ErrFormat, qr.Weights.Offset, qr.Weights.Length, *used, size, n, qr.WeightBits)
	}
	if *used+size > int64(len(blob)) {
		return nil, fmt.Errorf("%w: weights end at %d, past the %d-byte blob", ErrFormat, *used+size, len(blob))
	}
	*q = Quantized{WeightBits: qr.WeightBits, WeightScale: qr.WeightScale, InAct: qr.InAct, OutAct: qr.OutAct,
		Bias: qr.Bias, M0: qr.M0, Shift: qr.Shift, QMin: qr.QMin, QMax: qr.QMax, Weights: make([]int8, n)}
	if err := Unpack(q.Weights, blob[*used:*used+size], qr.WeightBits); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if len(qr.FoldedBias) != outC {
		return nil, fmt.Errorf("%w: %d folded biases for %d output channels", ErrInvalid, len(qr.FoldedBias), outC)
	}
	if q.Bias != nil && len(q.Bias) != outC {
		return nil, fmt.Errorf("%w: %d biases for %d output channels", ErrInvalid, len(q.Bias), outC)
	}
	folded, err := q.FoldedBias(outC, q.InAct.ZeroPoint)
	if err != nil {
		return nil, err
	}
	for c, v := range folded {
		if qr.FoldedBias[c] != v {
			return nil, fmt.Errorf("%w: folded bias of channel %d is %d in the file, but q_b − Z_X·Σq_W = %d", ErrInvalid, c, qr.FoldedBias[c], v)
		}
	}
	*used += size
	return l, nil
}
