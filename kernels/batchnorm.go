package kernels

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/qatgo/qatgo/internal/minmax"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BNStats are a batch norm's running statistics, owned by the caller (the
// layer) and shared by the ops of its training and evaluation graphs, which
// read them at every forward run.
type BNStats struct {
	// Mean and Var are the running mean and (unbiased) variance, (C), of
	// the op's dtype. A batch-statistics forward updates them in place.
	Mean, Var *tensor.Dense
	// Momentum weighs the new batch in the running update (PyTorch's 0.1),
	// Eps is added to the variance (PyTorch's 1e-5).
	Momentum, Eps float64
	// Frozen makes a training graph's op use the running statistics, and
	// update nothing, from its next run on (fine-tuning with frozen
	// batch norms); the caller may switch it between runs.
	Frozen bool
}

// BatchNorm returns γ·(x − μ)/√(σ² + ε) + β per channel of x (N,C,H,W) (or
// any (N,C,…)), as PyTorch's BatchNorm2d: in batch mode (train and not
// s.Frozen) μ and σ² are the batch's mean and biased variance over N·H·W,
// and the running statistics move towards the batch's (mean, and variance
// with Bessel's correction) by s.Momentum; otherwise μ, σ² are the running
// statistics. The gradients with respect to x, γ and β are exact for the
// mode of the forward run. γ and β are (C); all share a dtype, Float32 or
// Float64.
//
// The output is computed as a·x + (β − μ·a) with a = γ/√(σ² + ε), as
// PyTorch's CPU kernel does. The batch statistics are computed in one pass, as sums of x − K and
// (x − K)² with K the channel's first element of the batch, which keeps
// float32 sums accurate when the mean is far from 0; the sums are combined
// in float64.
func BatchNorm(x, gamma, beta *G.Node, s *BNStats, train bool) (*G.Node, error) {
	c, err := bnCheck("BatchNorm", x, gamma, beta, s)
	if err != nil {
		return nil, err
	}
	st := &bnState{stats: s, train: train, shape: x.Shape().Clone(), c: c}
	return G.ApplyOp(&bnOp{opBase: opBase{name: "kernels.BatchNorm"}, st: st}, x, gamma, beta)
}

// bnCheck validates a batch norm's operands and returns the channel count.
func bnCheck(name string, x, gamma, beta *G.Node, s *BNStats) (int, error) {
	xs := x.Shape()
	if len(xs) < 2 || xs.TotalSize() < 1 {
		return 0, fmt.Errorf("%w: %s: x %v needs a channel axis", ErrShape, name, xs)
	}
	c := xs[1]
	for _, v := range []*G.Node{gamma, beta} {
		if v.Shape().TotalSize() != c || v.Dims() != 1 {
			return 0, fmt.Errorf("%w: %s: %v is %v for %d channels", ErrShape, name, v.Name(), v.Shape(), c)
		}
		if v.Dtype() != x.Dtype() {
			return 0, fmt.Errorf("%w: %s: x is %v but %v is %v", ErrDtype, name, x.Dtype(), v.Name(), v.Dtype())
		}
	}
	if err := statsCheck(name, s, c, x.Dtype()); err != nil {
		return 0, err
	}
	return c, nil
}

// statsCheck validates running statistics for c channels of dtype dt.
func statsCheck(name string, s *BNStats, c int, dt tensor.Dtype) error {
	if s == nil || s.Mean == nil || s.Var == nil || s.Mean.Shape().TotalSize() != c || s.Var.Shape().TotalSize() != c {
		return fmt.Errorf("%w: %s: running statistics missing or not (%d)", ErrShape, name, c)
	}
	if s.Mean.Dtype() != dt || s.Var.Dtype() != dt {
		return fmt.Errorf("%w: %s: running statistics are %v, x is %v", ErrDtype, name, s.Mean.Dtype(), dt)
	}
	return nil
}

// BatchNormScaled is BatchNorm of x divided per channel by scale (C), in one
// pass over x and without the quotient's tensor: QAT's folded ConvBn divides
// the convolution of the γ/σ-scaled weight back by γ/σ before its batch
// norm, and this op does both. The statistics (running ones included) are
// those of x/scale, as the two ops in sequence give; the gradient with
// respect to scale is that of the composition too. scale must be non-zero.
//
// The division is folded into the per-channel affine map: with z = x/s,
// μ_z = μ_x/s and σ_z² = σ_x²/s², y = (a/s)·x + (β − μ_z·a), a = γ/√(σ_z²+ε).
func BatchNormScaled(x, gamma, beta, scale *G.Node, s *BNStats, train bool) (*G.Node, error) {
	return BatchNormAct(x, gamma, beta, scale, s, train, 0)
}

// BatchNormAct is BatchNorm (or BatchNormScaled when scale is not nil)
// followed by min(max(·, 0), hi) when hi > 0 (hi = +Inf is ReLU, 6 is
// ReLU6), in one op: the clamp runs on each plane right after the batch
// norm writes it, and the backward masks dy with the output (0 < y < hi,
// as ReLU's and ReLU6's gradients) inside the batch norm's passes.
func BatchNormAct(x, gamma, beta, scale *G.Node, s *BNStats, train bool, hi float64) (*G.Node, error) {
	return BatchNormFold(x, gamma, beta, scale, s, train, hi, nil)
}

// BatchNormFold is BatchNormAct whose output feeds a folded fake quantizer
// (fakequant.ApplyFolded) through f, when f is not nil: each forward run
// records the output's min and max for the quantizer's observer, and the
// backward masks dy by the quantizer's window besides the clamp, where a
// separate pass dy·mask would run. The quantizer must run after every
// forward run (the backward fails otherwise). f needs float32 and, in a
// training graph, one BatchNormFold per Fold.
func BatchNormFold(x, gamma, beta, scale *G.Node, s *BNStats, train bool, hi float64, f *Fold) (*G.Node, error) {
	c, err := bnCheck("BatchNormAct", x, gamma, beta, s)
	if err != nil {
		return nil, err
	}
	if !(hi >= 0) {
		return nil, fmt.Errorf("%w: BatchNormAct: clamp bound %v", ErrShape, hi)
	}
	if f != nil && x.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("%w: BatchNormFold: x is %v, a fold needs float32", ErrDtype, x.Dtype())
	}
	if scale == nil {
		st := &bnState{stats: s, train: train, hi: hi, fold: f, shape: x.Shape().Clone(), c: c, recomputes: bnRecomputes(x.Dtype())}
		return G.ApplyOp(&bnOp{opBase: opBase{name: "kernels.BatchNormAct"}, st: st}, x, gamma, beta)
	}
	if scale.Shape().TotalSize() != c || scale.Dims() != 1 {
		return nil, fmt.Errorf("%w: BatchNormScaled: scale is %v for %d channels", ErrShape, scale.Shape(), c)
	}
	if scale.Dtype() != x.Dtype() {
		return nil, fmt.Errorf("%w: BatchNormScaled: x is %v but scale is %v", ErrDtype, x.Dtype(), scale.Dtype())
	}
	st := &bnState{stats: s, train: train, scaled: true, hi: hi, fold: f, shape: x.Shape().Clone(), c: c, recomputes: bnRecomputes(x.Dtype())}
	return G.ApplyOp(&bnOp{opBase: opBase{name: "kernels.BatchNormScaled"}, st: st}, x, gamma, beta, scale)
}

