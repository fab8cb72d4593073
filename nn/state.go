package nn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"

	"github.com/qatgo/qatgo/internal/atomicfile"
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

// UnmarshalState restores state written by MarshalState for the same model.
// Nothing changes unless the whole state decodes and matches: names,
// shapes and counts must agree exactly.
func (n *Net) UnmarshalState(data []byte) error {
	if len(data) < len(stateMagic)+8 || string(data[:len(stateMagic)]) != stateMagic {
		return fmt.Errorf("%w: not a qatgo model state (bad magic)", ErrState)
	}
	body := data[:len(data)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return fmt.Errorf("%w: checksum mismatch (corrupt or truncated)", ErrState)
	}
	r := &reader{b: body, off: len(stateMagic)}
	if v := r.u32("version"); r.err == nil && v != stateVersion {
		return fmt.Errorf("%w: version %d, this build reads %d", ErrState, v, stateVersion)
	}
	if name := r.str("model name"); r.err == nil && name != n.m.Name() {
		return fmt.Errorf("%w: state is for model %q, not %q", ErrState, name, n.m.Name())
	}
	byName := map[string]*Param{}
	for _, p := range n.params {
		byName[p.Name] = p
	}
	np := int(r.u32("parameter count"))
	if r.err == nil && np != len(n.params) {
		return fmt.Errorf("%w: %d parameters in state, model has %d", ErrState, np, len(n.params))
	}
	vals := map[*Param][]float32{}
	for i := 0; i < np && r.err == nil; i++ {
		name := r.str("parameter name")
		dims := r.bytes(1, "dims")
		if r.err != nil {
			break
		}
		p, ok := byName[name]
		if !ok {
			return fmt.Errorf("%w: unknown parameter %q", ErrState, name)
		}
		if _, dup := vals[p]; dup {
			return fmt.Errorf("%w: parameter %q twice", ErrState, name)
		}
		s := p.Value.Shape()
		if int(dims[0]) != len(s) {
			return fmt.Errorf("%w: parameter %s has %d dims, model has shape %v", ErrState, name, dims[0], s)
		}
		shape := make([]int, len(s))
		for d := range shape {
			shape[d] = int(r.u32("shape"))
		}
		if r.err != nil {
			break
		}
		for d := range shape {
			if shape[d] != s[d] {
				return fmt.Errorf("%w: parameter %s has shape %v, model has %v", ErrState, name, shape, s)
			}
		}
		raw := r.bytes(4*s.TotalSize(), "values of "+name)
		if r.err != nil {
			break
		}
		v := make([]float32, s.TotalSize())
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
		vals[p] = v
	}
	nq := int(r.u32("quantizer count"))
	if r.err == nil && nq != len(n.quants) {
		return fmt.Errorf("%w: %d quantizers in state, model has %d", ErrState, nq, len(n.quants))
	}
	qstate := make([][]byte, len(n.quants))
	for i := 0; i < nq && r.err == nil; i++ {
		name := r.str("quantizer name")
		k := int(r.u32("quantizer state length"))
		st := r.bytes(k, "quantizer "+name)
		if r.err != nil {
			break
		}
		if name != n.quants[i].Name {
			return fmt.Errorf("%w: quantizer %d is %q in state, %q in model", ErrState, i, name, n.quants[i].Name)
		}
		qstate[i] = st
	}
	if r.err != nil {
		return r.err
	}
	if r.off != len(body) {
		return fmt.Errorf("%w: %d trailing bytes", ErrState, len(body)-r.off)
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
		if err := q.Q.UnmarshalState(qstate[i]); err != nil {
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

// LoadState reads a state file written by SaveState; errors name the file.
func (n *Net) LoadState(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("nn: load state: %w", err)
	}
	if err := n.UnmarshalState(b); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
