package kernels

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// InnerQuantizer is a fake quantizer that an op runs between two stages of
// its own (BatchNormQuantAddAct: on the batch norm's output, before the
// residual sum), where a graph would otherwise write the first stage's
// output, quantize it in a pass of its own, and read it back for the
// second. fakequant.Inner returns one.
type InnerQuantizer interface {
	// Prepare observes the n values about to be quantized — by their
	// range [mn, mx] when ok (all finite), else by values(), which
	// computes them (shape is theirs) — and returns the quantizer's
	// constants for this run, c = (s, 1/s, lo, hi, rlo, rhi) as
	// fakequant.QuantizingProducer has them, and the window [wlo, whi] of
	// the inputs whose gradient passes; on is false when the quantizer
	// passes its input through (disabled), the gradient everywhere.
	Prepare(mn, mx float32, ok bool, n int, shape []int, values func() []float32) (c [6]float32, wlo, whi float32, on bool, err error)
}

// BatchNormQuantAddAct is BatchNormScaled (BatchNorm where scale is nil)
// of x, fake-quantized by q, plus the residual r (x's shape), clamped to
// [0, hi] (hi > 0: ReLU for +Inf, ReLU6 for 6), in one op: what
// BatchNormFold with q folded in (fakequant.ApplyFolded), then AddAct of
// the quantizer's output and r compute, the same bits, where those three
// ops wrote the batch norm's output, quantized it in a pass of its own and
// read it back for the sum: a QAT ResNet block's last batch norm, its
// output quantizer and the block's sum. The batch norm's output range, for
// q's observer, comes from a pass over x that writes nothing; the output
// loop then quantizes and adds in registers. f, when not nil, links the
// sum's own folded quantizer (as AddAct's): the output loop records the
// output's range and the backward masks by its window. The gradient of r
// is the sum's (dy where 0 < y < hi and inside f's window), which the
// batch norm's backward takes as its dy, masked by q's window on the
// batch norm's output (recomputed from x). Float32 only.
func BatchNormQuantAddAct(x, gamma, beta, scale, r *G.Node, s *BNStats, train bool, hi float64, q InnerQuantizer, f *Fold) (*G.Node, error) {
	c, err := bnCheck("BatchNormQuantAddAct", x, gamma, beta, s)
	if err != nil {
		return nil, err
	}
	if !(hi > 0) {
		return nil, fmt.Errorf("%w: BatchNormQuantAddAct: clamp bound %v, want > 0", ErrShape, hi)
	}
	if q == nil {
		return nil, fmt.Errorf("%w: BatchNormQuantAddAct: nil quantizer", ErrShape)
	}
	if x.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("%w: BatchNormQuantAddAct: x is %v, want float32", ErrDtype, x.Dtype())
	}
	if err := resCheck("BatchNormQuantAddAct", x, r); err != nil {
		return nil, err
	}
	st := &bnState{stats: s, train: train, res: true, resHi: hi, inq: q, fold: &Fold{}, sumFold: f,
		shape: x.Shape().Clone(), c: c, recomputes: bnRecomputes(x.Dtype())}
	ins := []*G.Node{x, gamma, beta}
	if scale != nil {
		if scale.Shape().TotalSize() != c || scale.Dims() != 1 {
			return nil, fmt.Errorf("%w: BatchNormQuantAddAct: scale is %v for %d channels", ErrShape, scale.Shape(), c)
		}
		if scale.Dtype() != x.Dtype() {
			return nil, fmt.Errorf("%w: BatchNormQuantAddAct: x is %v but scale is %v", ErrDtype, x.Dtype(), scale.Dtype())
		}
		st.scaled = true
		ins = append(ins, scale)
	}
	return G.ApplyOp(&bnOp{opBase: opBase{name: "kernels.BatchNormQuantAddAct"}, st: st}, append(ins, r)...)
}

