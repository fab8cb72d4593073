package deepcompress

import (
	"fmt"
	"strings"

	"github.com/qatgo/qatgo/compress"
)

// PaperTable renders the per-layer table in the layout of the paper's
// Tables 2-3. As there, "weight bits" are the bits of a kept weight's
// cluster index (fixed width, then the Huffman-coded mean) and "index bits"
// those of its relative position (fixed, then Huffman); the compress rates
// are the layer's whole storage (codebook and code tables included, biases
// not) as a percentage of FP32, with the ratio for the Huffman stage.
func PaperTable(rep compress.Report) string {
	var b strings.Builder
	b.WriteString("| Layer | #Weights | Weights% (P) | Weight bits (P+Q) | Weight bits (P+Q+H) | Index bits (P+Q) | Index bits (P+Q+H) | Compress rate (P+Q) | Compress rate (P+Q+H) |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	row := func(r compress.Row, total bool) {
		wb, rb := fmt.Sprint(r.IndexBits), fmt.Sprint(r.RelBits)
		if total {
			wb, rb = "", ""
		}
		if r.RelEntries == 0 && !total {
			rb = "-"
		}
		rh := "-"
		if r.RelEntries > 0 {
			rh = fmt.Sprintf("%.1f", r.AvgRelBits())
		}
		fmt.Fprintf(&b, "| %s | %s | %.0f%% | %s | %.1f | %s | %s | %.2f%% | %.2f%% (%.1fx) |\n",
			r.Name, humanCount(r.Weights), 100*r.KeptFrac(), wb, r.AvgIndexBits(), rb, rh,
			100/r.Ratio(compress.Quantized), 100/r.Ratio(compress.Huffman), r.Ratio(compress.Huffman))
	}
	for _, r := range rep.Rows {
		row(r, false)
	}
	row(rep.Total, true)
	return b.String()
}

func humanCount(n int) string {
	if n >= 1000 {
		return fmt.Sprintf("%.1fK", float64(n)/1000)
	}
	return fmt.Sprint(n)
}
