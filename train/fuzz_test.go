package train

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"testing"
)

// reseal fixes a checkpoint's checksum so that mutations reach the parser.
func reseal(b []byte) []byte {
	if len(b) < 16 {
		return b
	}
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint32(c[12:], crc32.ChecksumIEEE(c[16:]))
	return c
}

// FuzzDecodeCheckpoint: no input panics; what decodes re-encodes and
// decodes to the same epoch and sections.
func FuzzDecodeCheckpoint(f *testing.F) {
	good, err := (&Checkpoint{Epoch: 1, History: []EpochStats{{Epoch: 1, LR: 0.1}}, Model: []byte("model"),
		Optimizer: []byte("opt"), RNG: []byte("rng")}).Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	v1 := bytes.Clone(good[:len(good)-11]) // without the generator section, as version 1
	binary.LittleEndian.PutUint32(v1[8:], 1)
	f.Add(reseal(v1))
	for _, n := range []int{0, 8, 16, 24, len(good) / 2} {
		f.Add(good[:n])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, in := range [][]byte{b, reseal(b)} {
			c, err := DecodeCheckpoint(in, "fuzz")
			if err != nil {
				continue
			}
			again, err := c.Encode()
			if err != nil {
				t.Fatal(err)
			}
			d, err := DecodeCheckpoint(again, "again")
			if err != nil {
				t.Fatalf("re-encoded checkpoint: %v", err)
			}
			if d.Epoch != c.Epoch || !bytes.Equal(d.Model, c.Model) || !bytes.Equal(d.Optimizer, c.Optimizer) || !bytes.Equal(d.RNG, c.RNG) {
				t.Fatal("round trip changed the checkpoint")
			}
		}
	})
}

// FuzzParseSchedule: no spec panics, and an accepted schedule gives
// non-negative, non-NaN rates.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"constant", "step:2:0.5", "cosine", "cosine:0.001", "step:1:1e30", "cosine:NaN"} {
		f.Add(s, 4)
	}
	f.Fuzz(func(t *testing.T, s string, epochs int) {
		epochs = epochs%1000 + 1
		if epochs < 1 {
			epochs += 1000
		}
		sch, err := ParseSchedule(s, epochs)
		if err != nil {
			return
		}
		for _, e := range []int{0, epochs / 2, epochs - 1} {
			for _, frac := range []float64{0, 0.5, 0.99} {
				lr := float64(sch.LR(0.1, e, frac))
				if math.IsNaN(lr) || lr < 0 {
					t.Fatalf("%q: LR(0.1, %d, %v) = %v", s, e, frac, lr)
				}
			}
		}
	})
}
