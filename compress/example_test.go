package compress_test

import (
	"fmt"

	"github.com/qatgo/qatgo/compress"
)

func ExampleAnalyze() {
	// The 4x4 layer of the lecture: 2-bit indices into a 4-entry codebook.
	fc := compress.Layer{
		Name:      "fc",
		Shape:     []int{4, 4},
		Centroids: []float32{-1, 0, 1.5, 2},
		Indices:   []int32{3, 0, 2, 1, 1, 1, 0, 3, 0, 3, 1, 0, 3, 1, 2, 2},
		Bias:      []float32{0.1, 0.2, 0.3, 0.4},
	}
	rep, err := compress.Analyze([]compress.Layer{fc})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := rep.Rows[0]
	fmt.Printf("FP32 %d bits, P+Q %d bits: %.1fx\n", r.Bits[compress.FP32], r.Bits[compress.Quantized], r.Ratio(compress.Quantized))
	fmt.Print(rep.Markdown())
	// Output:
	// FP32 512 bits, P+Q 160 bits: 3.2x
	// | Layer | #Weights | Kept | Index bits P+Q | Index bits P+Q+H | Rel bits | Rel bits H | FP32 bits | P bits | P+Q bits | P+Q+H bits | Ratio P | Ratio P+Q | Ratio P+Q+H |
	// |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
	// | fc | 16 | 100.0% | 2 | 2.00 | - | - | 512 | 512 | 160 | 184 | 1.0x | 3.2x | 2.8x |
	// | total | 16 | 100.0% |  | 2.00 |  | - | 512 | 512 | 160 | 184 | 1.0x | 3.2x | 2.8x |
	//
	// Biases: 128 bits at FP32, not in the weight columns; with biases: P 1.0x, P+Q 2.2x, P+Q+H 2.1x.
}