// BatchNormAddAct is BatchNorm of x followed by the residual sum with r (a
// tensor of x's shape) and min(max(·, 0), hi) when hi > 0 — what AddAct
// (hi > 0) or Add (hi = 0) of BatchNorm(x, …) and r computes, the same
// bits, in one op: the sum and its clamp run on each block of planes right
// after the batch norm writes it, instead of in a pass over both tensors
// from memory (a ResNet block's last batch norm with its shortcut). The
// gradient of r is the sum's (dy where 0 < y < hi), which the batch norm's
// backward then takes as its dy.
func BatchNormAddAct(x, gamma, beta, r *G.Node, s *BNStats, train bool, hi float64) (*G.Node, error) {
	c, err := bnCheck("BatchNormAddAct", x, gamma, beta, s)
	if err != nil {
		return nil, err
	}
	if !(hi >= 0) {
		return nil, fmt.Errorf("%w: BatchNormAddAct: clamp bound %v", ErrShape, hi)
	}
	if err := resCheck("BatchNormAddAct", x, r); err != nil {
		return nil, err
	}
	st := &bnState{stats: s, train: train, res: true, resHi: hi, shape: x.Shape().Clone(), c: c}
	return G.ApplyOp(&bnOp{opBase: opBase{name: "kernels.BatchNormAddAct"}, st: st}, x, gamma, beta, r)
}

// resCheck validates a batch norm's residual addend r for x.
func resCheck(name string, x, r *G.Node) error {
	if r == nil || !r.Shape().Eq(x.Shape()) {
		var rs tensor.Shape
		if r != nil {
			rs = r.Shape()
		}
		return fmt.Errorf("%w: %s: residual %v for x %v", ErrShape, name, rs, x.Shape())
	}
	if r.Dtype() != x.Dtype() {
		return fmt.Errorf("%w: %s: x is %v but the residual is %v", ErrDtype, name, x.Dtype(), r.Dtype())
	}
	return nil
}

// bnRecomputes reports whether a batch norm of dt recomputes a clamped
// output in its backward's loops (bnState.recomputes).
func bnRecomputes(dt tensor.Dtype) bool {
	k, ok := vecBnKernels()
	return ok && dt == tensor.Float32 && k.gradSumsRec != nil && k.planes != nil && k.planes.gradSumsRec != nil
}

// foldRangeMin is the smallest plane whose range a folded batch norm
// tracks as it writes it: on smaller planes the per-plane call costs more
// than the quantizer's observer scanning the whole output once.
const foldRangeMin = 256

// Fold links the op that produces an activation — a batch norm
// (BatchNormFold), a ReLU (ReLUFold) or a residual sum with its activation
// (AddAct) — and the fake quantizer that reads it; it implements
// fakequant.Producer. One Fold serves one op. A convolution (Conv2dFold)
// only reports its range: the quantizer's mask is then applied by the max
// pool that reads the quantizer's output (MaxPool2dFold) while the Fold is
// claimed by it (Claimed), or by the quantizer itself.
type Fold struct {
	// claimed: a consumer (MaxPool2dFold) applies the window
	claimed bool
	// of the last forward run
	gen     int
	mn, mx  float32
	rangeOK bool
	acc     []minmax.Acc // per worker
	// the window of the quantizer's mask, and the run it was set for
	lo, hi float32
	all    bool
	maskOf int
	// the quantizer's outputs at lo and hi, and the run they were set for
	// (fakequant.EdgeProducer)
	eLo, eHi float32
	edgesOf  int
	// quantizes: the claiming consumer (MaxPool2dFold) can compute the
	// quantizer's output from its input; fq: the quantizer's constants,
	// and the run for which the quantizer left its output to it
	quantizes bool
	fq        [6]float32
	fqOf      int
	// handoff: the batch norm's (BatchNormHandoff), whose convolution
	// quantizes as it computes the batch norm's output while claimed
	handoff *Handoff
}

// OutputRange returns the min and max of the op's last output; ok is false
// before a run, when the op did not track it (batch-norm planes below
// foldRangeMin values) or when the output holds a NaN or an infinity.
func (f *Fold) OutputRange() (mn, mx float32, ok bool) { return f.mn, f.mx, f.rangeOK }

// resetAcc readies one range accumulator per worker for a forward run.
func (f *Fold) resetAcc(nw int) {
	if cap(f.acc) < nw {
		f.acc = make([]minmax.Acc, nw)
	}
	f.acc = f.acc[:nw]
	for w := range f.acc {
		f.acc[w].Reset()
	}
}

