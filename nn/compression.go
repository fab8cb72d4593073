package nn

import (
	"errors"
	"fmt"

	"github.com/qatgo/qatgo/codebook"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Deep Compression support (pruning masks and weight sharing) for any
// weight Param, so Linear and Conv2d, and layers mixed with linearly
// fake-quantized ones in one model, need no changes of their own.

// ErrShare is returned (wrapped) by Share for a codebook that does not fit
// the parameter.
var ErrShare = errors.New("nn: cannot share weights")

// ApplyMask sets the weights that p.Mask prunes to exactly zero; a nil Mask
// does nothing. Call it after every optimizer step while retraining a pruned
// model (train.Config.AfterStep), so pruned weights stay zero.
func (p *Param) ApplyMask() error {
	if p.Mask == nil {
		return nil
	}
	if n := p.Value.Shape().TotalSize(); len(p.Mask) != n {
		return fmt.Errorf("nn: %s: mask of %d for %d weights", p.Name, len(p.Mask), n)
	}
	switch d := p.Value.Data().(type) {
	case []float32:
		for i, k := range p.Mask {
			if !k {
				d[i] = 0
			}
		}
	case []float64:
		for i, k := range p.Mask {
			if !k {
				d[i] = 0
			}
		}
	}
	return nil
}

// ApplyMasks applies every parameter's pruning mask (Param.ApplyMask).
func (n *Net) ApplyMasks() error {
	for _, p := range n.params {
		if err := p.ApplyMask(); err != nil {
			return err
		}
	}
	return nil
}

// Share makes p weight-shared: in every graph compiled after this call p's
// node is cb's output W = centroids[indices] (pruned entries zero), and the
// trainable parameter is the centroid vector, a Param named
// p.Name+".centroids" with LRScale cb.LRMult and no weight decay, which the
// compiled Net lists after the module's params. p itself stops being
// trainable (its Value is set to the decoded weights now and by SyncShared).
// A shared weight should have no weight quantizer: one would fake-quantize
// the decoded weights, which then differ from the codebook's.
func (p *Param) Share(cb *codebook.Codebook) error {
	if cb == nil {
		return fmt.Errorf("%w %s: nil codebook", ErrShare, p.Name)
	}
	if err := cb.Validate(); err != nil {
		return fmt.Errorf("%w %s: %w", ErrShare, p.Name, err)
	}
	if !cb.Shape.Eq(p.Value.Shape()) {
		return fmt.Errorf("%w %s: codebook shape %v, weight %v", ErrShare, p.Name, cb.Shape, p.Value.Shape())
	}
	if cb.Centroids.Dtype() != p.Value.Dtype() {
		return fmt.Errorf("%w %s: centroids are %v, weight %v", ErrShare, p.Name, cb.Centroids.Dtype(), p.Value.Dtype())
	}
	if p.shared == nil {
		p.sharedTrain = p.Trainable
	}
	p.shared = cb
	p.Trainable = false
	return p.SyncShared()
}

// Unshare turns p back into an ordinary parameter holding the current
// decoded weights (for graphs compiled after the call).
func (p *Param) Unshare() error {
	if p.shared == nil {
		return nil
	}
	err := p.SyncShared()
	p.shared, p.Trainable = nil, p.sharedTrain
	return err
}

// Shared returns p's codebook, or nil.
func (p *Param) Shared() *codebook.Codebook { return p.shared }

// SyncShared copies the decoded weights of p's codebook into p.Value, so
// that readers of the Value (SaveState, Layers, export) see what the graphs
// compute. It does nothing for an ordinary parameter.
func (p *Param) SyncShared() error {
	if p.shared == nil {
		return nil
	}
	return setF32(p.Value, p.shared.Weights())
}

// SyncShared calls Param.SyncShared on every parameter; call it after
// training centroids.
func (n *Net) SyncShared() error {
	for _, p := range n.params {
		if err := p.SyncShared(); err != nil {
			return err
		}
	}
	return nil
}

// sharedNode builds the codebook's output for p in b's graph, registering
// the centroid Param once per Net (the graphs share it, as they share
// learnable quantizer parameters).
func (b *Builder) sharedNode(p *Param) *G.Node {
	cb := p.shared
	name := p.Name + ".centroids"
	cp, ok := b.learn[name]
	if !ok || cp.Value != cb.Centroids {
		cp = &Param{Name: name, Value: cb.Centroids, Trainable: true, LRScale: float32(cb.LRMult),
			Grad: tensor.New(tensor.WithShape(cb.Centroids.Shape().Clone()...), tensor.Of(cb.Centroids.Dtype()))}
		if cp.LRScale == 0 {
			cp.LRScale = 1
		}
		b.learn[name] = cp
		*b.learnSeq = append(*b.learnSeq, cp)
	}
	c := b.Node(cp)
	w, err := cb.Apply(c)
	if err != nil {
		// Node cannot return an error; Compile reports the first one.
		if b.err == nil {
			b.err = fmt.Errorf("%w %s: %w", ErrShare, p.Name, err)
		}
		w = c
	}
	b.nodes[p] = w
	return w
}
