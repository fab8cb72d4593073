package compress

import (
	"math/rand"
	"testing"
)

// lenet300 is LeNet-300-100 pruned as in the paper (8%, 9%, 26% kept) with
// 6-bit codebooks.
func lenet300() []Layer {
	rng := rand.New(rand.NewSource(1))
	return []Layer{
		randomLayer(rng, "fc1", []int{300, 784}, 0.92, 6),
		randomLayer(rng, "fc2", []int{100, 300}, 0.91, 6),
		randomLayer(rng, "fc3", []int{10, 100}, 0.74, 6),
	}
}

func BenchmarkMarshalLeNet300(b *testing.B) {
	layers := lenet300()
	b.SetBytes(4 * 266200) // FP32 weight bytes
	for i := 0; i < b.N; i++ {
		if _, err := Marshal(layers); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalLeNet300(b *testing.B) {
	data, _ := Marshal(lenet300())
	b.SetBytes(4 * 266200)
	b.ReportMetric(float64(len(data)), "file-bytes")
	for i := 0; i < b.N; i++ {
		if _, err := Unmarshal(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLeNet300Report(t *testing.T) {
	rep, err := Analyze(lenet300())
	if err != nil {
		t.Fatal(err)
	}
	data, _ := Marshal(lenet300())
	t.Logf("file %d bytes\n%s", len(data), rep.Markdown())
	// Random Gaussian weights, so Huffman gains little on indices; positions
	// at 5 bits with ~8% density still give > 35x overall (paper: 40x).
	if r := rep.Total.Ratio(Huffman); r < 30 {
		t.Errorf("ratio %v", r)
	}
}