// emptyLanes is the range lanes' start: min +Inf, max −Inf, guard 0.
var emptyLanes = func() (l [3][8]float32) {
	for i := range 8 {
		l[0][i], l[1][i] = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	return l
}()

// setRangeLanes sets the output range from per-worker range lanes (the
// batch-norm planes' output loop), as minmax.Acc's Result reads its own:
// not ok when a guard is not 0 (a NaN or an infinity was written).
func (f *Fold) setRangeLanes(lanes [][3][8]float32) {
	mn, mx := float32(math.Inf(1)), float32(math.Inf(-1))
	var s float32
	for _, l := range lanes {
		for i := range 8 {
			mn, mx, s = min(mn, l[0][i]), max(mx, l[1][i]), s+(l[2][i]-l[2][i])
		}
	}
	f.mn, f.mx, f.rangeOK = mn, mx, s == 0 && mn <= mx
}

// setRange sets the output range from the accumulators.
func (f *Fold) setRange() {
	f.mn, f.mx, f.rangeOK = float32(math.Inf(1)), float32(math.Inf(-1)), true
	for w := range f.acc {
		mn, mx, ok := f.acc[w].Result()
		f.mn, f.mx, f.rangeOK = min(f.mn, mn), max(f.mx, mx), f.rangeOK && ok
	}
}

// Release hands the mask back to the quantizer: a consumer built with
// MaxPool2dFold then computes its plain gradient. Call it before the
// gradient graph is built (nn does when the quantizer's output has another
// reader).
func (f *Fold) Release() { f.claimed = false }

// Claimed reports whether a consumer applies the window.
func (f *Fold) Claimed() bool { return f.claimed }

// track runs work over blocks of [0, len(y)) split between the workers (as
// splitFlat) and adds each block of y to its worker's range accumulator
// right after work wrote it, while it is in L1; then sets the output range
// and counts the run. For elementwise producers (ReLUFold, AddAct).
func (f *Fold) track(y []float32, work func(lo, hi int)) {
	nw := 1
	if len(y) >= parallelMin {
		nw = workersFor(0, 8)
	}
	f.resetAcc(nw)
	split(nw, len(y), func(w, lo, end int) {
		for b := lo; b < end; b += foldBlock {
			e := min(b+foldBlock, end)
			work(b, e)
			f.acc[w].Add(y[b:e])
		}
	})
	f.setRange()
	f.gen++
}

// foldBlock is how many values track has written before it scans them
// (32 KiB: in L1).
const foldBlock = 8192

// checkMask reports an ErrOrder unless the quantizer set its window for
// the op's last forward run.
func (f *Fold) checkMask(op string) error {
	if f.gen == 0 || f.maskOf != f.gen {
		return fmt.Errorf("%w: %s: its folded fake quantizer did not run after the forward run", ErrOrder, op)
	}
	return nil
}

// MaskGrad sets the window lo <= y <= hi in which the gradient of the last
// output passes (all: everywhere).
func (f *Fold) MaskGrad(lo, hi float32, all bool) { f.lo, f.hi, f.all, f.maskOf = lo, hi, all, f.gen }

// MaskEdges sets the quantizer's outputs at the window's ends for the last
// output (after MaskGrad): a max pool reading the quantizer's output then
// applies the window in its forward pass (see poolState.windowed).
func (f *Fold) MaskEdges(eLo, eHi float32) { f.eLo, f.eHi, f.edgesOf = eLo, eHi, f.gen }

// ConsumerQuantizes takes the quantizer's constants for the last output
// (fakequant.QuantizingProducer): true where the op's claiming consumer
// computes the quantized values itself, so that the quantizer writes none.
func (f *Fold) ConsumerQuantizes(c [6]float32) bool {
	if f.gen == 0 || !(f.claimed && f.quantizes || f.handoff != nil && f.handoff.claimed) {
		return false
	}
	f.fq, f.fqOf = c, f.gen
	return true
}

// WriteOutput writes the op's last output where a convolution was to
// compute it (a claimed Handoff): the quantizer calls it before it reads
// its input (fakequant.DeferredProducer).
func (f *Fold) WriteOutput() {
	if h := f.handoff; h != nil {
		h.writeOutput()
	}
}

// bnState is shared by a batch norm's forward and gradient ops.
type bnState struct {
	stats *BNStats
	train bool
	// dxPlan: dx's shared buffer (PlanBuffers)
	dxPlan outPlan
	// scaled: the op's fourth input divides x per channel (BatchNormScaled).
	scaled bool
	// hi > 0: the output is clamped to [0, hi] (BatchNormAct).
	hi float64
	// fold, when not nil, links the op to a folded fake quantizer.
	fold *Fold
	// handoff, when not nil, links the op to the convolution that may
	// compute its output (BatchNormHandoff).
	handoff *Handoff
	// res: the op's last input is a residual addend (BatchNormAddAct),
	// the sum clamped to [0, resHi] when resHi > 0 (hi is then 0)
	res   bool
	resHi float64
	// inq: the batch norm's output is fake-quantized by inq before the
	// sum (BatchNormQuantAddAct; fold then holds inq's window for the
	// backward), and sumFold, when not nil, is the sum's folded
	// quantizer's; fq: inq's constants of the last run
	inq     InnerQuantizer
	sumFold *Fold
	fq      [6]float32
	// recomputes: the backward recomputes a clamped output from x inside
	// its masked loops (float32 where the build has them) rather than
	// reading it: two streams instead of three, and the output's bits
	// (the same output map and kernels as the forward's)
	recomputes bool
	shape      tensor.Shape
	c          int

	// of the last forward run
	outer, inner int
	batch        bool
	mean, istd   []float64 // per channel
	pivot        []float64 // K per channel
	scale        []float64 // the divisor per channel (scaled only)
	gen          int       // forward runs so far
	planesRange  bool      // the fold's range was taken in the output loop

	// of the last backward computation, shared by the three gradient ops
	done int // gen it was computed for
	f32  bnBufs[float32]
	f64  bnBufs[float64]
}

type bnBufs[T float] struct {
	dx, dgamma, dbeta, dscale *tensor.Dense
	// dym holds, per worker, one plane of dy masked by the clamp's
	// gradient (a plane stays in L1; a whole masked copy of dy was written
	// out to memory and read back)
	dym [][]T
	// ym holds, per worker, the output's planes the backward recomputes
	// (see bnBackward)
	ym [][]T
	// per channel, for bnPlanes: pivots, the forward's output map (pa·x +
	// pb), the backward's dx map (pabc: a, b, c), sums
	pk, pa, pb, pabc []T
	psum             []float64
	// per image, its planes' sums (bnPasses on several workers)
	pimg []float64
	// per worker, the output's range lanes of a folded batch norm's planes
	prng [][3][8]float32
	// per worker, the channels' extremes of x (extremes), and extRange's
	// scratch
	pext [][]T
	pexy []T
}

// rangeLanes returns nw workers' range lanes of a fold, emptied.
func (bf *bnBufs[T]) rangeLanes(nw int) [][3][8]float32 {
	if cap(bf.prng) < nw {
		bf.prng = make([][3][8]float32, nw)
	}
	prng := bf.prng[:nw]
	for w := range prng {
		prng[w] = emptyLanes
	}
	return prng
}

func bnBufsFor[T float](s *bnState) *bnBufs[T] {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(&s.f32).(*bnBufs[T])
	}
	return any(&s.f64).(*bnBufs[T])
}

// bnKernels are the per-plane loops of the batch norm.
type bnKernels[T float] struct {
	// sums returns Σ(x − k) and Σ(x − k)².
	sums func(x []T, k T) (s1, s2 float64)
	// gradSums returns Σ dy and Σ dy·(x − k).
	gradSums func(dy, x []T, k T) (sdy, sdyx float64)
	// affine sets y = a·x + b.
	affine func(y, x []T, a, b T)
	// affine2 sets dx = a·dy + b·x + c.
	affine2 func(dx, dy, x []T, a, b, c T)
	// gradSumsRec and affine2Rec, where a build has them, are gradSums and
	// affine2 of dy masked by the ReLU/ReLU6 gradient of the output y and a
	// folded quantizer's window (windowGradGeneric's, lo and hi), y the
	// output map of x (ya·x + yb, clamped to [0, chi] when clamp)
	// recomputed in their loops: the same bits as affineAct into a buffer,
	// a masked copy of dy and the plain loops on it.
	gradSumsRec func(dy, x []T, ya, yb, chi T, clamp bool, k, lo, hi T) (sdy, sdyx float64)
	affine2Rec  func(dx, dy, x []T, ya, yb, chi T, clamp bool, a, b, c, lo, hi T)
	// affineClamp, where a build has it, is affine then clamp to [0, hi]
	// (clampFns' forward) in one pass, the same bits.
	affineClamp func(y, x []T, a, b, hi T)
	// planes, where a build has them, run the loops above over a block of
	// adjacent planes (an image's channels) in one call.
	planes *bnPlanes[T]
}

// bnPlanes are the batch norm's loops over count adjacent planes of inner
// values (channels of one image; the slices start at the first plane), each
// with its channel's parameters, in one call: the same bits as the
// per-plane loops of bnKernels, and a channel's sums still add in image
// order. A call per plane cost more than the arithmetic on small planes,
// and a channel's planes lie a whole image apart, beyond the prefetchers.
type bnPlanes[T float] struct {
	// sums adds sums(plane p, k[p]) to out[2p], out[2p+1].
	sums func(x []T, inner, count int, k []T, out []float64)
	// sumsExt is sums that also takes plane p's min and max into ext[2p]
	// and ext[2p+1] (min and max with what they hold): a channel's
	// extremes, for the range of its output map. Nil where a build lacks
	// it.
	sumsExt func(x []T, inner, count int, k []T, out []float64, ext []T)
	// gradSums adds gradSums of plane p with k[p] to out[2p], out[2p+1].
	gradSums func(dy, x []T, inner, count int, k []T, out []float64)
	// affineAct is affineAct of plane p with a[p], b[p], clamping to
	// [0, hi] when clamp is set; with rng not nil it also folds the values
	// written into rng's lanes (min, max, guard Σ y − y), starting from
	// what rng holds. A nil y writes nothing: the range alone.
	affineAct func(y, x []T, inner, count int, a, b []T, hi T, clamp bool, rng *[3][8]float32)
	// affine2 is affine2 of plane p with abc[3p:3p+3].
	affine2 func(dx, dy, x []T, inner, count int, abc []T)
	// affineAdd is affineAct without range, plus r before the clamp:
	// BatchNormAddAct's output loop, the same bits as affineAct (clamp
	// off) then addActTo.
	affineAdd func(y, x, r []T, inner, count int, a, b []T, hi T, clamp bool)
	// affineFQAdd is affineAdd with the clamp on, the batch norm's output
	// fake-quantized before the sum with the constants fq (s, 1/s, lo,
	// hi, rlo, rhi: foldQuantize's; nil: not quantized), and every value
	// written folded into rng's lanes as affineAct folds them:
	// BatchNormQuantAddAct's output loop, the same bits as affineAct,
	// foldQuantize and addActTo in turn.
	affineFQAdd func(y, x, r []T, inner, count int, a, b []T, hi T, fq *[6]float32, rng *[3][8]float32)
	// gradSumsRec and affine2Rec are gradSums and affine2, masked, with
	// plane p's y the output map of x (ya[p]·x + yb[p], clamped to [0,
	// chi] when clamp) recomputed in the loops: affineAct's bits without
	// its buffer. Nil where a build lacks them.
	gradSumsRec func(dy, x []T, inner, count int, ya, yb []T, chi T, clamp bool, k []T, lo, hi T, out []float64)
	affine2Rec  func(dx, dy, x []T, inner, count int, ya, yb []T, chi T, clamp bool, abc []T, lo, hi T)
}

