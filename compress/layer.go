package compress

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/qatgo/qatgo/kmeans"
)

// ErrLayer reports an inconsistent Layer.
var ErrLayer = errors.New("compress: invalid layer")

// MaxWeights bounds the weights of one layer (and so what a file may ask
// a reader to allocate).
const MaxWeights = 1 << 28

// MaxClusters bounds the codebook size.
const MaxClusters = 1 << 16

// Layer is one pruned and weight-shared layer: its weights are
// Centroids[Indices[i]] where Mask[i] is true (or Mask is nil) and exactly
// zero elsewhere.
type Layer struct {
	Name      string
	Shape     []int     // weight shape, row-major
	Centroids []float32 // codebook, k entries
	Indices   []int32   // one per weight; any value (e.g. -1) where pruned
	Mask      []bool    // nil: nothing pruned
	Bias      []float32 // stored at FP32; may be nil
	RelBits   int       // relative-position width; 0: DefaultRelBits(Shape)
}

// NumWeights returns the product of Shape.
func (l *Layer) NumWeights() int {
	n := 1
	for _, d := range l.Shape {
		n *= d
	}
	return n
}

// Sparse reports whether the layer has pruned weights (and so stores
// relative positions).
func (l *Layer) Sparse() bool {
	for _, k := range l.Mask {
		if !k {
			return true
		}
	}
	return false
}

// Kept returns the number of kept weights.
func (l *Layer) Kept() int {
	if l.Mask == nil {
		return l.NumWeights()
	}
	n := 0
	for _, k := range l.Mask {
		if k {
			n++
		}
	}
	return n
}

// IndexBits returns the fixed width of a cluster index: ceil(log2 k), at
// least 1.
func (l *Layer) IndexBits() int {
	return max(1, bits.Len(uint(len(l.Centroids)-1)))
}

func (l *Layer) relBits() int {
	if l.RelBits != 0 {
		return l.RelBits
	}
	return DefaultRelBits(l.Shape)
}

// Validate checks shapes, lengths and index ranges.
func (l *Layer) Validate() error {
	if len(l.Shape) == 0 || len(l.Shape) > 8 {
		return fmt.Errorf("%w %q: rank %d, want 1..8", ErrLayer, l.Name, len(l.Shape))
	}
	n := 1
	for _, d := range l.Shape {
		if d < 1 || d > MaxWeights || n*d > MaxWeights {
			return fmt.Errorf("%w %q: shape %v (at most %d weights)", ErrLayer, l.Name, l.Shape, MaxWeights)
		}
		n *= d
	}
	k := len(l.Centroids)
	if k < 1 || k > MaxClusters {
		return fmt.Errorf("%w %q: %d centroids, want 1..%d", ErrLayer, l.Name, k, MaxClusters)
	}
	if len(l.Indices) != n {
		return fmt.Errorf("%w %q: %d indices for %d weights", ErrLayer, l.Name, len(l.Indices), n)
	}
	if l.Mask != nil && len(l.Mask) != n {
		return fmt.Errorf("%w %q: mask of %d for %d weights", ErrLayer, l.Name, len(l.Mask), n)
	}
	if r := l.relBits(); r < 1 || r > 16 {
		return fmt.Errorf("%w %q: relative bits %d, want 1..16", ErrLayer, l.Name, r)
	}
	for i, j := range l.Indices {
		if (l.Mask == nil || l.Mask[i]) && (j < 0 || int(j) >= k) {
			return fmt.Errorf("%w %q: index %d at weight %d, codebook has %d", ErrLayer, l.Name, j, i, k)
		}
	}
	return nil
}

// Weights decodes the dense float32 weights (row-major). The layer must be
// valid.
func (l *Layer) Weights() []float32 {
	w := make([]float32, len(l.Indices))
	for i, j := range l.Indices {
		if l.Mask == nil || l.Mask[i] {
			w[i] = l.Centroids[j]
		}
	}
	return w
}

// keptIndices returns the cluster indices of the kept weights in order.
func (l *Layer) keptIndices() []int32 {
	if l.Mask == nil {
		return l.Indices
	}
	out := make([]int32, 0, len(l.Indices))
	for i, j := range l.Indices {
		if l.Mask[i] {
			out = append(out, j)
		}
	}
	return out
}

// NewLayer clusters the kept weights of w (mask false = pruned; nil mask:
// all kept) into 2^bits centroids with linear initialisation (the paper's
// choice) and returns the layer. Fewer centroids result when the kept
// weights hold fewer distinct values.
func NewLayer(name string, shape []int, w []float32, mask []bool, bits int, bias []float32) (Layer, error) {
	if bits < 1 || bits > 16 {
		return Layer{}, fmt.Errorf("%w %q: %d index bits, want 1..16", ErrLayer, name, bits)
	}
	r, err := kmeans.Cluster(w, kmeans.Options{K: 1 << bits, Init: kmeans.Linear, Mask: mask})
	if errors.Is(err, kmeans.ErrNoData) && len(mask) == len(w) {
		// Everything pruned: a one-entry codebook, no kept weights.
		r = kmeans.Result{Centroids: []float32{0}, Assign: make([]int32, len(w))}
		for i := range r.Assign {
			r.Assign[i] = -1
		}
		err = nil
	}
	if err != nil {
		return Layer{}, fmt.Errorf("compress: layer %q: %w", name, err)
	}
	l := Layer{Name: name, Shape: append([]int(nil), shape...), Centroids: r.Centroids,
		Indices: r.Assign, Mask: mask, Bias: bias}
	if mask != nil && !l.Sparse() {
		l.Mask = nil
	}
	return l, l.Validate()
}