// bnQuantAdd is BatchNormQuantAddAct's forward after the batch norm's
// maps are set up (bnForward's sums, mid): the statistics, with each
// channel's extremes of x when ext is not nil (extRange), the range of the
// batch norm's output (from the extremes, or else a pass that writes
// nothing), the quantizer's constants from that range, then the output
// loop. planes: the channels' loops go by images (bnPasses); bf holds the
// maps.
func bnQuantAdd(st *bnState, planes bool, sums func(w, b0, b1, j0, j1 int, out []float64, stride int), mid func(j int, s1, s2 float64), x, y, res []float32, bf *bnBufs[float32], ext [][]float32) error {
	kr := bnKernelsFor[float32]()
	pl := kr.planes
	clampF, _ := clampFns[float32]()
	c, inner, outer := st.c, st.inner, st.outer
	nw := bnWorkers(st)
	// fast: the assembly loops, which take the range without writing; the
	// Go loops write the batch norm's output into y and scan it, and
	// finish the sum in y later (y is the op's output either way).
	fast := pl != nil && pl.affineFQAdd != nil
	var rangeApply func(w, b0, b1, j0, j1 int)
	if fast {
		rangeApply = func(int, int, int, int, int) {}
	} else {
		st.fold.resetAcc(nw)
		rangeApply = func(w, b0, b1, j0, j1 int) {
			for b := b0; b < b1; b++ {
				for j := j0; j < j1; j++ {
					o := (b*c + j) * inner
					kr.affineAct(clampF, y[o:o+inner], x[o:o+inner], bf.pa[j], bf.pb[j], 0)
					st.fold.acc[w].Add(y[o : o+inner])
				}
			}
		}
	}
	bnPasses(st, !planes, &bf.psum, &bf.pimg, sums, mid, rangeApply)
	f := st.fold
	switch {
	case !fast:
		f.setRange()
	case ext != nil:
		if f.mn, f.mx, f.rangeOK = extRange(pl, ext, bf, 0, false); f.rangeOK {
			break
		}
		fallthrough
	default:
		f.mn, f.mx, f.rangeOK = rangePass(st, pl, x, bf, 0, false)
	}
	values := func() []float32 {
		if fast {
			split(nw, outer, func(_, lo, hi int) {
				for b := lo; b < hi; b++ {
					o := b * c * inner
					pl.affineAct(y[o:], x[o:], inner, c, bf.pa, bf.pb, 0, false, nil)
				}
			})
		}
		return y
	}
	n := outer * c * inner
	cs, wlo, whi, on, err := st.inq.Prepare(f.mn, f.mx, f.rangeOK, n, []int(st.shape), values)
	if err != nil {
		return err
	}
	f.gen = st.gen
	f.MaskGrad(wlo, whi, !on)
	hi := float32(st.resHi)
	if fast {
		var k *[6]float32
		if on {
			st.fq = cs
			k = &st.fq
		}
		prng := bf.rangeLanes(nw)
		split(nw, outer, func(w, lo, end int) {
			for b := lo; b < end; b++ {
				o := b * c * inner
				pl.affineFQAdd(y[o:], x[o:], res[o:], inner, c, bf.pa, bf.pb, hi, k, &prng[w])
			}
		})
		if sf := st.sumFold; sf != nil {
			sf.setRangeLanes(prng)
			sf.gen = st.gen
		}
		return nil
	}
	sf := st.sumFold
	if sf != nil {
		sf.resetAcc(nw)
	}
	split(nw, outer, func(w, lo, end int) {
		for b := lo; b < end; b++ {
			o := b * c * inner
			p := y[o : o+c*inner]
			if on {
				foldQuantize(p, p, &cs)
			}
			addActTo(p, p, res[o:o+c*inner], st.resHi)
			if sf != nil {
				sf.acc[w].Add(p)
			}
		}
	})
	if sf != nil {
		sf.setRange()
		sf.gen = st.gen
	}
	return nil
}