// planesMax bounds the planes bnPlanes takes: on larger ones a call per
// plane costs little, and going through the channel's planes while they are
// in cache (stats, then output) measured faster than two passes over the
// whole block; their fold ranges are also tracked per plane.
const planesMax = foldRangeMin

// affineAct sets y = a·x + b, then clamps it to [0, hi] by clamp (clampFns'
// forward) when hi > 0: the batch norm's output map with its activation.
func (kr *bnKernels[T]) affineAct(clamp func(y, x []T, hi T), y, x []T, a, b T, hi float64) {
	if hi > 0 && kr.affineClamp != nil {
		kr.affineClamp(y, x, a, b, T(hi))
		return
	}
	kr.affine(y, x, a, b)
	if hi > 0 {
		clamp(y, y, T(hi))
	}
}

func bnKernelsFor[T float]() bnKernels[T] {
	if k, ok := vecBnKernels(); ok {
		if kT, ok := any(k).(bnKernels[T]); ok {
			return kT
		}
	}
	return bnKernels[T]{sums: sumsGeneric[T], gradSums: gradSumsGeneric[T], affine: affineGeneric[T], affine2: affine2Generic[T]}
}

func sumsGeneric[T float](x []T, k T) (s1, s2 float64) {
	var a, b T
	for _, v := range x {
		d := v - k
		a += d
		b += d * d
	}
	return float64(a), float64(b)
}

func gradSumsGeneric[T float](dy, x []T, k T) (sdy, sdyx float64) {
	var a, b T
	x = x[:len(dy)]
	for i, g := range dy {
		a += g
		b += g * (x[i] - k)
	}
	return float64(a), float64(b)
}

func affineGeneric[T float](y, x []T, a, b T) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = a*v + b
	}
}

func affine2Generic[T float](dx, dy, x []T, a, b, c T) {
	dx, x = dx[:len(dy)], x[:len(dy)]
	for i, g := range dy {
		dx[i] = a*g + b*x[i] + c
	}
}

type bnOp struct {
	opBase
	st  *bnState
	out *tensor.Dense
}

func (o *bnOp) Arity() int { return o.st.arity() }

// String names the op, and says when a convolution computes its output
// (a claimed Handoff).
func (o *bnOp) String() string {
	if h := o.st.handoff; h != nil && h.claimed {
		return o.name + " (handoff)"
	}
	return o.name
}
func (o *bnOp) Type() hm.Type {
	n := len(o.st.shape)
	in := []int{n, 1, 1}
	if o.st.scaled {
		in = append(in, 1)
	}
	if o.st.res {
		in = append(in, n)
	}
	return opType(n, in...)
}
func (o *bnOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *bnOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *bnOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, o.st.arity())
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func (st *bnState) arity() int {
	n := 3
	if st.scaled {
		n++
	}
	if st.res {
		n++
	}
	return n
}

func (o *bnOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, o.st.arity())
	if err != nil {
		return nil, err
	}
	st := o.st
	xs := in[0].Shape()
	if len(xs) < 2 || xs[1] != st.c || in[1].Shape().TotalSize() != st.c || in[2].Shape().TotalSize() != st.c {
		return nil, fmt.Errorf("%w: %s: x %v, γ %v, β %v for %d channels", ErrShape, o.name, xs, in[1].Shape(), in[2].Shape(), st.c)
	}
	if st.stats.Mean.Dtype() != dt || st.stats.Var.Dtype() != dt {
		return nil, fmt.Errorf("%w: %s: running statistics are %v, x is %v", ErrDtype, o.name, st.stats.Mean.Dtype(), dt)
	}
	if st.res && !in[st.arity()-1].Shape().Eq(xs) {
		return nil, fmt.Errorf("%w: %s: residual %v for x %v", ErrShape, o.name, in[st.arity()-1].Shape(), xs)
	}
	st.outer, st.inner = xs[0], xs.TotalSize()/(xs[0]*st.c)
	st.batch = st.train && !st.stats.Frozen
	st.gen++
	if len(st.mean) != st.c {
		st.mean, st.istd, st.pivot = make([]float64, st.c), make([]float64, st.c), make([]float64, st.c)
	}
	if st.scaled {
		if in[3].Shape().TotalSize() != st.c {
			return nil, fmt.Errorf("%w: %s: scale %v for %d channels", ErrShape, o.name, in[3].Shape(), st.c)
		}
		st.scale = grow(st.scale, st.c)
		if dt == tensor.Float32 {
			for j, v := range in[3].Data().([]float32) {
				st.scale[j] = float64(v)
			}
		} else {
			copy(st.scale, in[3].Data().([]float64))
		}
	}
	out := reuseOut(&o.out, dt, xs...)
	if dt == tensor.Float32 {
		if err := bnForward(st, in, out.Data().([]float32)); err != nil {
			return nil, fmt.Errorf("%s: %w", o.name, err)
		}
		if f := st.fold; f != nil && st.inq == nil {
			f.gen = st.gen
			switch {
			case st.planesRange:
				// taken from the output loop's lanes
			case st.inner >= foldRangeMin:
				f.setRange()
			default:
				f.rangeOK = false
			}
		}
	} else {
		if st.fold != nil {
			return nil, fmt.Errorf("%w: %s: a fold needs float32, x is %v", ErrDtype, o.name, dt)
		}
		if err := bnForward(st, in, out.Data().([]float64)); err != nil {
			return nil, fmt.Errorf("%s: %w", o.name, err)
		}
	}
	return out, nil
}

