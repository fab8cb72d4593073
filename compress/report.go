package compress

import (
	"fmt"
	"math"
	"strings"

	"github.com/qatgo/qatgo/huffman"
)

// Stage is a step of the Deep Compression pipeline.
type Stage int

const (
	FP32      Stage = iota // dense float32
	Pruned                 // kept weights at FP32 + relative positions
	Quantized              // + weight sharing: b-bit indices + codebook
	Huffman                // + Huffman coding of indices and positions
	NumStages
)

func (s Stage) String() string {
	switch s {
	case FP32:
		return "FP32"
	case Pruned:
		return "P"
	case Quantized:
		return "P+Q"
	case Huffman:
		return "P+Q+H"
	}
	return fmt.Sprintf("Stage(%d)", int(s))
}

// Row is the storage of one layer (or the total) at every stage.
type Row struct {
	Name      string
	Weights   int // number of weights
	Kept      int // kept (unpruned) weights
	Fillers   int // filler entries among the relative positions
	Clusters  int // codebook size k
	IndexBits int // fixed-width cluster index bits b
	RelBits   int // relative-position bits r (0: unpruned layer, no positions)
	// RelEntries counts relative-position entries (kept + fillers of pruned
	// layers; 0 for unpruned layers, which store no positions).
	RelEntries int

	// Huffman stage details, in bits: coded streams and serialised tables.
	HuffIndexBits, HuffIndexTable int64
	HuffRelBits, HuffRelTable     int64

	Bits     [NumStages]int64 // weight storage per stage, bits
	BiasBits int64            // biases at 32 bits, not in Bits
}

// KeptFrac returns the kept fraction of weights.
func (r Row) KeptFrac() float64 {
	if r.Weights == 0 {
		return 0
	}
	return float64(r.Kept) / float64(r.Weights)
}

// Ratio returns the weight compression ratio of stage s against FP32.
func (r Row) Ratio(s Stage) float64 {
	return float64(r.Bits[FP32]) / float64(r.Bits[s])
}

// RatioWithBias returns the ratio of stage s against FP32 with the biases
// (at 32 bits in both) included.
func (r Row) RatioWithBias(s Stage) float64 {
	return float64(r.Bits[FP32]+r.BiasBits) / float64(r.Bits[s]+r.BiasBits)
}

// AvgIndexBits returns the mean Huffman-coded bits per kept weight's index
// (stream only, without the table).
func (r Row) AvgIndexBits() float64 {
	if r.Kept == 0 {
		return 0
	}
	return float64(r.HuffIndexBits) / float64(r.Kept)
}

// AvgRelBits returns the mean Huffman-coded bits per relative-position entry.
func (r Row) AvgRelBits() float64 {
	if r.RelEntries > 0 {
		return float64(r.HuffRelBits) / float64(r.RelEntries)
	}
	return 0
}

// Report is the storage of a model, layer by layer and in total.
type Report struct {
	Rows  []Row
	Total Row
}

// Analyze computes the storage of every layer at every stage.
func Analyze(layers []Layer) (Report, error) {
	var rep Report
	rep.Total.Name = "total"
	for i := range layers {
		row, err := analyzeLayer(&layers[i])
		if err != nil {
			return Report{}, err
		}
		rep.Rows = append(rep.Rows, row)
		t := &rep.Total
		t.Weights += row.Weights
		t.Kept += row.Kept
		t.Fillers += row.Fillers
		t.RelEntries += row.RelEntries
		t.Clusters += row.Clusters
		t.HuffIndexBits += row.HuffIndexBits
		t.HuffIndexTable += row.HuffIndexTable
		t.HuffRelBits += row.HuffRelBits
		t.HuffRelTable += row.HuffRelTable
		for s := range t.Bits {
			t.Bits[s] += row.Bits[s]
		}
		t.BiasBits += row.BiasBits
	}
	return rep, nil
}

// streams holds a layer's symbol streams and their Huffman codes, shared by
// the accounting and the file writer so the two cannot disagree.
type streams struct {
	idx, rel         []int32
	idxCode, relCode *huffman.Code
}

