package kernels

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Handoff links a training graph's batch norm with a clamp (ReLU or ReLU6,
// BatchNormHandoff) to the one convolution that reads its output
// (Conv2dHandoff). Where that convolution runs by Winograd it computes the
// batch norm's output itself, per channel a·x + b clamped to [0, hi] (the
// batch norm's kernels' bits), as it copies each image into its padded
// planes, in its forward and in its weight gradient; the batch norm then
// leaves its output unwritten: a pass that wrote the whole activation (a
// ResNet block's first batch norm) and the convolution's reads of it
// become reads of the batch norm's input, which its backward keeps anyway.
// Any other path has the batch norm write the output first.
//
// The convolution claims the Handoff when it is built (Claimed); a graph
// in which another op reads the batch norm's output must Release it before
// it runs. One Handoff serves one batch norm.
type Handoff struct {
	claimed bool
	st      *bnState // the batch norm's
	node    *G.Node  // its output
	// of the batch norm's last forward run: its input and its output,
	// written (by the batch norm or on request) or not yet
	x, y    []float32
	written bool
	m       inMap
}

// Claimed reports whether a convolution computes the batch norm's output.
func (h *Handoff) Claimed() bool { return h.claimed }

// Release has the batch norm write its output again, for every reader.
func (h *Handoff) Release() { h.claimed = false }

// BatchNormHandoff is BatchNormAct (hi > 0) whose output the convolution
// built by Conv2dHandoff with h may compute instead of reading it (see
// Handoff). Float32.
func BatchNormHandoff(x, gamma, beta, scale *G.Node, s *BNStats, train bool, hi float64, h *Handoff) (*G.Node, error) {
	if h == nil || h.st != nil {
		return nil, fmt.Errorf("%w: BatchNormHandoff: a nil or already used Handoff", ErrShape)
	}
	if !(hi > 0) {
		return nil, fmt.Errorf("%w: BatchNormHandoff: clamp bound %v, want > 0", ErrShape, hi)
	}
	if x.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("%w: BatchNormHandoff: x is %v, a handoff needs float32", ErrDtype, x.Dtype())
	}
	y, err := BatchNormAct(x, gamma, beta, scale, s, train, hi)
	if err != nil {
		return nil, err
	}
	st := y.Op().(*bnOp).st
	st.handoff, h.st, h.node = h, st, y
	return y, nil
}

// Conv2dHandoff is Conv2d of x, the output of the BatchNormHandoff built
// with h. It claims h where it will run by Winograd on this CPU and the
// batch norm's backward does not read its output (it recomputes its mask
// from its input); otherwise it is Conv2d.
func Conv2dHandoff(x, w, b *G.Node, p ConvParams, h *Handoff) (*G.Node, error) {
	if h == nil || h.node != x {
		return nil, fmt.Errorf("%w: Conv2dHandoff: x is not the output of the Handoff's batch norm", ErrShape)
	}
	return convNode("Conv2d", x, w, b, p, true, convExtra{handoff: h})
}

// claim is Conv2dHandoff's test, on a convolution state st built for x.
func (h *Handoff) claim(st *convState) bool {
	if h.claimed || h.st == nil || !h.st.recomputes || h.st.readsOutput() || h.st.fold != nil || h.st.res {
		return false
	}
	g, err := st.geomFor("Conv2dHandoff", st.xShape, tensor.Shape{st.o, st.xShape[1] / st.p.Groups, st.kh, st.kw})
	if err != nil {
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
	h.x, h.y, h.written = x, y, false
	h.m = inMap{a: a, b: b, hi: hi}
}

// input returns what a convolution reads for its input x: x itself and a
// nil map, or where x is the batch norm's unwritten output and wino says
// the convolution's path applies a map (padRowsMap), the batch norm's
// input and its output map. For any other path it has the batch norm write
// x first.
func (h *Handoff) input(x []float32, wino bool) ([]float32, *inMap) {
	if h == nil || !h.claimed || h.written || len(x) == 0 || len(x) != len(h.y) || &x[0] != &h.y[0] {
		return x, nil
	}
	if wino {
		return h.x, &h.m
	}
	h.write()
	return x, nil
}

// write has the batch norm write its output: its output loop's kernels on
// every image's planes, split as its passes are.
func (h *Handoff) write() {
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