func bnForward[T float](st *bnState, in []*tensor.Dense, y []T) error {
	st.planesRange = false
	kr := bnKernelsFor[T]()
	clampF, _ := clampFns[T]()
	x, gamma, beta := in[0].Data().([]T), in[1].Data().([]T), in[2].Data().([]T)
	rm, rv := st.stats.Mean.Data().([]T), st.stats.Var.Data().([]T)
	c, inner, outer := st.c, st.inner, st.outer
	m := float64(outer * inner)
	mom, eps := st.stats.Momentum, st.stats.Eps
	// BatchNormAddAct's addend, summed into each block of planes just
	// written (the same kernels as AddAct's, so the same bits).
	var res []T
	if st.res {
		res = in[st.arity()-1].Data().([]T)
	}
	addRes := func(o, n int) {
		if res != nil {
			addActTo(y[o:o+n], y[o:o+n], res[o:o+n], st.resHi)
		}
	}
	// With a fold each worker keeps the range of the planes it wrote (in
	// cache just after the write).
	var rng func(w int, y []T)
	if f := st.fold; f != nil && inner >= foldRangeMin && st.inq == nil {
		f.resetAcc(bnWorkers(st))
		rng = func(w int, y []T) { f.acc[w].Add(any(y).([]float32)) }
	}
	// affine sets channel j's statistics from its sums (batch mode) and
	// returns its output map.
	affine := func(j int, s1, s2 float64) (a, sh float64) {
		k := st.pivot[j]
		if st.batch {
			d := s1 / m // mean − K
			q := max(s2-s1*d, 0)
			mu, vr := k+d, q/m
			if st.scaled {
				// the statistics of x/s
				sc := st.scale[j]
				mu, vr, q = mu/sc, vr/(sc*sc), q/(sc*sc)
			}
			st.mean[j], st.istd[j] = mu, 1/math.Sqrt(vr+eps)
			unbiased := vr
			if m > 1 {
				unbiased = q / (m - 1)
			}
			rm[j] = T((1-mom)*float64(rm[j]) + mom*mu)
			rv[j] = T((1-mom)*float64(rv[j]) + mom*unbiased)
		} else {
			st.mean[j], st.istd[j] = float64(rm[j]), 1/math.Sqrt(float64(rv[j])+eps)
		}
		sc := 1.0
		if st.scaled {
			sc = st.scale[j]
		}
		return bnAffine(st.mean[j], st.istd[j], float64(gamma[j]), float64(beta[j]), sc)
	}
	// The output map (pa·x + pb per channel) stays for the backward, which
	// recomputes the output's mask from x rather than reading y.
	bf := bnBufsFor[T](st)
	bf.pa, bf.pb, bf.pk = grow(bf.pa, c), grow(bf.pb, c), grow(bf.pk, c)
	// The residual sum in the output loop itself, where the build has it
	var addLoop func(o, inner, count, j0, j1 int)
	if pl := kr.planes; res != nil && pl != nil && pl.affineAdd != nil {
		addLoop = func(o, inner, count, j0, j1 int) {
			pl.affineAdd(y[o:], x[o:], res[o:], inner, count, bf.pa[j0:j1], bf.pb[j0:j1], T(st.resHi), st.resHi > 0)
		}
	}
	for j := range c {
		bf.pk[j] = x[j*inner]
		st.pivot[j] = float64(bf.pk[j])
	}
	mid := func(j int, s1, s2 float64) {
		a, sh := affine(j, s1, s2)
		bf.pa[j], bf.pb[j] = T(a), T(sh)
	}
	var sums func(w, b0, b1, j0, j1 int, out []float64, stride int)
	var apply func(w, b0, b1, j0, j1 int)
	// A fold's range on small planes comes from the output loop's own
	// lanes, each worker's (the quantizer scanned the whole output again).
	var prng [][3][8]float32
	pl := kr.planes
	planes := pl != nil && inner < planesMax && rng == nil
	switch {
	case planes:
		sums = func(_, b0, b1, j0, j1 int, out []float64, stride int) {
			for b := b0; b < b1; b++ {
				pl.sums(x[(b*c+j0)*inner:], inner, j1-j0, bf.pk[j0:j1], out[(b-b0)*stride:])
			}
		}
		apply = func(w, b0, b1, j0, j1 int) {
			var r *[3][8]float32
			if prng != nil {
				r = &prng[w]
			}
			for b := b0; b < b1; b++ {
				o := (b*c + j0) * inner
				if addLoop != nil {
					addLoop(o, inner, j1-j0, j0, j1)
					continue
				}
				pl.affineAct(y[o:], x[o:], inner, j1-j0, bf.pa[j0:j1], bf.pb[j0:j1], T(st.hi), st.hi > 0, r)
				addRes(o, (j1-j0)*inner)
			}
		}
	default:
		sums = func(_, b0, b1, j0, j1 int, out []float64, stride int) {
			for b := b0; b < b1; b++ {
				ob := out[(b-b0)*stride:]
				bnAhead(st, j0, j1, b, b1, x)
				for j := j0; j < j1; j++ {
					o := (b*c + j) * inner
					a, q := kr.sums(x[o:o+inner], bf.pk[j])
					ob[2*(j-j0)] += a
					ob[2*(j-j0)+1] += q
				}
			}
		}
		apply = func(w, b0, b1, j0, j1 int) {
			for b := b0; b < b1; b++ {
				bnAhead(st, j0, j1, b, b1, y, res)
				for j := j0; j < j1; j++ {
					o := (b*c + j) * inner
					if addLoop != nil {
						addLoop(o, inner, 1, j, j+1)
						continue
					}
					kr.affineAct(clampF, y[o:o+inner], x[o:o+inner], bf.pa[j], bf.pb[j], st.hi)
					addRes(o, inner)
					if rng != nil {
						rng(w, y[o:o+inner])
					}
				}
			}
		}
	}
	if !st.batch {
		sums = nil
	}
	// A folded quantizer's range of an output the op does not write (a
	// claimed Handoff's; BatchNormQuantAddAct's batch norm output, which it
	// quantizes before any of it is written) follows from each channel's
	// extremes of x, which the sums pass takes on the way (extRange);
	// without them (running statistics, NaN or infinite values) a pass over
	// x that writes nothing takes it (rangePass).
	h := st.handoff
	var ext [][]T
	if sums != nil && pl != nil && pl.sumsExt != nil && (st.inq != nil || h != nil && h.claimed && st.fold != nil) {
		ext = bf.extremes(bnWorkers(st), c)
		if planes {
			sums = func(w, b0, b1, j0, j1 int, out []float64, stride int) {
				for b := b0; b < b1; b++ {
					pl.sumsExt(x[(b*c+j0)*inner:], inner, j1-j0, bf.pk[j0:j1], out[(b-b0)*stride:], ext[w][2*j0:])
				}
			}
		} else {
			sums = func(w, b0, b1, j0, j1 int, out []float64, stride int) {
				for b := b0; b < b1; b++ {
					ob := out[(b-b0)*stride:]
					bnAhead(st, j0, j1, b, b1, x)
					for j := j0; j < j1; j++ {
						pl.sumsExt(x[(b*c+j)*inner:], inner, 1, bf.pk[j:j+1], ob[2*(j-j0):], ext[w][2*j:])
					}
				}
			}
		}
	}
	if st.inq != nil {
		bf32, is32 := any(bf).(*bnBufs[float32])
		if !is32 {
			return fmt.Errorf("%w: a quantizer inside the batch norm needs float32", ErrDtype)
		}
		ext32, _ := any(ext).([][]float32)
		return bnQuantAdd(st, planes, sums, mid, any(x).([]float32), any(y).([]float32), any(res).([]float32), bf32, ext32)
	}
	// A claimed Handoff's convolution computes the output itself; a fold's
	// range then comes from extRange or rangePass, and otherwise on small
	// planes from the output loop's lanes.
	handoff := h != nil && h.claimed
	if handoff {
		apply = func(int, int, int, int, int) {}
	}
	rangeOf := handoff && st.fold != nil
	if planes && st.fold != nil && !handoff {
		prng = bf.rangeLanes(bnWorkers(st))
	}
	bnPasses(st, !planes, &bf.psum, &bf.pimg, sums, mid, apply)
	if handoff {
		h.ran(any(x).([]float32), any(y).([]float32), any(bf.pa[:c]).([]float32), any(bf.pb[:c]).([]float32), float32(st.hi))
	}
	if rangeOf {
		bf32 := any(bf).(*bnBufs[float32])
		f := st.fold
		var ok bool
		if ext != nil {
			f.mn, f.mx, ok = extRange(pl32(pl), any(ext).([][]float32), bf32, float32(st.hi), true)
		}
		if !ok {
			f.mn, f.mx, ok = rangePass(st, pl32(pl), any(x).([]float32), bf32, float32(st.hi), true)
		}
		f.rangeOK = ok
		st.planesRange = true
	}
	if prng != nil {
		st.fold.setRangeLanes(prng)
		st.planesRange = true
	}
	return nil
}

// pl32 is a float32 build's planes loops.
func pl32[T float](pl *bnPlanes[T]) *bnPlanes[float32] { return any(pl).(*bnPlanes[float32]) }

