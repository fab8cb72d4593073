package observers

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/qatgo/qatgo/fakequant"
)

// State layout (little endian), version 1:
//
//	"QOBS" | version u16 | kind: u8 length + bytes | scheme | frozen u8 |
//	nonFinite i64 | observer payload | CRC-32 (IEEE) of all preceding bytes
//
// scheme = bits i32, signed u8, symmetric u8, narrow u8, granularity u8,
// axis i32. The kind tag and the scheme must match the observer restoring the
// state, and so must its configuration (averaging constant, bins,
// percentiles, steps): a checkpoint never silently changes an observer.
const (
	stateMagic   = "QOBS"
	stateVersion = 1
)

type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)     { e.b = append(e.b, v) }
func (e *encoder) u16(v uint16)   { e.b = binary.LittleEndian.AppendUint16(e.b, v) }
func (e *encoder) u32(v uint32)   { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64)   { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encoder) f32(v float32)  { e.u32(math.Float32bits(v)) }
func (e *encoder) f64(v float64)  { e.u64(math.Float64bits(v)) }
func (e *encoder) i64(v int64)    { e.u64(uint64(v)) }
func (e *encoder) boolean(v bool) { e.u8(b2u(v)) }
func (e *encoder) f32s(v []float32) {
	e.u32(uint32(len(v)))
	for _, x := range v {
		e.f32(x)
	}
}

func b2u(v bool) uint8 {
	if v {
		return 1
	}
	return 0
}

// header starts the state of an observer.
func (b *base) header() *encoder {
	e := &encoder{b: make([]byte, 0, 64)}
	e.b = append(e.b, stateMagic...)
	e.u16(stateVersion)
	e.u8(uint8(len(b.kind)))
	e.b = append(e.b, b.kind...)
	e.u32(uint32(int32(b.s.Bits)))
	e.boolean(b.s.Signed)
	e.boolean(b.s.Symmetric)
	e.boolean(b.s.NarrowRange)
	e.u8(uint8(b.s.Granularity))
	e.u32(uint32(int32(b.s.Axis)))
	e.boolean(b.frozen)
	e.i64(b.nonFinite)
	return e
}

func (e *encoder) finish() []byte {
	return binary.LittleEndian.AppendUint32(e.b, crc32.ChecksumIEEE(e.b))
}

// decoder reads a state; the first failure sticks in err and later reads
// return zeros, so payload readers check err once at the end.
type decoder struct {
	kind string
	b    []byte
	off  int
	err  error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s state: %s", ErrBadState, d.kind, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b)-d.off < n {
		d.fail("truncated at byte %d reading %s", d.off, what)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) u8(what string) uint8 {
	if p := d.take(1, what); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u16(what string) uint16 {
	if p := d.take(2, what); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (d *decoder) u32(what string) uint32 {
	if p := d.take(4, what); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64(what string) uint64 {
	if p := d.take(8, what); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) f32(what string) float32 { return math.Float32frombits(d.u32(what)) }
func (d *decoder) f64(what string) float64 { return math.Float64frombits(d.u64(what)) }

func (d *decoder) boolean(what string) bool {
	v := d.u8(what)
	if v > 1 {
		d.fail("%s flag is %d, want 0 or 1", what, v)
	}
	return v == 1
}

// count reads a length and checks that that many elements of size bytes
// can follow, so a corrupt length cannot make us allocate gigabytes.
func (d *decoder) count(size int, what string) int {
	n := int(d.u32(what + " count"))
	if d.err == nil && n > (len(d.b)-d.off)/size {
		d.fail("%s count %d exceeds the %d bytes left", what, n, len(d.b)-d.off)
		return 0
	}
	return n
}

func (d *decoder) f32s(what string) []float32 {
	n := d.count(4, what)
	if d.err != nil {
		return nil
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = d.f32(what)
	}
	return v
}

// finiteRange checks a restored [lo, hi] pair.
func (d *decoder) finiteRange(lo, hi float32, what string) {
	if !finite(lo) || !finite(hi) || lo > hi {
		d.fail("%s [%g, %g] is not a finite range", what, lo, hi)
	}
}

// open checks magic, version, CRC, kind and scheme of a state written by an
// observer like b, and returns the decoder positioned at the payload with
// the saved frozen flag and non-finite count.
func (b *base) open(state []byte) (d *decoder, frozen bool, nonFinite int64) {
	d = &decoder{kind: b.kind, b: state}
	if len(state) < len(stateMagic)+2+4 {
		d.fail("%d bytes is too short", len(state))
		return d, false, 0
	}
	if string(state[:len(stateMagic)]) != stateMagic {
		d.fail("not an observer state (magic %q)", state[:len(stateMagic)])
		return d, false, 0
	}
	body := state[:len(state)-4]
	if got, want := crc32.ChecksumIEEE(body), binary.LittleEndian.Uint32(state[len(state)-4:]); got != want {
		d.fail("checksum mismatch (corrupt or truncated): stored %08x, computed %08x", want, got)
		return d, false, 0
	}
	d.b = body
	d.off = len(stateMagic)
	if v := d.u16("version"); d.err == nil && v != stateVersion {
		d.fail("version %d, this build reads version %d", v, stateVersion)
	}
	k := string(d.take(int(d.u8("kind length")), "kind"))
	if d.err == nil && k != b.kind {
		d.fail("state is of a %q observer, not %q", k, b.kind)
	}
	var s fakequant.QScheme
	s.Bits = int(int32(d.u32("bits")))
	s.Signed = d.boolean("signed")
	s.Symmetric = d.boolean("symmetric")
	s.NarrowRange = d.boolean("narrow")
	s.Granularity = fakequant.Granularity(d.u8("granularity"))
	s.Axis = int(int32(d.u32("axis")))
	if d.err == nil && s != b.s {
		d.fail("state has scheme %v, observer has %v", s, b.s)
	}
	frozen = d.boolean("frozen")
	nonFinite = int64(d.u64("non-finite count"))
	if d.err == nil && nonFinite < 0 {
		d.fail("negative non-finite count %d", nonFinite)
	}
	return d, frozen, nonFinite
}

// done checks that the payload was read exactly.
func (d *decoder) done() error {
	if d.err == nil && d.off != len(d.b) {
		d.fail("%d unexpected trailing bytes", len(d.b)-d.off)
	}
	return d.err
}