func layerStreams(l *Layer) (streams, error) {
	var st streams
	if err := l.Validate(); err != nil {
		return st, err
	}
	st.idx = l.keptIndices()
	h, err := huffman.Histogram(st.idx, len(l.Centroids))
	if err != nil {
		return st, fmt.Errorf("compress: layer %q: %w", l.Name, err)
	}
	if st.idxCode, err = huffman.New(h); err != nil {
		return st, fmt.Errorf("compress: layer %q: %w", l.Name, err)
	}
	if l.Sparse() {
		r := l.relBits()
		if st.rel, err = EncodeRelative(l.Mask, r); err != nil {
			return st, err
		}
		h, err := huffman.Histogram(st.rel, 1<<r)
		if err != nil {
			return st, fmt.Errorf("compress: layer %q: %w", l.Name, err)
		}
		if st.relCode, err = huffman.New(h); err != nil {
			return st, fmt.Errorf("compress: layer %q: %w", l.Name, err)
		}
	}
	return st, nil
}

func analyzeLayer(l *Layer) (Row, error) {
	st, err := layerStreams(l)
	if err != nil {
		return Row{}, err
	}
	n, k := l.NumWeights(), len(l.Centroids)
	row := Row{Name: l.Name, Weights: n, Kept: len(st.idx), Clusters: k, IndexBits: l.IndexBits(),
		BiasBits: 32 * int64(len(l.Bias))}
	var relFixed int64
	if st.relCode != nil {
		row.RelBits = l.relBits()
		for _, s := range st.rel {
			if s == 0 {
				row.Fillers++
			}
		}
		row.RelEntries = len(st.rel)
		relFixed = int64(row.RelBits) * int64(len(st.rel))
		h, _ := huffman.Histogram(st.rel, 1<<row.RelBits)
		b, err := st.relCode.Bits(h)
		if err != nil {
			return Row{}, err
		}
		row.HuffRelBits = int64(b)
		row.HuffRelTable = int64(st.relCode.TableBits())
	}
	h, _ := huffman.Histogram(st.idx, k)
	b, err := st.idxCode.Bits(h)
	if err != nil {
		return Row{}, err
	}
	row.HuffIndexBits = int64(b)
	row.HuffIndexTable = int64(st.idxCode.TableBits())
	kept := int64(row.Kept)
	book := 32 * int64(k)
	row.Bits[FP32] = 32 * int64(n)
	row.Bits[Pruned] = 32*kept + relFixed
	row.Bits[Quantized] = int64(row.IndexBits)*kept + book + relFixed
	row.Bits[Huffman] = row.HuffIndexBits + row.HuffIndexTable + book + row.HuffRelBits + row.HuffRelTable
	return row, nil
}

// Markdown renders the report as a Markdown table like the paper's
// (Tables 2-5): sizes in bits per stage and the ratios against FP32, weights
// only; a last line gives the biases and the ratios with them included.
func (rep Report) Markdown() string {
	var b strings.Builder
	b.WriteString("| Layer | #Weights | Kept | Index bits P+Q | Index bits P+Q+H | Rel bits | Rel bits H | FP32 bits | P bits | P+Q bits | P+Q+H bits | Ratio P | Ratio P+Q | Ratio P+Q+H |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	line := func(r Row, total bool) {
		idx, rel, relH := fmt.Sprint(r.IndexBits), fmt.Sprint(r.RelBits), fmt.Sprintf("%.2f", r.AvgRelBits())
		if total {
			idx, rel = "", ""
		}
		if r.RelEntries == 0 {
			relH = "-"
			if !total {
				rel = "-"
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %.1f%% | %s | %.2f | %s | %s | %d | %d | %d | %d | %s | %s | %s |\n",
			r.Name, r.Weights, 100*r.KeptFrac(), idx, r.AvgIndexBits(), rel, relH,
			r.Bits[FP32], r.Bits[Pruned], r.Bits[Quantized], r.Bits[Huffman],
			ratio(r.Ratio(Pruned)), ratio(r.Ratio(Quantized)), ratio(r.Ratio(Huffman)))
	}
	for _, r := range rep.Rows {
		line(r, false)
	}
	line(rep.Total, true)
	t := rep.Total
	fmt.Fprintf(&b, "\nBiases: %d bits at FP32, not in the weight columns; with biases: P %s, P+Q %s, P+Q+H %s.\n",
		t.BiasBits, ratio(t.RatioWithBias(Pruned)), ratio(t.RatioWithBias(Quantized)), ratio(t.RatioWithBias(Huffman)))
	return b.String()
}

// ratio formats a compression ratio; a layer pruned away entirely stores
// nothing at the pruned stage, an infinite ratio.
func ratio(r float64) string {
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return "inf"
	}
	return fmt.Sprintf("%.1fx", r)
}