// extremes returns nw workers' per-channel extremes (min at 2j, max at
// 2j+1), emptied.
func (bf *bnBufs[T]) extremes(nw, c int) [][]T {
	for len(bf.pext) < nw {
		bf.pext = append(bf.pext, nil)
	}
	e := bf.pext[:nw]
	inf := T(math.Inf(1))
	for w := range e {
		e[w] = grow(e[w], 2*c)
		for j := range c {
			e[w][2*j], e[w][2*j+1] = inf, -inf
		}
	}
	return e
}

// extRange returns the min and max over the channels' outputs of the
// output map (bf.pa[j]·x + bf.pb[j], clamped to [0, hi] when clamp) from
// each channel's extremes of x (ext, per worker), computed by the loop
// that computes the outputs: the map is monotone in x, and so is its
// rounding, so the extremes' images are the outputs' extremes. ok is false
// where a channel's sums (bf.psum) are not finite: its x held a NaN or an
// infinity, or its sums overflowed.
func extRange(pl *bnPlanes[float32], ext [][]float32, bf *bnBufs[float32], hi float32, clamp bool) (mn, mx float32, ok bool) {
	c := len(ext[0]) / 2
	xs := grow(bf.pexy, 4*c)
	bf.pexy = xs
	for j := range c {
		if s1, s2 := bf.psum[2*j], bf.psum[2*j+1]; math.IsInf(s1, 0) || math.IsInf(s2, 0) || s1 != s1 || s2 != s2 {
			return 0, 0, false
		}
		lo, up := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, e := range ext {
			lo, up = min(lo, e[2*j]), max(up, e[2*j+1])
		}
		xs[2*j], xs[2*j+1] = lo, up
	}
	ys := xs[2*c:]
	pl.affineAct(ys, xs, 2, c, bf.pa, bf.pb, hi, clamp, nil)
	mn, mx = float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range ys {
		mn, mx = min(mn, v), max(mx, v)
	}
	inf := float32(math.Inf(1))
	return mn, mx, mn <= mx && mn > -inf && mx < inf
}

// rangePass returns the min and max of the output map (as extRange) over
// x in a pass that writes nothing, split over the workers as the batch
// norm's passes; ok is false when an output is a NaN or infinite.
func rangePass(st *bnState, pl *bnPlanes[float32], x []float32, bf *bnBufs[float32], hi float32, clamp bool) (mn, mx float32, ok bool) {
	c, inner := st.c, st.inner
	prng := bf.rangeLanes(bnWorkers(st))
	split(len(prng), st.outer, func(w, lo, end int) {
		for b := lo; b < end; b++ {
			o := b * c * inner
			pl.affineAct(nil, x[o:], inner, c, bf.pa, bf.pb, hi, clamp, &prng[w])
		}
	})
	var f Fold
	f.setRangeLanes(prng)
	return f.mn, f.mx, f.rangeOK
}

// bnWorkers is how many goroutines a batch norm's passes split the images
// over: as many as the convolutions that write and read its planes.
func bnWorkers(st *bnState) int {
	if st.outer*st.c*st.inner >= parallelMin {
		return workersFor(0, st.outer)
	}
	return 1
}

// bnPasses runs a batch norm's two passes over its planes: sums (nil: no
// sums) adds two sums per plane of images b0..b1−1, channels j0..j1−1 to
// out (image b's from out[(b−b0)·stride]: stride 0 adds them up in image
// order), mid turns channel j's totals into its map, apply writes the
// planes of images b0..b1−1, channels j0..j1−1; w names the worker, whose
// scratch they may use. A call covers many planes: a call per plane cost
// 6–15% of a batch norm on 28×28 planes.
//
// Both passes split the images between the workers as the convolutions
// before and after do, so a core reads the planes it wrote: a core read
// planes the other had just written at 25–43 GB/s against 95–250 GB/s for
// its own on the 2-core VM (bench/crosscore; 51–77 against 233 GB/s from
// the other core's L2 where the VM's two cores shared an L3), and split by
// channels half of every batch norm's input and of the next convolution's
// came from the other core. Each image's sums go to their own slots, added
// in image order afterwards: a channel's totals have the same bits on any
// number of workers. One worker with chanMajor goes channel by channel
// (sums, map, output) while the channel's planes are still in cache.
func bnPasses(st *bnState, chanMajor bool, psum, pimg *[]float64, sums func(w, b0, b1, j0, j1 int, out []float64, stride int), mid func(j int, s1, s2 float64), apply func(w, b0, b1, j0, j1 int)) {
	c, outer, nw := st.c, st.outer, bnWorkers(st)
	s := grow(*psum, 2*c)
	*psum = s
	clear(s)
	if nw == 1 && chanMajor {
		for j := range c {
			if sums != nil {
				sums(0, 0, outer, j, j+1, s[2*j:2*j+2], 0)
			}
			mid(j, s[2*j], s[2*j+1])
			apply(0, 0, outer, j, j+1)
		}
		return
	}
	switch {
	case sums == nil:
	case nw == 1:
		sums(0, 0, outer, 0, c, s, 0)
	default:
		img := grow(*pimg, 2*c*outer)
		*pimg = img
		clear(img)
		split(nw, outer, func(w, lo, hi int) { sums(w, lo, hi, 0, c, img[2*c*lo:], 2*c) })
		for b := range outer {
			for i, v := range img[2*c*b : 2*c*(b+1)] {
				s[i] += v
			}
		}
	}
	for j := range c {
		mid(j, s[2*j], s[2*j+1])
	}
	split(nw, outer, func(w, lo, hi int) { apply(w, lo, hi, 0, c) })
}

