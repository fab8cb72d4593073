package codebook

import (
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"math/rand"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/qatgo/qatgo/compress"
	"github.com/qatgo/qatgo/kmeans"
)

// Rule is how the weight gradients of a cluster are reduced onto its centroid.
type Rule int

const (
	// Sum adds the gradients of the cluster's weights (the paper; the exact
	// gradient with respect to the centroid).
	Sum Rule = iota
	// Mean divides that sum by the number of unpruned weights in the cluster.
	Mean
)

func (r Rule) String() string {
	switch r {
	case Sum:
		return "sum"
	case Mean:
		return "mean"
	}
	return fmt.Sprintf("Rule(%d)", int(r))
}

// Sentinel errors; returned errors wrap them with details.
var (
	ErrInvalid = errors.New("codebook: invalid codebook")
	ErrNode    = errors.New("codebook: centroid node does not match the codebook")
)

// Codebook is a weight-shared layer weight: Centroids[Indices[i]] where
// Mask[i] is true (or Mask is nil), exactly 0 elsewhere.
type Codebook struct {
	Name  string
	Shape tensor.Shape // weight shape
	// Centroids is the learnable 1-D tensor of k centroids (tensor.Float32 or
	// tensor.Float64); bind it to the centroid node and let the solver update
	// it. The indices never change.
	Centroids *tensor.Dense
	Indices   []int32 // cluster of each weight (row-major); ignored where pruned
	Mask      []bool  // nil: nothing pruned; false: pruned, always zero
	Rule      Rule
	// LRMult scales the learning rate of the centroids relative to the rest
	// of the model (the optimizer reads it; New sets 1).
	LRMult float64

	counts []float64 // unpruned members per cluster, for Mean
}

