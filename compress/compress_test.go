package compress

import (
	"bytes"
	"errors"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/qatgo/qatgo/prune"
)

func TestRelative(t *testing.T) {
	pos := func(n int, p ...int) []bool {
		m := make([]bool, n)
		for _, i := range p {
			m[i] = true
		}
		return m
	}
	for i, test := range []struct {
		mask []bool
		bits int
		want []int32
	}{
		// 3 bits (M = 7): kept at 1, 4, 15 -> gaps 2, 3, 11 = filler (7) + 4.
		{pos(16, 1, 4, 15), 3, []int32{2, 3, 0, 4}},
		{pos(3, 0), 3, []int32{1}},
		{pos(8, 6), 3, []int32{7}},         // gap 7 fits
		{pos(8, 7), 3, []int32{0, 1}},      // gap 8: filler + 1
		{pos(16, 13), 3, []int32{0, 7}},    // gap 14
		{pos(16, 14), 3, []int32{0, 0, 1}}, // gap 15
		{pos(5, 0, 1, 2, 3, 4), 1, []int32{1, 1, 1, 1, 1}},
		{pos(5, 3), 1, []int32{0, 0, 0, 1}}, // 1 bit: filler advances 1
		{pos(4), 5, nil},                    // nothing kept
	} {
		got, err := EncodeRelative(test.mask, test.bits)
		if err != nil || !slices.Equal(got, test.want) {
			t.Errorf("%d: got %v %v, want %v", i, got, err, test.want)
			continue
		}
		back, err := DecodeRelative(got, test.bits, len(test.mask))
		if err != nil || !slices.Equal(back, test.mask) {
			t.Errorf("%d: decoded %v %v", i, back, err)
		}
	}
	for i, test := range []struct {
		syms []int32
		bits int
		n    int
	}{
		{[]int32{8}, 3, 20},    // symbol past 2^3 - 1
		{[]int32{-1}, 3, 20},   // negative
		{[]int32{1, 0}, 3, 20}, // trailing filler
		{[]int32{5}, 3, 4},     // position 4 in a 4-weight layer
		{[]int32{1}, 0, 4},     // width 0
	} {
		if _, err := DecodeRelative(test.syms, test.bits, test.n); !errors.Is(err, ErrRelative) {
			t.Errorf("%d: err %v", i, err)
		}
	}
}

// lecture4x4 is the 4x4 weight-sharing example of the lecture: 2-bit indices
// into the codebook (-1, 0, 1.5, 2).
func lecture4x4() Layer {
	return Layer{
		Name:      "fc",
		Shape:     []int{4, 4},
		Centroids: []float32{-1, 0, 1.5, 2},
		Indices:   []int32{3, 0, 2, 1, 1, 1, 0, 3, 0, 3, 1, 0, 3, 1, 2, 2},
	}
}

func TestStorage4x4(t *testing.T) {
	// SPEC §3: 16 FP32 weights = 16·32 = 512 bits; 2-bit indices and a
	// 4-entry FP32 codebook = 16·2 + 4·32 = 160 bits: 3.2x.
	rep, err := Analyze([]Layer{lecture4x4()})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Rows[0]
	if r.Bits[FP32] != 512 || r.Bits[Pruned] != 512 || r.Bits[Quantized] != 160 || r.IndexBits != 2 {
		t.Fatalf("bits %v, index bits %d", r.Bits, r.IndexBits)
	}
	if r.Ratio(Quantized) != 3.2 {
		t.Fatalf("ratio %v", r.Ratio(Quantized))
	}
	// Huffman: counts 4, 5, 3, 4 give four 2-bit codewords (32 bits); table
	// = 1 byte alphabet size + 1 byte width + 4·2 bits = 24 bits; codebook
	// 128: 184 bits, more than fixed width at this toy size.
	if r.HuffIndexBits != 32 || r.HuffIndexTable != 24 || r.Bits[Huffman] != 184 {
		t.Fatalf("huffman %d + %d = %d", r.HuffIndexBits, r.HuffIndexTable, r.Bits[Huffman])
	}
}

// sparseLayer: 16 weights, kept at 1, 4, 15 with 3-bit positions.
func sparseLayer() Layer {
	mask := make([]bool, 16)
	mask[1], mask[4], mask[15] = true, true, true
	idx := make([]int32, 16)
	for i := range idx {
		idx[i] = -1
	}
	idx[1], idx[4], idx[15] = 0, 1, 1
	return Layer{Name: "sp", Shape: []int{2, 8}, Centroids: []float32{-1, 1}, Indices: idx,
		Mask: mask, RelBits: 3, Bias: []float32{0.5, -0.5}}
}

func TestStorageSparse(t *testing.T) {
	rep, err := Analyze([]Layer{sparseLayer()})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Rows[0]
	// Positions: symbols 2, 3, 0 (filler), 4: E = 4 entries of 3 bits = 12.
	// FP32 512; P = 3·32 + 12 = 108; P+Q = 3·1 + 2·32 + 12 = 79.
	// H: indices {0: 1, 1: 2} -> two 1-bit codes = 3 bits, table 3 bytes = 24;
	// positions: four symbols once each -> 2 bits each = 8, table 1 + 1 +
	// 8·2 bits = 4 bytes = 32; plus codebook 64: 3 + 24 + 64 + 8 + 32 = 131.
	want := [NumStages]int64{512, 108, 79, 131}
	if r.Bits != want || r.Kept != 3 || r.Fillers != 1 || r.RelBits != 3 || r.BiasBits != 64 {
		t.Fatalf("row %+v", r)
	}
	if got := r.RatioWithBias(Quantized); math.Abs(got-576.0/143) > 1e-12 {
		t.Fatalf("ratio with bias %v", got)
	}
}

