package compress

import (
	"bytes"
	"math/rand"
	"testing"
)

// FuzzUnmarshal: no input panics or allocates without bound, and whatever
// decodes re-encodes to bytes that decode to the same layers. Inputs are
// also tried with their checksum fixed, so that mutations reach the parser.
func FuzzUnmarshal(f *testing.F) {
	rng := rand.New(rand.NewSource(2))
	good, err := Marshal([]Layer{randomLayer(rng, "fc1", []int{6, 8}, 0.7, 3), lecture4x4()})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	for _, n := range []int{0, 4, 16, 20, len(good) / 2, len(good) - 1} {
		f.Add(good[:n])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := [][]byte{b}
		if len(b) >= 4 {
			c := bytes.Clone(b)
			fixCRC(c)
			in = append(in, c)
		}
		for _, x := range in {
			layers, err := Unmarshal(x)
			if err != nil {
				continue
			}
			again, err := Marshal(layers)
			if err != nil {
				t.Fatalf("decoded layers do not encode: %v", err)
			}
			if _, err := Unmarshal(again); err != nil {
				t.Fatalf("re-encoded file does not decode: %v", err)
			}
		}
	})
}