// New builds a codebook over centroids of type float32 or float64.
func New[T float32 | float64](name string, shape []int, centroids []T, indices []int32, mask []bool, rule Rule) (*Codebook, error) {
	c := &Codebook{Name: name, Shape: tensor.Shape(append([]int(nil), shape...)),
		Centroids: tensor.New(tensor.WithShape(len(centroids)), tensor.WithBacking(append([]T(nil), centroids...))),
		Indices:   append([]int32(nil), indices...), Rule: rule, LRMult: 1}
	if mask != nil {
		c.Mask = append([]bool(nil), mask...)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// FromWeights clusters the unpruned weights w (mask false = pruned, nil:
// none) into 2^bits centroids with kmeans (init as given; Linear is the
// paper's choice; rng is needed only for Random and PlusPlus).
func FromWeights(name string, shape []int, w []float32, mask []bool, bits int, init kmeans.Init, rng *rand.Rand, rule Rule) (*Codebook, error) {
	if bits < 1 || bits > 16 {
		return nil, fmt.Errorf("%w %q: %d bits, want 1..16", ErrInvalid, name, bits)
	}
	r, err := kmeans.Cluster(w, kmeans.Options{K: 1 << bits, Init: init, Rand: rng, Mask: mask})
	if err != nil {
		return nil, fmt.Errorf("codebook %q: %w", name, err)
	}
	return New(name, shape, r.Centroids, r.Assign, mask, rule)
}

// Validate checks the shape, the centroid tensor and the indices.
func (c *Codebook) Validate() error {
	n := c.Shape.TotalSize()
	if len(c.Shape) == 0 || n < 1 {
		return fmt.Errorf("%w %q: shape %v", ErrInvalid, c.Name, c.Shape)
	}
	if c.Centroids == nil || c.Centroids.Dims() != 1 || c.Centroids.Shape()[0] < 1 {
		return fmt.Errorf("%w %q: centroids must be a non-empty 1-D tensor", ErrInvalid, c.Name)
	}
	if dt := c.Centroids.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return fmt.Errorf("%w %q: centroid dtype %v, want float32 or float64", ErrInvalid, c.Name, dt)
	}
	if len(c.Indices) != n {
		return fmt.Errorf("%w %q: %d indices for %d weights", ErrInvalid, c.Name, len(c.Indices), n)
	}
	if c.Mask != nil && len(c.Mask) != n {
		return fmt.Errorf("%w %q: mask of %d for %d weights", ErrInvalid, c.Name, len(c.Mask), n)
	}
	if c.Rule != Sum && c.Rule != Mean {
		return fmt.Errorf("%w %q: rule %v", ErrInvalid, c.Name, c.Rule)
	}
	k := c.K()
	c.counts = make([]float64, k)
	for i, j := range c.Indices {
		if c.kept(i) {
			if j < 0 || int(j) >= k {
				return fmt.Errorf("%w %q: index %d at weight %d, %d centroids", ErrInvalid, c.Name, j, i, k)
			}
			c.counts[j]++
		}
	}
	return nil
}

// K returns the number of centroids.
func (c *Codebook) K() int { return c.Centroids.Shape()[0] }

func (c *Codebook) kept(i int) bool { return c.Mask == nil || c.Mask[i] }

// Weights decodes the dense weights from the current centroids.
func (c *Codebook) Weights() []float32 {
	w := make([]float32, len(c.Indices))
	switch d := c.Centroids.Data().(type) {
	case []float32:
		gather(w, d, c)
	case []float64:
		for i, j := range c.Indices {
			if c.kept(i) {
				w[i] = float32(d[j])
			}
		}
	}
	return w
}

// Layer returns the compress.Layer of the current centroids (float32), for
// storage accounting and the compressed file.
func (c *Codebook) Layer(bias []float32) compress.Layer {
	cent := make([]float32, c.K())
	switch d := c.Centroids.Data().(type) {
	case []float32:
		copy(cent, d)
	case []float64:
		for i, v := range d {
			cent[i] = float32(v)
		}
	}
	var mask []bool
	if c.Mask != nil {
		mask = append(mask, c.Mask...)
	}
	return compress.Layer{Name: c.Name, Shape: append([]int(nil), c.Shape...), Centroids: cent,
		Indices: append([]int32(nil), c.Indices...), Mask: mask, Bias: bias}
}

// CentroidNode creates the learnable centroid node in g, bound to
// c.Centroids and named Name+"_centroids".
func (c *Codebook) CentroidNode(g *G.ExprGraph) *G.Node {
	return G.NewVector(g, c.Centroids.Dtype(), G.WithShape(c.K()),
		G.WithName(c.Name+"_centroids"), G.WithValue(c.Centroids))
}

// Apply returns the weight node W = centroids[Indices] (pruned entries 0)
// of shape Shape, with the cluster-reduced gradient flowing to centroids.
// Each call makes a distinct op, so two applications are never merged.
func (c *Codebook) Apply(centroids *G.Node) (*G.Node, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if centroids.Dims() != 1 || centroids.Shape()[0] != c.K() || centroids.Dtype() != c.Centroids.Dtype() {
		return nil, fmt.Errorf("%w %q: node %v %v, codebook (%d) %v", ErrNode, c.Name,
			centroids.Shape(), centroids.Dtype(), c.K(), c.Centroids.Dtype())
	}
	return G.ApplyOp(&gatherOp{cb: c}, centroids)
}

// Build creates the centroid node and the weight node in g.
func (c *Codebook) Build(g *G.ExprGraph) (centroids, weights *G.Node, err error) {
	centroids = c.CentroidNode(g)
	weights, err = c.Apply(centroids)
	return centroids, weights, err
}

// gatherOp is W = centroids[idx].
type gatherOp struct{ cb *Codebook }

func (op *gatherOp) Arity() int { return 1 }
func (op *gatherOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: 1, Of: a}, G.TensorType{Dims: len(op.cb.Shape), Of: a})
}
func (op *gatherOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.cb.Shape.Clone(), nil }
func (op *gatherOp) ReturnsPtr() bool                               { return false }
func (op *gatherOp) CallsExtern() bool                              { return false }
func (op *gatherOp) OverwritesInput() int                           { return -1 }
func (op *gatherOp) String() string                                 { return "codebook(" + op.cb.Name + ")" }
func (op *gatherOp) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "codebook %s %p", op.cb.Name, op) }
func (op *gatherOp) Hashcode() uint32                               { return hashOf(op) }
func (op *gatherOp) DiffWRT(int) []bool                             { return []bool{true} }

