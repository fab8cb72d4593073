package nn

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/rand"
	"testing"
)

// FuzzDecodeState: no model.state input panics or allocates beyond its
// size; inputs are also tried with the checksum fixed.
func FuzzDecodeState(f *testing.F) {
	m, err := NewModel("lenet300", FP32, rand.New(rand.NewSource(1)))
	if err != nil {
		f.Fatal(err)
	}
	net, err := Compile(m, CompileConfig{Batch: 1, InputShape: [3]int{1, 28, 28}, Classes: 10})
	if err != nil {
		f.Fatal(err)
	}
	good, err := net.MarshalState()
	net.Close()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good[:200]) // the header and the start of the first parameter
	f.Add([]byte(stateMagic + "\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := [][]byte{b}
		if len(b) >= 4 {
			c := bytes.Clone(b)
			binary.LittleEndian.PutUint32(c[len(c)-4:], crc32.ChecksumIEEE(c[:len(c)-4]))
			in = append(in, c)
		}
		for _, x := range in {
			d, err := decodeState(x)
			if err != nil {
				continue
			}
			for name, v := range d.params {
				size := 1
				for _, s := range d.shapes[name] {
					size *= s
				}
				if size != len(v) {
					t.Fatalf("%s: shape %v with %d values", name, d.shapes[name], len(v))
				}
			}
		}
	})
}

// FuzzParseQuantConfig: no spec panics; an accepted one has valid schemes.
func FuzzParseQuantConfig(f *testing.F) {
	for _, s := range []string{"fp32", "w8a8", "w4a8,per-tensor,aobs=histogram", "w2a32,method=lsq", "fp8-e4m3", "w16a16,narrow", "w8a8,wobs="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantConfig(s)
		if err != nil {
			return
		}
		if w := q.Weight; w != nil && w.Method == "affine" {
			if err := w.Scheme.Validate(); err != nil {
				t.Fatalf("%q: accepted weight scheme invalid: %v", s, err)
			}
		}
	})
}

// FuzzParseOverrides: no --quant-config JSON panics; accepted bit widths
// are in range.
func FuzzParseOverrides(f *testing.F) {
	for _, s := range []string{`{"conv1": {"weight_bits": 8}}`, `{"fc2": {"float": true}}`, `{"x": {"act_bits": 32, "per_channel": false}}`, `{}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseOverrides(b)
		if err != nil {
			return
		}
		for name, o := range m {
			for _, p := range []*int{o.WeightBits, o.ActBits} {
				if p != nil && (*p < 1 || *p > 16) && *p != 32 {
					t.Fatalf("%s: bits %d accepted", name, *p)
				}
			}
		}
	})
}
