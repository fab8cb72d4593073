package nn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"strings"

	"github.com/qatgo/qatgo/internal/atomicfile"
	"github.com/qatgo/qatgo/internal/headread"
)

// State file layout (little endian), version 1:
//
//	magic "QGNNSTAT" | u32 version | str model name
//	u32 #params  { str name | u8 dims | u32 dim... | f32 values... }
//	u32 #quantizers { str name | u32 len | bytes (Quantizer.MarshalState) }
//	u32 CRC-32 (IEEE) of everything before it
//
// str is u16 length + bytes. Values are float32 whatever the build dtype.
const (
	stateMagic   = "QGNNSTAT"
	stateVersion = 1
)

// ErrState is returned (wrapped) for state that is corrupt, truncated, of an
// unknown version or of another model.
var ErrState = errors.New("nn: bad model state")

// MarshalState serialises the parameters (weights, batch-norm statistics,
// learnable quantizer parameters) and every quantizer's state.
func (n *Net) MarshalState() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(stateMagic)
	le := binary.LittleEndian
	put32 := func(v uint32) { b.Write(le.AppendUint32(nil, v)) }
	putStr := func(s string) { b.Write(le.AppendUint16(nil, uint16(len(s)))); b.WriteString(s) }
	put32(stateVersion)
	putStr(n.m.Name())
	put32(uint32(len(n.params)))
	for _, p := range n.params {
		putStr(p.Name)
		s := p.Value.Shape()
		b.WriteByte(byte(len(s)))
		for _, d := range s {
			put32(uint32(d))
		}
		for _, v := range p.Float32s() {
			put32(math.Float32bits(v))
		}
	}
	put32(uint32(len(n.quants)))
	for _, q := range n.quants {
		st, err := q.Q.MarshalState()
		if err != nil {
			return nil, fmt.Errorf("nn: marshal quantizer %s: %w", q.Name, err)
		}
		putStr(q.Name)
		put32(uint32(len(st)))
		b.Write(st)
	}
	put32(crc32.ChecksumIEEE(b.Bytes()))
	return b.Bytes(), nil
}

// reader decodes the state format, remembering the first error.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) need(k int, what string) bool {
	if r.err != nil {
		return false
	}
	if k < 0 || r.off+k > len(r.b) {
		r.err = fmt.Errorf("%w: truncated at byte %d reading %s", ErrState, r.off, what)
		return false
	}
	return true
}

func (r *reader) u32(what string) uint32 {
	if !r.need(4, what) {
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) bytes(k int, what string) []byte {
	if !r.need(k, what) {
		return nil
	}
	v := r.b[r.off : r.off+k]
	r.off += k
	return v
}

func (r *reader) str(what string) string {
	if !r.need(2, what) {
		return ""
	}
	k := int(binary.LittleEndian.Uint16(r.b[r.off:]))
	r.off += 2
	return string(r.bytes(k, what))
}

// decodedState is a parsed state: parameter values and quantizer states by
// name, in file order.
type decodedState struct {
	model  string
	params map[string][]float32
	shapes map[string][]int
	order  []string
	quants []namedState
}

type namedState struct {
	name  string
	state []byte
}

// decodeState parses and checksums MarshalState's format without touching
// the model.
func decodeState(data []byte) (*decodedState, error) {
	if len(data) < len(stateMagic)+8 || string(data[:len(stateMagic)]) != stateMagic {
		return nil, fmt.Errorf("%w: not a qatgo model state (bad magic)", ErrState)
	}
	body := data[:len(data)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return nil, fmt.Errorf("%w: checksum mismatch (corrupt or truncated)", ErrState)
	}
	r := &reader{b: body, off: len(stateMagic)}
	if v := r.u32("version"); r.err == nil && v != stateVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads %d", ErrState, v, stateVersion)
	}
	d := &decodedState{model: r.str("model name"), params: map[string][]float32{}, shapes: map[string][]int{}}
	np := int(r.u32("parameter count"))
	for i := 0; i < np && r.err == nil; i++ {
		name := r.str("parameter name")
		dims := r.bytes(1, "dims")
		if r.err != nil {
			break
		}
		if _, dup := d.params[name]; dup {
			return nil, fmt.Errorf("%w: parameter %q twice", ErrState, name)
		}
		shape := make([]int, dims[0])
		size := 1
		for k := range shape {
			shape[k] = int(r.u32("shape"))
			size *= shape[k]
		}
		if r.err != nil {
			break
		}
		if size < 0 || size > len(body)/4 {
			return nil, fmt.Errorf("%w: parameter %s has impossible shape %v", ErrState, name, shape)
		}
		raw := r.bytes(4*size, "values of "+name)
		if r.err != nil {
			break
		}
		v := make([]float32, size)
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
		d.params[name], d.shapes[name] = v, shape
		d.order = append(d.order, name)
	}
	nq := int(r.u32("quantizer count"))
	for i := 0; i < nq && r.err == nil; i++ {
		name := r.str("quantizer name")
		k := int(r.u32("quantizer state length"))
		st := r.bytes(k, "quantizer "+name)
		if r.err != nil {
			break
		}
		d.quants = append(d.quants, namedState{name, st})
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(body) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrState, len(body)-r.off)
	}
	return d, nil
}