func (o *bnOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func (o *bnOp) SymDiff(ins G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if len(ins) != o.st.arity() {
		return nil, fmt.Errorf("%w: %s: %d inputs", ErrShape, o.name, len(ins))
	}
	res := make(G.Nodes, len(ins))
	n := len(ins) // the batch norm's inputs
	if o.st.res {
		// The sum's gradient, for r and as the batch norm's dy.
		if o.st.resHi > 0 {
			name := "kernels.BatchNormAddActGrad"
			if o.st.inq != nil {
				name = "kernels.BatchNormQuantAddActGrad"
			}
			g, err := G.ApplyOp(&clampGradOp{opBase: opBase{name: name}, st: &eltState{shape: o.st.shape.Clone()}, hi: o.st.resHi, fold: o.st.sumFold}, out, grad)
			if err != nil {
				return nil, err
			}
			grad = g
		}
		n--
		res[n] = grad
	}
	for w := range n {
		op := &bnGradOp{opBase: opBase{name: fmt.Sprintf("kernels.BatchNormGrad%d", w)}, st: o.st, which: w}
		args := []*G.Node{ins[0], ins[1], grad}
		if o.st.readsOutput() {
			args = append(args, out) // the clamp's mask
		}
		var err error
		if res[w], err = G.ApplyOp(op, args...); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// bnGradOp: (x, γ, dy) → dx (which 0), dγ (1), dβ (2) or d scale (3). The
// first of them to run after a forward computes all of them.
type bnGradOp struct {
	opBase
	noDiff
	st    *bnState
	which int
}

func (o *bnGradOp) Arity() int {
	if o.st.readsOutput() {
		return 4
	}
	return 3
}

// masked reports whether the backward masks dy by the output: a clamp or a
// fold.
func (st *bnState) masked() bool { return st.hi > 0 || st.fold != nil }

// readsOutput reports whether the backward reads the output for its mask.
// A folded op's backward recomputes it from x instead (see bnBackward): its
// quantizer then writes over the output, which nothing else reads. A
// clamp's read it, which measured faster than recomputing it into a buffer
// (the output stays anyway as the next layer's input); recomputed inside
// the masked loops (recomputes), reading two streams instead of three, it
// is as fast or faster (MobileNetV2's FP32 step 1–5% faster, resnet20's
// and vgg-small's within noise), and the clamp and the fold share one
// backward.
func (st *bnState) readsOutput() bool { return st.hi > 0 && st.fold == nil && !st.recomputes }
func (o *bnGradOp) Type() hm.Type {
	n := len(o.st.shape)
	in := []int{n, 1, n}
	if o.st.readsOutput() {
		in = append(in, n)
	}
	if o.which == 0 {
		return opType(n, in...)
	}
	return opType(1, in...)
}
func (o *bnGradOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *bnGradOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *bnGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, o.Arity())
	if err != nil {
		return nil, err
	}
	if o.which == 0 {
		return s[0].Clone(), nil
	}
	return tensor.Shape{o.st.c}, nil
}

func (o *bnGradOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, o.Arity())
	if err != nil {
		return nil, err
	}
	st := o.st
	if st.gen == 0 || in[0].Shape().TotalSize() != st.outer*st.c*st.inner || !in[2].Shape().Eq(in[0].Shape()) ||
		(st.readsOutput() && !in[3].Shape().Eq(in[0].Shape())) {
		return nil, fmt.Errorf("%w: %s: x %v, dy %v do not match the forward", ErrShape, o.name, in[0].Shape(), in[2].Shape())
	}
	if f := st.fold; f != nil {
		if err := f.checkMask(o.name); err != nil {
			return nil, err
		}
	}
	if dt == tensor.Float32 {
		return bnGrad[float32](o, in), nil
	}
	return bnGrad[float64](o, in), nil
}

func bnGrad[T float](o *bnGradOp, in []*tensor.Dense) G.Value {
	st := o.st
	bf := bnBufsFor[T](st)
	dt := in[0].Dtype()
	plan := st.dxPlan
	plan.poison = plan.poison && st.done != st.gen // the first of the ops to run writes dx
	dx := plannedOut(&bf.dx, plan, dt, in[0].Shape()...)
	dg := reuseOut(&bf.dgamma, dt, st.c)
	db := reuseOut(&bf.dbeta, dt, st.c)
	var ds []T
	if st.scaled {
		ds = reuseOut(&bf.dscale, dt, st.c).Data().([]T)
	}
	if st.done != st.gen {
		st.done = st.gen
		if st.masked() {
			// Per worker: a plane of masked dy and of the recomputed
			// output (the Go loops').
			nw := bnWorkers(st)
			if len(bf.dym) < nw {
				bf.dym = append(bf.dym, make([][]T, nw-len(bf.dym))...)
				bf.ym = append(bf.ym, make([][]T, nw-len(bf.ym))...)
			}
			for w := range bf.dym[:nw] {
				bf.dym[w] = grow(bf.dym[w], st.inner)
				bf.ym[w] = grow(bf.ym[w], st.inner)
			}
		}
		var y []T
		if st.readsOutput() {
			y = in[3].Data().([]T)
		}
		bnBackward(st, in[0].Data().([]T), in[1].Data().([]T), in[2].Data().([]T), y, bf.dym, bf.ym, dx.Data().([]T), dg.Data().([]T), db.Data().([]T), ds)
	}
	switch o.which {
	case 0:
		return dx
	case 1:
		return dg
	case 2:
		return db
	}
	return bf.dscale
}

// bnBackward sets dx, dγ, dβ and, for a scaled op, d scale (ds). A
// clamped or folded op masks dy by its output: y, or where y is nil
// (bnState.readsOutput), the output recomputed from x, which each pass
// reads anyway, with the forward's output map and arithmetic: the same
// bits as the output, which a folded quantizer may have overwritten. Where
// the build has them the loops recompute it in registers (gradSumsRec,
// affine2Rec); the Go loops recompute a plane into ym[w], and dym[w] (one
// plane per worker) receives dy masked by the window just before each pass
// reads it: twice per plane (the same bits both times), where a whole
// masked copy of dy cost a write to memory and a read back.
func bnBackward[T float](st *bnState, x, gamma, dy, y []T, dym, ym [][]T, dx, dg, db, ds []T) {
	kr := bnKernelsFor[T]()
	_, clampG := clampFns[T]()
	c, inner, outer := st.c, st.inner, st.outer
	m := float64(outer * inner)
	masked := st.masked()
	wlo, whi := st.window()
	maskDy := func(plane, y, g []T) {
		if st.fold == nil {
			clampG(plane, y, g, T(st.hi))
			return
		}
		windowGradGeneric(plane, y, g, T(wlo), T(whi))
	}
	// coef sets channel j's parameter gradients from its sums and returns
	// its dx map (a, b, c: dx = a·dy + b·x + c).
	coef := func(j int, sdy, sdyx float64) (a, bx, cx float64) {
		k := st.pivot[j]
		mu, istd := st.mean[j], st.istd[j]
		// Σ dy·x̂ = istd·Σ dy·(x − μ) = istd·(Σ dy·(x − K) − (μ − K)·Σ dy)
		var s float64
		if st.scaled {
			// x̂ = (x/sc − μ)·istd: μ is the mean of x/sc
			sc := st.scale[j]
			s = istd / sc * (sdyx - (mu*sc-k)*sdy)
		} else {
			s = istd * (sdyx - (mu-k)*sdy)
		}
		dg[j], db[j] = T(s), T(sdy)
		a = float64(gamma[j]) * istd
		// Batch mode: dx = a·(dy − Σdy/M − x̂·Σ(dy·x̂)/M), as
		// a·dy + b·x + c; with running statistics, dx = a·dy.
		if st.batch {
			bx = -a * istd * s / m
			cx = a * (istd*s*mu/m - sdy/m)
		}
		if st.scaled {
			// With z = x/sc: dx = dz/sc, dz = a·dy + bx·z + cx, and
			// d sc = −Σ dz·z/sc. In batch mode Σ dz·z = a·istd·ε·Σ dy·x̂
			// exactly (Σ dz = 0 and Σ dz·(z − μ) = a·Σ dy·x̂·(1/istd − istd·σ²)),
			// which avoids the cancellation of the direct sum; with
			// running statistics Σ dz·z = a·Σ dy·x/sc.
			sc := st.scale[j]
			if st.batch {
				ds[j] = T(-a * istd * st.stats.Eps * s / sc)
			} else {
				ds[j] = T(-a * (sdyx + k*sdy) / (sc * sc))
			}
			a, bx, cx = a/sc, bx/(sc*sc), cx/sc
		}
		return a, bx, cx
	}
	bf := bnBufsFor[T](st)
	bf.pk, bf.pabc = grow(bf.pk, c), grow(bf.pabc, 3*c)
	for j := range c {
		bf.pk[j] = T(st.pivot[j])
	}
	mid := func(j int, sdy, sdyx float64) {
		a, bx, cx := coef(j, sdy, sdyx)
		bf.pabc[3*j], bf.pabc[3*j+1], bf.pabc[3*j+2] = T(a), T(bx), T(cx)
	}
	var sums func(w, b0, b1, j0, j1 int, out []float64, stride int)
	var apply func(w, b0, b1, j0, j1 int)
	// The plane loops mask by the window only on an output they recompute
	// (gradSumsRec, affine2Rec); a read output takes the per-plane loops.
	pl := kr.planes
	planes := pl != nil && inner < planesMax && (!masked || y == nil && pl.gradSumsRec != nil)
	if planes {
		chi := T(max(st.hi, 0))
		sums = func(w, b0, b1, j0, j1 int, out []float64, stride int) {
			for b := b0; b < b1; b++ {
				ob := out[(b-b0)*stride:]
				o := (b*c + j0) * inner
				if masked {
					pl.gradSumsRec(dy[o:], x[o:], inner, j1-j0, bf.pa[j0:j1], bf.pb[j0:j1], chi, st.hi > 0, bf.pk[j0:j1], T(wlo), T(whi), ob)
				} else {
					pl.gradSums(dy[o:], x[o:], inner, j1-j0, bf.pk[j0:j1], ob)
				}
			}
		}
		apply = func(w, b0, b1, j0, j1 int) {
			for b := b0; b < b1; b++ {
				o := (b*c + j0) * inner
				if masked {
					pl.affine2Rec(dx[o:], dy[o:], x[o:], inner, j1-j0, bf.pa[j0:j1], bf.pb[j0:j1], chi, st.hi > 0, bf.pabc[3*j0:3*j1], T(wlo), T(whi))
				} else {
					pl.affine2(dx[o:], dy[o:], x[o:], inner, j1-j0, bf.pabc[3*j0:3*j1])
				}
			}
		}
	} else {
		clampF, _ := clampFns[T]()
		// out returns the output's plane at o, recomputed where y is nil.
		out := func(w, j, o int) []T {
			switch {
			case !masked:
				return nil
			case y != nil:
				return y[o : o+inner]
			}
			yo := ym[w][:inner]
			kr.affineAct(clampF, yo, x[o:o+inner], bf.pa[j], bf.pb[j], st.hi)
			return yo
		}
		// A recomputed output is taken inside the masked loops where the
		// build has them (the buffer's write and read were half of the
		// extra time a folded batch norm's backward took).
		rec := masked && y == nil && kr.gradSumsRec != nil
		chi := T(max(st.hi, 0))
		sums = func(w, b0, b1, j0, j1 int, acc []float64, stride int) {
			for b := b0; b < b1; b++ {
				s := acc[(b-b0)*stride:]
				// x and dy ahead in the sums, dx's lines before the
				// output pass writes them (the channel's x and dy are then
				// in L2): a cold stage-1 backward 650 → 415 µs
				bnAhead(st, j0, j1, b, b1, x, dy)
				for j := j0; j < j1; j++ {
					o := (b*c + j) * inner
					if rec {
						a, q := kr.gradSumsRec(dy[o:o+inner], x[o:o+inner], bf.pa[j], bf.pb[j], chi, st.hi > 0, bf.pk[j], T(wlo), T(whi))
						s[2*(j-j0)] += a
						s[2*(j-j0)+1] += q
						continue
					}
					g, yo, k := dy[o:o+inner], out(w, j, o), bf.pk[j]
					var a, q float64
					switch {
					case masked:
						plane := dym[w][:inner]
						maskDy(plane, yo, g)
						a, q = kr.gradSums(plane, x[o:o+inner], k)
					default:
						a, q = kr.gradSums(g, x[o:o+inner], k)
					}
					s[2*(j-j0)] += a
					s[2*(j-j0)+1] += q
				}
			}
		}
		apply = func(w, b0, b1, j0, j1 int) {
			for b := b0; b < b1; b++ {
				bnAhead(st, j0, j1, b, b1, dx)
				for j := j0; j < j1; j++ {
					o := (b*c + j) * inner
					a, bx, cx := bf.pabc[3*j], bf.pabc[3*j+1], bf.pabc[3*j+2]
					if rec {
						kr.affine2Rec(dx[o:o+inner], dy[o:o+inner], x[o:o+inner], bf.pa[j], bf.pb[j], chi, st.hi > 0, a, bx, cx, T(wlo), T(whi))
						continue
					}
					g, yo := dy[o:o+inner], out(w, j, o)
					switch {
					case masked:
						plane := dym[w][:inner]
						maskDy(plane, yo, g)
						kr.affine2(dx[o:o+inner], plane, x[o:o+inner], a, bx, cx)
					default:
						kr.affine2(dx[o:o+inner], g, x[o:o+inner], a, bx, cx)
					}
				}
			}
		}
	}
	bnPasses(st, !planes, &bf.psum, &bf.pimg, sums, mid, apply)
}

// bnAhead asks for the planes of image b+1, channel j0, of each of planes
// where a pass goes one channel at a time (j1 = j0 + 1: bnPasses' one
// worker): a channel's planes lie an image apart, beyond the hardware
// prefetchers, and a backward's saved input comes from memory.
func bnAhead[T float](st *bnState, j0, j1, b, b1 int, planes ...[]T) {
	if j1-j0 != 1 || b+1 >= b1 {
		return
	}
	o := ((b+1)*st.c + j0) * st.inner
	for _, p := range planes {
		if p != nil {
			prefetchPlane(p[o : o+st.inner])
		}
	}
}

// prefetchPlane asks for a float32 plane's cache lines ahead of its use.
func prefetchPlane[T float](p []T) {
	if p32, ok := any(p).([]float32); ok {
		prefetch32(p32)
	}
}

// bnAffine is the batch norm's per-channel map y = a·x + sh for mean μ,
// inverse deviation istd, γ and β, of x divided by scale (1: not scaled):
// a = γ·istd/scale, sh = β − μ·γ·istd. The training op and the evaluation
// convolution (Conv2dBNEval) share it, so they give the same bits.
func bnAffine(mean, istd, gamma, beta, scale float64) (a, sh float64) {
	a = gamma * istd
	sh = beta - mean*a
	if scale != 1 {
		a /= scale
	}
	return a, sh
}

// window returns the backward's mask of the output y as (lo, hi): dy passes
// where lo < y and not y >= hi (windowGradGeneric; hi NaN: no upper bound).
// The clamp's is 0 < y < hi (any y > 0 for ReLU); a fold's window
// [f.lo, f.hi] is lo' < y < hi' with lo' and hi' the float32 neighbours
// outside it.
func (st *bnState) window() (lo, hi float32) { return foldWindow(st.hi, st.fold) }

// foldWindow is the (lo, hi) of a clamp to [0, clampHi] (none when clampHi
// is 0) and of f's window when f is not nil.
func foldWindow(clampHi float64, f *Fold) (lo, hi float32) {
	lo, hi = float32(math.Inf(-1)), float32(math.NaN())
	if clampHi > 0 {
		lo = 0
		if !math.IsInf(clampHi, 1) {
			hi = float32(clampHi)
		}
	}
	if f != nil && !f.all {
		lo = max(lo, math.Nextafter32(f.lo, float32(math.Inf(-1))))
		if h := math.Nextafter32(f.hi, float32(math.Inf(1))); hi != hi || h < hi {
			hi = h
		}
	}
	return lo, hi
}

// windowGradGeneric sets dx = dy where lo < y and not y >= hi (every y
// passes a NaN hi, none passes at a NaN y), else 0.
func windowGradGeneric[T float](dx, y, dy []T, lo, hi T) {
	dx, dy = dx[:len(y)], dy[:len(y)]
	for i, v := range y {
		g := dy[i]
		if !(v > lo && !(v >= hi)) {
			g = 0
		}
		dx[i] = g
	}
}

// clampFns returns the per-slice clamp and clamp gradient of ReLU/ReLU6
// (the vector loops where the build and CPU have them).
func clampFns[T float]() (fwd func(y, x []T, hi T), grad func(dx, x, dy []T, hi T)) {
	fwd, grad = clampGeneric[T], clampGradGeneric[T]
	if f, g, ok := vecClamp(); ok {
		if fT, ok := any(f).(func(y, x []T, hi T)); ok {
			fwd, grad = fT, any(g).(func(dx, x, dy []T, hi T))
		}
	}
	return fwd, grad
}
