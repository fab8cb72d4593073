package nn

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// FuzzDecodeState: no model.state input panics or allocates beyond its
// size; inputs are also tried with the checksum fixed.
func FuzzDecodeState(f *testing.F) {
	m, err := testModel("lenet300", "fp32", 1)
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