// checkParam reports whether the state's value for p has p's shape.
func (d *decodedState) checkParam(p *Param) ([]float32, error) {
	v, ok := d.params[p.Name]
	if !ok {
		return nil, fmt.Errorf("%w: parameter %s missing from state", ErrState, p.Name)
	}
	s := p.Value.Shape()
	shape := d.shapes[p.Name]
	if len(shape) != len(s) {
		return nil, fmt.Errorf("%w: parameter %s has %d dims, model has shape %v", ErrState, p.Name, len(shape), s)
	}
	for k := range shape {
		if shape[k] != s[k] {
			return nil, fmt.Errorf("%w: parameter %s has shape %v, model has %v", ErrState, p.Name, shape, s)
		}
	}
	return v, nil
}

// UnmarshalState restores state written by MarshalState for the same model.
// Nothing changes unless the whole state decodes and matches: names,
// shapes and counts must agree exactly.
func (n *Net) UnmarshalState(data []byte) error {
	d, err := decodeState(data)
	if err != nil {
		return err
	}
	if d.model != n.m.Name() {
		return fmt.Errorf("%w: state is for model %q, not %q", ErrState, d.model, n.m.Name())
	}
	if len(d.params) != len(n.params) {
		return fmt.Errorf("%w: %d parameters in state, model has %d", ErrState, len(d.params), len(n.params))
	}
	vals := map[*Param][]float32{}
	for _, name := range d.order {
		if n.param(name) == nil {
			return fmt.Errorf("%w: unknown parameter %q", ErrState, name)
		}
	}
	for _, p := range n.params {
		v, err := d.checkParam(p)
		if err != nil {
			return err
		}
		vals[p] = v
	}
	if len(d.quants) != len(n.quants) {
		return fmt.Errorf("%w: %d quantizers in state, model has %d", ErrState, len(d.quants), len(n.quants))
	}
	for i, q := range d.quants {
		if q.name != n.quants[i].Name {
			return fmt.Errorf("%w: quantizer %d is %q in state, %q in model", ErrState, i, q.name, n.quants[i].Name)
		}
	}
	// Quantizers first, keeping the old states to roll back to: a
	// quantizer may still reject its state.
	old := make([][]byte, len(n.quants))
	for i, q := range n.quants {
		o, err := q.Q.MarshalState()
		if err != nil {
			return fmt.Errorf("nn: quantizer %s: %w", q.Name, err)
		}
		old[i] = o
	}
	for i, q := range n.quants {
		if err := q.Q.UnmarshalState(d.quants[i].state); err != nil {
			for j := 0; j < i; j++ {
				n.quants[j].Q.UnmarshalState(old[j])
			}
			return fmt.Errorf("%w: quantizer %s: %v", ErrState, q.Name, err)
		}
	}
	for p, v := range vals {
		if err := setF32(p.Value, v); err != nil {
			return err
		}
	}
	return nil
}

// LoadWeights copies the model's weights, biases and batch-norm statistics
// from a state of the same architecture with any quantization (an FP32 run
// into a QAT model: PyTorch's prepare_qat from a float checkpoint). Quantizer
// states and learned quantizer parameters are not taken: the quantizers
// start fresh. Every non-quantizer parameter must be in the state with its
// shape; nothing changes on error.
func (n *Net) LoadWeights(data []byte) error {
	d, err := decodeState(data)
	if err != nil {
		return err
	}
	if d.model != n.m.Name() {
		return fmt.Errorf("%w: state is for model %q, not %q", ErrState, d.model, n.m.Name())
	}
	vals := map[*Param][]float32{}
	for _, p := range n.params {
		if n.isQuantizerParam(p) {
			continue
		}
		v, err := d.checkParam(p)
		if err != nil {
			return err
		}
		vals[p] = v
	}
	for p, v := range vals {
		if err := setF32(p.Value, v); err != nil {
			return err
		}
	}
	return nil
}

func (n *Net) param(name string) *Param {
	for _, p := range n.params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// isQuantizerParam reports whether p is a learnable of a quantizer (named
// "<quantizer>.<name>" by the Builder's Binder).
func (n *Net) isQuantizerParam(p *Param) bool {
	for _, q := range n.quants {
		if strings.HasPrefix(p.Name, q.Name+".") {
			return true
		}
	}
	return false
}

// SaveState writes MarshalState to path atomically (temporary file in the
// same directory, fsync, rename).
func (n *Net) SaveState(path string) error {
	b, err := n.MarshalState()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("nn: save state: %w", err)
	}
	return nil
}

// MaxStateFile bounds the size of a state file ReadStateFile accepts.
const MaxStateFile = 1 << 30

// ReadStateFile reads a state file, refusing a file without the state magic
// (or larger than MaxStateFile) before reading its body.
func ReadStateFile(path string) ([]byte, error) {
	return headread.ReadFile(path, len(stateMagic), MaxStateFile, func(head []byte) (int64, error) {
		if string(head) != stateMagic {
			return 0, fmt.Errorf("%w: not a qatgo model state (bad magic)", ErrState)
		}
		return -1, nil
	})
}

// LoadState reads a state file written by SaveState; errors name the file.
func (n *Net) LoadState(path string) error {
	b, err := ReadStateFile(path)
	if err != nil {
		return fmt.Errorf("nn: load state: %w", err)
	}
	if err := n.UnmarshalState(b); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