func randomLayer(rng *rand.Rand, name string, shape []int, sparsity float64, bits int) Layer {
	n := 1
	for _, d := range shape {
		n *= d
	}
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(rng.NormFloat64() * 0.1)
	}
	var mask []bool
	if sparsity > 0 {
		m, err := prune.Prune(w, sparsity)
		if err != nil {
			panic(err)
		}
		mask = m
	}
	bias := make([]float32, shape[0])
	for i := range bias {
		bias[i] = float32(rng.NormFloat64())
	}
	l, err := NewLayer(name, shape, w, mask, bits, bias)
	if err != nil {
		panic(err)
	}
	return l
}

func TestFileRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	layers := []Layer{
		randomLayer(rng, "conv1", []int{6, 1, 5, 5}, 0.34, 8),
		randomLayer(rng, "conv2", []int{16, 6, 5, 5}, 0.88, 8),
		randomLayer(rng, "fc1", []int{120, 400}, 0.97, 5),
		randomLayer(rng, "fc2", []int{10, 120}, 0, 5),    // unpruned
		randomLayer(rng, "allpruned", []int{4, 4}, 1, 2), // nothing kept
		lecture4x4(),
		sparseLayer(),
	}
	path := filepath.Join(t.TempDir(), "model.qgdc")
	if err := WriteFile(path, layers); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(layers) {
		t.Fatalf("%d layers", len(got))
	}
	for i := range layers {
		a, b := &layers[i], &got[i]
		wa, wb := a.Weights(), b.Weights()
		for j := range wa {
			if math.Float32bits(wa[j]) != math.Float32bits(wb[j]) {
				t.Fatalf("%s: weight %d: %v vs %v", a.Name, j, wa[j], wb[j])
			}
		}
		if a.Name != b.Name || !slices.Equal(a.Shape, b.Shape) || !slices.Equal(a.Bias, b.Bias) ||
			!slices.Equal(a.Centroids, b.Centroids) || a.Sparse() != b.Sparse() || a.Kept() != b.Kept() {
			t.Fatalf("%s: layer differs", a.Name)
		}
	}
	// The file is close to the Huffman-stage accounting: streams, tables and
	// codebooks are counted there; headers, shapes, biases and counts are not.
	rep, _ := Analyze(layers)
	fi, _ := os.Stat(path)
	acc := (rep.Total.Bits[Huffman] + rep.Total.BiasBits) / 8
	if fi.Size() < acc || fi.Size() > acc+200 {
		t.Errorf("file %d bytes, accounting %d bytes", fi.Size(), acc)
	}
	t.Logf("\n%s", rep.Markdown())
}

func TestFileCorrupt(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	layers := []Layer{randomLayer(rng, "fc1", []int{30, 40}, 0.9, 4), lecture4x4()}
	b, err := Marshal(layers)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	// Every truncation and every single-bit flip fails with ErrFormat.
	for n := 0; n < len(b); n++ {
		if _, err := Unmarshal(b[:n]); !errors.Is(err, ErrFormat) {
			t.Fatalf("truncated to %d: err %v", n, err)
		}
	}
	for i := 0; i < len(b); i++ {
		c := bytes.Clone(b)
		c[i] ^= 1 << (i % 8)
		if _, err := Unmarshal(c); !errors.Is(err, ErrFormat) {
			t.Fatalf("flip at %d: err %v", i, err)
		}
	}
	c := bytes.Clone(b)
	c[0] = 'X'
	if _, err := Unmarshal(c); !errors.Is(err, ErrMagic) {
		t.Fatal(err)
	}
	c = bytes.Clone(b)
	c[4] = 9
	if _, err := Unmarshal(c); !errors.Is(err, ErrVersion) {
		t.Fatal(err)
	}
	c = bytes.Clone(b)
	c[len(c)-10] ^= 0xff
	if _, err := Unmarshal(c); !errors.Is(err, ErrChecksum) {
		t.Fatal(err)
	}
	// File errors name the file.
	path := filepath.Join(t.TempDir(), "bad.qgdc")
	os.WriteFile(path, b[:len(b)-1], 0o644)
	if _, err := ReadFile(path); err == nil || !bytes.Contains([]byte(err.Error()), []byte(path)) {
		t.Fatalf("err %v", err)
	}
}

// TestFileCorruptPayload rewrites the checksum after damaging the payload, so
// that the structural checks (not the CRC) must catch it, without panics.
func TestFileCorruptPayload(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	layers := []Layer{randomLayer(rng, "c", []int{4, 2, 3, 3}, 0.8, 3), randomLayer(rng, "f", []int{8, 9}, 0, 2)}
	b, _ := Marshal(layers)
	for i := headerLen; i < len(b)-4; i++ {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			c := bytes.Clone(b)
			c[i] ^= x
			fixCRC(c)
			l, err := Unmarshal(c) // must not panic
			if err == nil {
				for j := range l {
					if err := l[j].Validate(); err != nil {
						t.Fatalf("byte %d ^ %x: decoded an invalid layer: %v", i, x, err)
					}
				}
			}
		}
	}
}

func TestLayerErrors(t *testing.T) {
	l := lecture4x4()
	l.Indices[3] = 4
	if _, err := Analyze([]Layer{l}); !errors.Is(err, ErrLayer) {
		t.Fatal(err)
	}
	if _, err := Marshal([]Layer{{Name: "x", Shape: []int{2}, Centroids: []float32{1}, Indices: []int32{0}}}); !errors.Is(err, ErrLayer) {
		t.Fatal(err)
	}
}
