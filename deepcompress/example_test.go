package deepcompress_test

import (
	"fmt"

	"github.com/qatgo/qatgo/compress"
	"github.com/qatgo/qatgo/deepcompress"
)

// A 4×4 layer with half its weights pruned, shared by 2-bit indices: the
// paper-style row and the stage sizes in bits. By hand: FP32 16·32 = 512;
// pruned 8·32 + 8 relative positions·5 = 296; quantized 8·2 + 4
// centroids·32 + 40 = 184. Huffman needs code tables, which outweigh the
// gain on a layer this small (260 bits): storage accounting is honest.
func ExamplePaperTable() {
	w := []float32{
		0.9, 0, -0.8, 0,
		0, 0.1, 0, -0.2,
		1.0, 0, 0, 0.15,
		0, -0.85, 0, 0.95,
	}
	mask := make([]bool, len(w))
	for i, v := range w {
		mask[i] = v != 0
	}
	l, err := compress.NewLayer("fc", []int{4, 4}, w, mask, 2, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := compress.Analyze([]compress.Layer{l})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(deepcompress.PaperTable(rep))
	fmt.Println(rep.Total.Bits)
	// Output:
	// | Layer | #Weights | Weights% (P) | Weight bits (P+Q) | Weight bits (P+Q+H) | Index bits (P+Q) | Index bits (P+Q+H) | Compress rate (P+Q) | Compress rate (P+Q+H) |
	// |---|---:|---:|---:|---:|---:|---:|---:|---:|
	// | fc | 16 | 50% | 2 | 2.0 | 5 | 1.5 | 35.94% | 50.78% (2.0x) |
	// | total | 16 | 50% |  | 2.0 |  | 1.5 | 35.94% | 50.78% (2.0x) |
	// [512 296 184 260]
}