func hashOf(op G.Op) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op *gatherOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%w: %s takes 1 input, got %d", ErrNode, op, len(in))
	}
	cb := op.cb
	switch d := in[0].Data().(type) {
	case []float32:
		if len(d) != cb.K() {
			return nil, fmt.Errorf("%w: %s: %d centroids, want %d", ErrNode, op, len(d), cb.K())
		}
		w := make([]float32, len(cb.Indices))
		gather(w, d, cb)
		return tensor.New(tensor.WithShape(cb.Shape.Clone()...), tensor.WithBacking(w)), nil
	case []float64:
		if len(d) != cb.K() {
			return nil, fmt.Errorf("%w: %s: %d centroids, want %d", ErrNode, op, len(d), cb.K())
		}
		w := make([]float64, len(cb.Indices))
		gather(w, d, cb)
		return tensor.New(tensor.WithShape(cb.Shape.Clone()...), tensor.WithBacking(w)), nil
	}
	return nil, fmt.Errorf("%w: %s: centroid value %T", ErrNode, op, in[0].Data())
}

func gather[T float32 | float64](w, cent []T, cb *Codebook) {
	for i, j := range cb.Indices {
		if cb.kept(i) {
			w[i] = cent[j]
		}
	}
}

func (op *gatherOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	g, err := G.ApplyOp(&reduceOp{cb: op.cb}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{g}, nil
}

// reduceOp maps dL/dW (weight shape) to dL/dcentroids (k) by the rule.
type reduceOp struct{ cb *Codebook }

func (op *reduceOp) Arity() int { return 1 }
func (op *reduceOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: len(op.cb.Shape), Of: a}, G.TensorType{Dims: 1, Of: a})
}
func (op *reduceOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.cb.K()}, nil
}
func (op *reduceOp) ReturnsPtr() bool     { return false }
func (op *reduceOp) CallsExtern() bool    { return false }
func (op *reduceOp) OverwritesInput() int { return -1 }
func (op *reduceOp) String() string {
	return "codebookgrad(" + op.cb.Name + "," + op.cb.Rule.String() + ")"
}
func (op *reduceOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "codebookgrad %s %p", op.cb.Name, op) }
func (op *reduceOp) Hashcode() uint32      { return hashOf(op) }

func (op *reduceOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%w: %s takes 1 input, got %d", ErrNode, op, len(in))
	}
	cb := op.cb
	switch d := in[0].Data().(type) {
	case []float32:
		if len(d) != len(cb.Indices) {
			return nil, fmt.Errorf("%w: %s: gradient of %d, want %d", ErrNode, op, len(d), len(cb.Indices))
		}
		return tensor.New(tensor.WithShape(cb.K()), tensor.WithBacking(reduce(d, cb))), nil
	case []float64:
		if len(d) != len(cb.Indices) {
			return nil, fmt.Errorf("%w: %s: gradient of %d, want %d", ErrNode, op, len(d), len(cb.Indices))
		}
		return tensor.New(tensor.WithShape(cb.K()), tensor.WithBacking(reduce(d, cb))), nil
	}
	return nil, fmt.Errorf("%w: %s: gradient value %T", ErrNode, op, in[0].Data())
}

// reduce groups the weight gradients by cluster; sums are accumulated in
// float64 so that float32 training loses nothing to summation order.
func reduce[T float32 | float64](gw []T, cb *Codebook) []T {
	acc := make([]float64, cb.K())
	for i, j := range cb.Indices {
		if cb.kept(i) {
			acc[j] += float64(gw[i])
		}
	}
	out := make([]T, len(acc))
	for j, s := range acc {
		if cb.Rule == Mean {
			if cb.counts[j] == 0 {
				continue
			}
			s /= cb.counts[j]
		}
		out[j] = T(s)
	}
	return out
}
