package kernels

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Handoff links a training graph's batch norm with a clamp (ReLU or ReLU6,
// BatchNormHandoff) to the one convolution that reads its output
// (Conv2dHandoff), directly or through the fake quantizer folded into the
// batch norm (fakequant.ApplyFolded with the batch norm's Fold; see
// Quantized). Where that convolution runs by Winograd it computes the batch
// norm's output itself, per channel a·x + b clamped to [0, hi] (the batch
// norm's kernels' bits), and the quantizer's (its constants handed over by
// fakequant.QuantizingProducer), as it copies each image into its padded
// planes, in its forward and in its weight gradient; the batch norm then
// leaves its output unwritten and the quantizer writes none: the passes
// that wrote the whole activation (a ResNet block's first batch norm) and
// quantized it, and the convolution's reads of it, become reads of the
// batch norm's input, which its backward keeps anyway. Any other path, and
// a quantizer that reads its input (disabled, or an observer that needs
// the values), has the batch norm write its output first.
//
// The convolution claims the Handoff when it is built (Claimed); a graph
// in which another op reads the convolution's input must Release it before
// it runs. One Handoff serves one batch norm.
type Handoff struct {
	claimed bool
	st      *bnState // the batch norm's
	node    *G.Node  // its output
	reader  *G.Node  // what the convolution reads: node or its quantizer's output
	// of the batch norm's last forward run: its input and its output, and
	// whether the output is written (by the batch norm, on request) and
	// the quantizer's output where the convolution wrote it itself
	x, y     []float32
	written  bool
	qwritten bool
	m        inMap
}

// Claimed reports whether a convolution computes the batch norm's output.
func (h *Handoff) Claimed() bool { return h.claimed }

// Release has the batch norm write its output again, and its folded
// quantizer quantize it, for every reader.
func (h *Handoff) Release() { h.claimed = false }

// Quantized names q, the output of the fake quantizer folded into the
// batch norm through its Fold, as the node the convolution reads: call it
// before Conv2dHandoff.
func (h *Handoff) Quantized(q *G.Node) error {
	if h.st == nil || h.st.fold == nil {
		return fmt.Errorf("%w: Handoff.Quantized: the batch norm has no fold", ErrShape)
	}
	h.reader = q
	return nil
}

// BatchNormHandoff is BatchNormFold (hi > 0) whose output, or its folded
// quantizer's when f is not nil, the convolution built by Conv2dHandoff
// with h may compute instead of reading it (see Handoff). Float32.
func BatchNormHandoff(x, gamma, beta, scale *G.Node, s *BNStats, train bool, hi float64, f *Fold, h *Handoff) (*G.Node, error) {
	if h == nil || h.st != nil {
		return nil, fmt.Errorf("%w: BatchNormHandoff: a nil or already used Handoff", ErrShape)
	}
	if !(hi > 0) {
		return nil, fmt.Errorf("%w: BatchNormHandoff: clamp bound %v, want > 0", ErrShape, hi)
	}
	if x.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("%w: BatchNormHandoff: x is %v, a handoff needs float32", ErrDtype, x.Dtype())
	}
	if f != nil && f.handoff != nil {
		return nil, fmt.Errorf("%w: BatchNormHandoff: the Fold already serves a handoff", ErrShape)
	}
	y, err := BatchNormFold(x, gamma, beta, scale, s, train, hi, f)
	if err != nil {
		return nil, err
	}
	st := y.Op().(*bnOp).st
	st.handoff, h.st, h.node, h.reader = h, st, y, y
	if f != nil {
		f.handoff = h
	}
	return y, nil
}

// Conv2dHandoff is Conv2d of x, the output of the BatchNormHandoff built
// with h or of its folded quantizer (Handoff.Quantized). It claims h where
// it will run by Winograd on this CPU and the batch norm's backward does
// not read its output (it recomputes its mask from its input); otherwise
// it is Conv2d.
func Conv2dHandoff(x, w, b *G.Node, p ConvParams, h *Handoff) (*G.Node, error) {
	if h == nil || h.reader == nil || h.reader != x {
		return nil, fmt.Errorf("%w: Conv2dHandoff: x is not what the Handoff's batch norm hands over", ErrShape)
	}
	if h.st.fold != nil && h.reader == h.node {
		// the folded quantizer reads the batch norm's output
		return Conv2d(x, w, b, p)
	}
	return convNode("Conv2d", x, w, b, p, true, convExtra{handoff: h})
}

// claim is Conv2dHandoff's test, on a convolution state st built for x,
// of geometry g.
func (h *Handoff) claim(st *convState, g geom) bool {
	if h.claimed || h.st == nil || !h.st.recomputes || h.st.readsOutput() || h.st.res {
		return false
	}
	saved := st.g
	st.g = g
	ok := st.winograd(true)
	st.g = saved
	if ok {
		h.claimed = true
	}
	return ok
}

// ran records the batch norm's forward run: its output y left unwritten,
// to be computed from x with the map (a, b, hi).
func (h *Handoff) ran(x, y, a, b []float32, hi float32) {
	h.x, h.y, h.written, h.qwritten = x, y, false, false
	h.m = inMap{a: a, b: b, hi: hi}
	if f := h.st.fold; f != nil {
		h.m.fq = &f.fq
	}
}

// input returns what a convolution reads for its input x: x itself and a
// nil map, or, where x is left to it (the batch norm's unwritten output,
// or its folded quantizer's) and wino says the convolution's path applies
// a map (padRowsMap), the batch norm's input and the map. For any other
// path it writes x first.
func (h *Handoff) input(x []float32, wino bool) ([]float32, *inMap) {
	if h == nil || !h.claimed || len(x) == 0 || len(x) != len(h.y) {
		return x, nil
	}
	f := h.st.fold
	switch {
	case f == nil && (h.written || &x[0] != &h.y[0]):
		return x, nil
	case f != nil && (f.fqOf != f.gen || h.qwritten):
		// the quantizer wrote x (it declined to leave it), or x is written
		return x, nil
	case wino:
		return h.x, &h.m
	}
	h.writeOutput()
	if f != nil {
		foldQuantize(x, h.y, &f.fq)
		h.qwritten = true
	}
	return x, nil
}

// writeOutput has the batch norm write its output, where it left it to the
// convolution: its output loop's kernels on every image's planes, split as
// its passes are.
func (h *Handoff) writeOutput() {
	if !h.claimed || h.written || h.y == nil {
		return
	}
	h.written = true
	st, pl := h.st, bnKernelsFor[float32]().planes
	c, inner := st.c, st.inner
	split(bnWorkers(st), st.outer, func(_, lo, hi int) {
		for b := lo; b < hi; b++ {
			o := b * c * inner
			pl.affineAct(h.y[o:], h.x[o:], inner, c, h.m.a, h.m.b, h.m.hi, true, nil)
		}
	})
}
