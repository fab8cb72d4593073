package intruntime

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/qatgo/qatgo/intmodel"
)

// MaxK bounds the inputs per output (InChannels·KernelH·KernelW or
// InFeatures) so that an int32 accumulator of K products of 8-bit codes and
// 8-bit weights cannot overflow: 65536·255·128 < 2^31.
const MaxK = 1 << 16

// Activations are stored as uint8 "storage codes": the code itself for an
// unsigned type, code + 2^(b−1) for a signed b-bit type, so that one uint8
// × int8 GEMM serves both. act describes one buffer.
type act struct {
	q     intmodel.ActQuant
	off   int32 // storage code = code + off
	shape intmodel.Shape
}

func newAct(q intmodel.ActQuant, s intmodel.Shape) act {
	a := act{q: q, shape: s}
	if q.Signed {
		a.off = 1 << (q.Bits - 1)
	}
	return a
}

// step is one layer prepared for execution.
type step struct {
	layer   intmodel.Layer
	in, out act
	// Quantized layers.
	w          *packedWeights
	bias, m0   []int32
	shift      []int
	zy, lo, hi int32 // in storage codes
	// rq: each channel's requantization operands for host.requantPre,
	// set at planning; nil where the CPU has no such kernel or a channel
	// needs the general path (planRequant).
	rq []requantScalars
	// rqKind: the kernel all of rq's channels take (planKind: with rqMixed
	// where runs of them take its float twin; the per-channel
	// loops in one call: host.requantFlatCh, requantRowsCh), or −1.
	rqKind                 int
	zx                     uint8 // input zero point in storage code (conv padding)
	kh, kw, sh, sw, ph, pw int
	conv                   bool
	direct                 *packPlan // direct packing plan (conv.go), nil: im2col
	tap                    *tapPlan  // a tap convolution's plan (tapconv.go), used unless the pool is fused
	wino                   *wgPlan   // a Winograd F(4×4) or F(2×2) plan (winograd.go); tap is nil where it is set
	stem                   *stemPlan // few taps in registers (stemconv.go); runs where no pool is fused
	// padded: a padded dense conv's twin that reads the input copied into
	// frames with the padding (conv.go): unpadded, so that it packs by the
	// direct plan or by plain row copies.
	padded *step
	// fusePool: the next step is a 2×2 max pool computed by this conv on
	// its accumulators (conv.go); skip: this pool was fused into the conv.
	fusePool, skip bool
	// flat: a fully connected layer packs its B straight from the
	// CNHW input of the Flatten before it (packFlat), which then does not
	// run (skip); nil: packRows from the flattened rows.
	flat *flatPack
	// Pools.
	pool intmodel.Pool2d
	// Graph: the tensors the step reads and their storage.
	ins    []int
	inActs []act
	// Grouped/depthwise conv (graph.go): groups > 0, raw weights.
	groups int
	gw     []int8
	// dwPerm: a depthwise 3×3 run by host.dwPerm straight from its
	// input planes (no frames).
	dwPerm *dwPermPlan
	// quadOut: this dwPerm step writes its output quad-interleaved
	// (quadIndex, host.dwPermQuad) for the 1×1 convolution that alone
	// reads it (quadIn), whose GEMM operand is then a copy of blocks.
	quadOut, quadIn bool
	// dwMask: a stride-1 depthwise 3×3 computed straight from its planes
	// (host.dwMask, dwmask.go): no frames.
	dwMask *dwMaskPlan
	// dwImages > 0: a stride-1 depthwise 3×3, run this many images a call
	// (graph.go, depthwise3x3).
	dwImages int
	// frameMasks places dwImages planes in their frames (framePlanes);
	// nil where the CPU has no framePlanes, or framedIn.
	frameMasks []uint64
	// framed: this GEMM convolution writes its output straight into the
	// zero-point frames of the depthwise 3×3 that alone reads it (nil:
	// CNHW planes); framedIn: that depthwise step reads them in place.
	framed   *frameLayout
	framedIn bool
	// flatMasks: a stride-1 depthwise 3×3's output positions among the
	// flat positions of dwImages frames, 16 a mask, for requantFlatPre
	// (graph.go); nil where the CPU has no such kernel.
	flatMasks []uint16
	// Rescaling pools: AvgPool2d with Requant, GlobalAvgPool (one each);
	// Add's parameters.
	rescale []intmodel.Rescale
	add     intmodel.Add
	// Add: the output storage code of every pair of input storage codes
	// (graph.go); Concat: each requantized input's output storage code by
	// input storage code (nil: copied).
	addLUT  []uint8
	addPerm *addPerm   // nil: the add looks its codes up in addLUT
	addLin  *addLinear // non-nil: host.addLin computes the add
	// gapRq: a GlobalAvgPool's rescale as requantization operands (the
	// sums of a chunk's planes requantized in one host.requantPre call);
	// nil: Rescale.Apply per plane.
	gapRq  *requantScalars
	catMap []*[256]uint8
}

// engine runs the whole model on a worker's share of a batch, chunk
// images at a time through all layers, single-threaded.
type engine struct {
	steps []step
	input act
	// bufs[0] input, bufs[i+1] output of step i, each CNHW for chunk
	// images (the last one: the whole batch as consecutive chunks).
	bufs  [][]uint8
	sizes []int     // per image, of each buffer
	view  [][]uint8 // each buffer as the chunk being run sees it (at)
	chunk int       // images run through all layers at a time (chunkImages)
	// lastX: the last run's input where it took more than one chunk
	// (LayerCodes runs the chunks again).
	lastX   []float32
	cols    []uint8   // four im2col rows
	zeros   []uint8   // a zero row for packRows
	pooltmp []uint8   // horizontal maxima of a 2×2 max pool
	pool32  []int32   // pooled accumulators of a fused conv + max pool
	gapSums []int32   // a global average pool's plane sums (step.gapRq)
	frame   []uint8   // padded input planes of a grouped conv (graph.go)
	padbuf  []uint8   // padded input planes of a chunk of a dense conv (conv.go)
	w9      [9]int32  // a depthwise 3×3 kernel's weights (graph.go)
	dwWp    [5]uint32 // a depthwise 3×3 kernel's weight pairs (dwMaskWeights)
	dwGuard []uint8   // a plane between zero points for host.dwMask (dwMaskY)
	flat    []int32   // flat accumulators of a stride-1 depthwise 3×3
	dwq     []uint32  // the frame's code triples for the VNNI depthwise kernel
	quads   []uint32  // an image's row planes for a tap convolution (tapconv.go)
	wgV     []uint32  // a Winograd block's transformed input (winograd.go)
	wgM     []int32   // a Winograd block's products
	wgOut   []uint8   // a Winograd channel's planes requantized whole (rows narrower than a vector)
	wgS     []uint32  // the F(4×4) Winograd passes' scratch
	pack    []byte
	acc     []int32
	// stale[i]: step i's output buffer was not written by the last run
	// (a conv whose pool was fused); LayerCodes recomputes it.
	stale []bool
	// timing: every step's wall time and images are added to
	// stepNanos and stepImages (Runner.TimeLayers).
	timing                bool
	stepNanos, stepImages []int64
}

// Runner runs an intmodel.Model on batches of float32 images with integer
// arithmetic only, reusing buffers allocated once by NewRunner: Run does
// not allocate. A Runner is not safe for concurrent use; with workers > 1
// it splits each batch across persistent goroutines (stop them with Close).
type Runner struct {
	model   *intmodel.Model
	batch   int
	shapes  []intmodel.Shape
	engines []*engine
	parts   []int // images given to each engine by the last Run
	jobs    []chan job
	done    chan error
	closed  bool
}

type job struct {
	e      *engine
	x      []float32
	n      int
	logits []float32
}

// NewRunner validates m and prepares a Runner for batches of up to batch
// images, split across workers goroutines (workers ≤ 0: GOMAXPROCS; at
// most one worker per image).
func NewRunner(m *intmodel.Model, batch, workers int) (*Runner, error) {
	return newRunner(m, batch, workers, 0)
}

// newRunner is NewRunner with each engine running chunk images at a time
// through all layers (0: chunkImages decides).
func newRunner(m *intmodel.Model, batch, workers, chunk int) (*Runner, error) {
	shapes, err := m.Shapes()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRuntime, err)
	}
	if batch < 1 {
		return nil, fmt.Errorf("%w: batch %d, want ≥ 1", ErrRuntime, batch)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, batch)
	r := &Runner{model: m, batch: batch, shapes: shapes, parts: make([]int, workers)}
	per := ceilDiv(batch, workers)
	// The engines share their layers' requantization operands (read
	// only; planning them costs ~6 µs a relu8 channel: setFloat).
	rqs := make(map[int][]requantScalars)
	for range workers {
		e, err := newEngine(m, shapes, per, chunk, rqs)
		if err != nil {
			return nil, err
		}
		r.engines = append(r.engines, e)
	}
	if workers > 1 {
		r.done = make(chan error, workers)
		for range workers - 1 {
			ch := make(chan job)
			r.jobs = append(r.jobs, ch)
			go func() {
				for j := range ch {
					r.done <- j.e.run(j.x, j.n, j.logits)
				}
			}()
		}
	}
	return r, nil
}

// pointwise reports whether step s is a 1×1 convolution of stride 1
// without padding: its im2col rows are its input's channel planes.
func (s *step) pointwise() bool {
	return s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.ph == 0 && s.pw == 0
}

// LayerTime is the time one layer of a Runner took since TimeLayers(true).
type LayerTime struct {
	Name, Kind string
	// Time is the wall time of every run of the layer, summed over the
	// workers; Images the images those runs took. A 2×2 max pool fused
	// into the convolution before it takes no time of its own.
	Time   time.Duration
	Images int
}

// TimeLayers starts (on, from zero) or stops timing every layer of each
// Run (and of LayerCodes' reruns): the answer to which layers an integer
// model spends its time in. Timing costs two clock reads a layer and
// chunk of images. Not safe to call concurrently with Run.
func (r *Runner) TimeLayers(on bool) {
	for _, e := range r.engines {
		e.timing = on
		if on {
			e.stepNanos = make([]int64, len(e.steps))
			e.stepImages = make([]int64, len(e.steps))
		}
	}
}

// LayerTimes returns each layer's time since TimeLayers(true), in the
// model's layer order (all zero if it was never called).
func (r *Runner) LayerTimes() []LayerTime {
	out := make([]LayerTime, len(r.model.Layers))
	for i, l := range r.model.Layers {
		out[i].Name, out[i].Kind = l.LayerName(), l.Kind().String()
		for _, e := range r.engines {
			if len(e.stepNanos) == len(out) {
				out[i].Time += time.Duration(e.stepNanos[i])
				out[i].Images += int(e.stepImages[i])
			}
		}
	}
	return out
}

// Close stops the worker goroutines. The Runner cannot run afterwards.
func (r *Runner) Close() {
	if !r.closed {
		r.closed = true
		for _, ch := range r.jobs {
			close(ch)
		}
	}
}

// Batch is the largest batch Run accepts.
func (r *Runner) Batch() int { return r.batch }

// InputSize and OutputSize are the float32 values per image of x and logits.
func (r *Runner) InputSize() int  { return r.model.InputShape.Size() }
func (r *Runner) OutputSize() int { return r.shapes[len(r.shapes)-1].Size() }

// Run quantizes x (batch images, each C×H×W row-major, NCHW) with the
// model's input quantization, runs every layer on integer codes, and
// writes the dequantized outputs of the last layer to logits (batch ×
// OutputSize). It does not allocate.
func (r *Runner) Run(x []float32, batch int, logits []float32) error {
	if r.closed {
		return fmt.Errorf("%w: Run after Close", ErrRuntime)
	}
	if batch < 1 || batch > r.batch {
		return fmt.Errorf("%w: batch %d, runner holds 1..%d", ErrRuntime, batch, r.batch)
	}
	in, out := r.InputSize(), r.OutputSize()
	if len(x) != batch*in {
		return fmt.Errorf("%w: x has %d values, want %d×%d", ErrRuntime, len(x), batch, in)
	}
	if len(logits) < batch*out {
		return fmt.Errorf("%w: logits holds %d values, want %d×%d", ErrRuntime, len(logits), batch, out)
	}
	per := ceilDiv(batch, len(r.engines))
	start, sent := 0, 0
	var first error
	for i, e := range r.engines {
		n := min(per, batch-start)
		r.parts[i] = max(n, 0)
		if n <= 0 {
			continue
		}
		xs, ls := x[start*in:(start+n)*in], logits[start*out:(start+n)*out]
		if i > 0 { // engine 0 runs on this goroutine, below
			r.jobs[i-1] <- job{e, xs, n, ls}
			sent++
		}
		start += n
	}
	if n := r.parts[0]; n > 0 {
		first = r.engines[0].run(x[:n*in], n, logits[:n*out])
	}
	for range sent {
		if err := <-r.done; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// NumLayers is the number of layers.
func (r *Runner) NumLayers() int { return len(r.shapes) }

// LayerShape is the output shape of layer i (one image).
func (r *Runner) LayerShape(i int) intmodel.Shape { return r.shapes[i] }

// LayerCodes returns the integer output codes of layer i from the last Run
// (i = −1: the quantized input), as true codes (signed types negative where
// they are) in batch × C×H×W order, in dst (grown if too short). For the
// layer-by-layer comparison with the fake-quant model. Where the batch ran
// in several chunks (models whose activations outweigh their weights run a
// chunk of images through all layers at a time, and keep only the last
// layer's output of the whole batch), the chunks are run again from the
// last Run's input, which the Runner keeps.
func (r *Runner) LayerCodes(i int, dst []int32) ([]int32, error) {
	if i < -1 || i >= len(r.shapes) {
		return nil, fmt.Errorf("%w: layer %d of %d", ErrRuntime, i, len(r.shapes))
	}
	total := 0
	for _, p := range r.parts {
		total += p
	}
	if total == 0 {
		return nil, fmt.Errorf("%w: no batch has run", ErrRuntime)
	}
	var size int
	if i < 0 {
		size = r.InputSize()
	} else {
		size = r.shapes[i].Size()
	}
	if cap(dst) < total*size {
		dst = make([]int32, total*size)
	}
	dst = dst[:total*size]
	o := 0
	for k, e := range r.engines {
		n := r.parts[k]
		if n == 0 {
			continue
		}
		a := e.input
		if i >= 0 {
			a = e.steps[i].out
		}
		// One chunk: every buffer still holds it (a fused pool's conv
		// output recomputed once). Several: only the last layer's buffer
		// holds them all, so for another layer each chunk runs again up
		// to that layer.
		whole := n <= e.chunk || (i == len(e.steps)-1 && !e.stale[i])
		is := e.input.shape.Size()
		for b0 := 0; b0 < n; b0 += e.chunk {
			cnt := min(e.chunk, n-b0)
			e.at(b0)
			if !whole {
				e.runChunk(e.lastX[b0*is:(b0+cnt)*is], cnt, nil, i)
			}
			if i >= 0 && e.stale[i] { // the conv's own output, unpooled, or the skipped flatten's
				switch s := &e.steps[i]; s.layer.Kind() {
				case intmodel.KindConv2d:
					e.conv(e.view[i+1], e.view[s.ins[0]], s, cnt, false)
				case intmodel.KindFlatten:
					flatten(e.view[i+1], e.view[s.ins[0]], s.in.shape, cnt)
				}
			}
			var f *frameLayout
			quad := false
			if i >= 0 {
				f, quad = e.steps[i].framed, e.steps[i].quadOut
			}
			e.codes(dst[(o+b0)*size:(o+b0+cnt)*size], e.view[i+1], a, cnt, f, quad)
		}
		if i >= 0 && n <= e.chunk {
			e.stale[i] = false
		}
		o += n
	}
	return dst, nil
}

func newEngine(m *intmodel.Model, shapes []intmodel.Shape, batch, chunk int, rqs map[int][]requantScalars) (*engine, error) {
	perImage, w := m.InputShape.Size(), 0
	for i, l := range m.Layers {
		perImage += shapes[i].Size()
		switch l := l.(type) {
		case *intmodel.Conv2d:
			w += len(l.Weights)
		case *intmodel.Linear:
			w += len(l.Weights)
		}
	}
	// Buffers and scratch for a chunk of images (cap of them).
	cap := chunkImages(perImage, w, batch)
	if chunk > 0 {
		cap = min(chunk, batch)
	}
	e := &engine{chunk: cap, input: newAct(m.Input, m.InputShape)}
	if batch > cap {
		e.lastX = make([]float32, batch*m.InputShape.Size())
	}
	e.bufs = append(e.bufs, makeBuf(cap*m.InputShape.Size()))
	e.sizes = append(e.sizes, m.InputShape.Size())
	// tensors[t]: the storage of tensor t (0: input, j+1: layer j's output).
	tensors := []act{e.input}
	// readers[t]: how many layers read tensor t (a conv's output can be
	// fused with the following max pool only if that pool is its only reader).
	readers := make([]int, len(m.Layers)+1)
	for i := range m.Layers {
		for _, t := range m.LayerInputs(i) {
			readers[t]++
		}
	}
	var wgVMax, wgMMax, wgOutMax int
	var packMax, accMax, colsMax, nMax, poolMax, pool32Max, frameMax, flatMax, padMax, quadsMax, dwqMax, frameNeed, gapMax, dwGuardMax int
	for i, l := range m.Layers {
		ins := m.LayerInputs(i)
		cur := tensors[ins[0]]
		s := step{layer: l, in: cur, ins: ins}
		for _, t := range ins {
			s.inActs = append(s.inActs, tensors[t])
		}
		fail := func(err error) error {
			return fmt.Errorf("%w: layer %d (%s %q): %v", ErrRuntime, i, l.Kind(), l.LayerName(), err)
		}
		var q *intmodel.Quantized
		var mOut, k, n int
		outQ := cur.q
		switch l := l.(type) {
		case *intmodel.Conv2d:
			q, mOut, k = &l.Quantized, l.OutChannels, l.K()
			s.kh, s.kw, s.sh, s.sw, s.ph, s.pw = l.KernelH, l.KernelW, l.StrideH, l.StrideW, l.PadH, l.PadW
			if l.NumGroups() > 1 {
				s.groups = l.NumGroups()
			} else {
				s.conv = true
			}
		case *intmodel.Linear:
			q, mOut, k, n = &l.Quantized, l.OutFeatures, l.InFeatures, cap
			if t := ins[0]; t > 0 && readers[t] == 1 && m.Layers[t-1].Kind() == intmodel.KindFlatten {
				s.flat = newFlatPack(e.steps[t-1].in.shape, e.steps[t-1].ins[0])
			}
		case *intmodel.MaxPool2d:
			s.pool = l.Pool2d
			poolMax = max(poolMax, cap*cur.shape.Size()/2)
		case *intmodel.AvgPool2d:
			s.pool = l.Pool2d
			if l.Requant != nil {
				s.rescale = []intmodel.Rescale{*l.Requant}
				outQ = l.Requant.Out
			}
		case *intmodel.GlobalAvgPool:
			s.rescale = []intmodel.Rescale{l.Rescale}
			outQ = l.Out
		case *intmodel.Add:
			s.add = *l
			outQ = l.Out
		case *intmodel.Concat:
			outQ = l.Out
			s.catMap = make([]*[256]uint8, len(ins))
			for k := range ins {
				if s.inActs[k].q != l.Out {
					s.catMap[k] = rescaleTable(&l.Requant[k])
				}
			}
		}
		if q != nil {
			if k > MaxK {
				return nil, fail(fmt.Errorf("%d inputs per output, at most %d", k, MaxK))
			}
			s.out = newAct(q.OutAct, shapes[i])
			s.m0, s.shift = q.M0, q.Shift
			s.zy, s.lo, s.hi = q.OutAct.ZeroPoint+s.out.off, q.QMin+s.out.off, q.QMax+s.out.off
			s.zx = uint8(q.InAct.ZeroPoint + cur.off)
			if s.groups > 0 {
				// Grouped/depthwise: a direct kernel on padded frames
				// (graph.go), with the folded bias as the GEMM's.
				s.gw = q.Weights
				var err error
				if s.bias, err = q.FoldedBias(mOut, q.InAct.ZeroPoint+cur.off); err != nil {
					return nil, fail(err)
				}
				accMax = max(accMax, shapes[i].H*shapes[i].W, dwChunk)
				frameMax = max(frameMax, cur.shape.C/s.groups*(cur.shape.H+2*s.ph)*(cur.shape.W+2*s.pw))
				flatMax = max(flatMax, shapes[i].H*s.sh*(cur.shape.W+2*s.pw))
				// The VNNI kernel's code triples, and the frame bytes they read.
				dwqMax = max(dwqMax, dwQuadsFor(roundUp(shapes[i].H*s.sh*(cur.shape.W+2*s.pw), dwRound), cur.shape.W+2*s.pw))
				Hp, Wp := cur.shape.H+2*s.ph, cur.shape.W+2*s.pw
				if s.groups == cur.shape.C && mOut == s.groups && s.kh == 3 && s.kw == 3 &&
					(s.sh == 1 && s.sw == 1 || s.sh == 2 && s.sw == 2 && host.dw3x3s2 != nil) {
					// Depthwise 3×3, a batch of images a call (graph.go).
					Hp, Wp := dwFrame(cur.shape.H, cur.shape.W, s.ph, s.pw, s.sh)
					s.dwImages = dwImagesFor(Hp*Wp, cap)
					if host.dwMask != nil && s.sh == 1 && s.ph == 1 && s.pw == 1 {
						// Straight from the planes, no frames (dwmask.go).
						if s.dwMask = newDwMaskPlan(cur.shape.H, cur.shape.W); s.dwMask != nil {
							dwGuardMax = max(dwGuardMax, 2*slack+s.dwMask.hw)
						}
					}
					nflat := roundUp(s.dwImages*Hp*Wp, dwRound)
					frameMax = max(frameMax, s.dwImages*Hp*Wp+Wp+s.pw)
					// Frames written by the producer where dwPerm cannot
					// read the plain planes (rows wider than 62): on
					// MobileNetV2's 28×28 and 14×14 ones the expansions'
					// contiguous requantization and dwPerm measured 6%
					// faster than the frames and the flat pass.
					if t := ins[0]; t > 0 && readers[t] == 1 && cur.shape.W >= framedMinWidth && host.framePlanes != nil &&
						(host.dwPerm == nil || planDwPerm(cur.shape.H, cur.shape.W, shapes[i].H, shapes[i].W, s.sh, s.sw, s.ph, s.pw, 128) == nil) &&
						host.requantRowsCh != nil && e.steps[t-1].conv && e.steps[t-1].groups == 0 && e.steps[t-1].tap == nil && e.steps[t-1].wino == nil &&
						e.steps[t-1].rqKind >= 0 && len(e.steps[t-1].rq) == cur.shape.C {
						// The input's producer writes the frames (conv.go).
						f := &frameLayout{ph: s.ph, pw: s.pw, Hp: Hp, Wp: Wp, images: cap}
						e.steps[t-1].framed, s.framedIn = f, true
						e.bufs[t] = f.alloc(cur.shape.C, s.zx, 4)
					} else if host.framePlanes != nil {
						// framePlanes writes whole 64-byte blocks.
						s.frameMasks = frameMasks(cur.shape.H, cur.shape.W, s.ph, s.pw, Hp, Wp, s.dwImages)
						frameMax = max(frameMax, 64*len(s.frameMasks))
					}
					if s.sh == 1 && host.requantFlatPre != nil {
						s.flatMasks = flatOutputMasks(shapes[i].H, shapes[i].W, Hp, Wp, s.dwImages)
					}
					flatMax = max(flatMax, nflat)
					dwqMax = max(dwqMax, dwQuadsFor(nflat, Wp))
					accMax = max(accMax, s.dwImages*shapes[i].H*shapes[i].W+8) // the stride-2 kernel's last vector (graph.go)
				}
				if s.sh == 2 && s.sw == 2 { // the stride-2 kernel's triples (graph.go)
					dwqMax = max(dwqMax, (2*shapes[i].H+1)*dw3x3s2Width(Wp))
					frameNeed = max(frameNeed, (max(s.dwImages, 1)-1)*Hp*Wp+2*shapes[i].H*Wp+2*dw3x3s2Width(Wp)+2)
				}
			} else {
				umax := 1<<q.InAct.Bits - 1 // largest storage code
				if s.flat != nil {
					s.w = packWeights(s.flat.padWeights(q.Weights, mOut), mOut, s.flat.k(), umax)
					e.steps[ins[0]-1].skip = true // the Flatten
				} else {
					s.w = packWeights(q.Weights, mOut, k, umax)
				}
				var err error
				if s.bias, err = q.FoldedBias(mOut, q.InAct.ZeroPoint+cur.off); err != nil {
					return nil, fail(err)
				}
				if s.conv {
					// Chunks of images (conv.go).
					P := shapes[i].H * shapes[i].W
					chunk := convChunk(&s, cap)
					n = chunk * P
					colsMax = max(colsMax, 4*n)
					pool32Max = max(pool32Max, n)
					s.direct = directPlan(&s)
					// Winograd where the CPU's exact products are int16
					// ones anyway (host.wg).
					// Larger kernels as sums of 3×3 blocks (newWgPlan
					// weighs the blocks' work against the direct sums).
					if host.wg.gemm != nil && s.kh >= 3 && s.kw >= 3 && s.sh == 1 && s.sw == 1 && s.groups == 0 {
						if s.wino = newWgPlan(q.Weights, mOut, cur.shape.C, s.kh, s.kw, cur.shape.H, cur.shape.W, s.ph, s.pw, host.wg.input4 != nil); s.wino != nil {
							wgVMax, wgMMax = max(wgVMax, s.wino.vLen()), max(wgMMax, s.wino.mLen())
							padMax = max(padMax, s.wino.images*s.wino.frameBytes()+slack)
							accMax = max(accMax, mOut*s.wino.images*s.wino.plane+wgAccSlack)
							wgOutMax = max(wgOutMax, s.wino.images*s.wino.plane)
							pool32Max = max(pool32Max, mOut*s.wino.images*P/4) // a fused pool's planes, all channels (wgConv)
							if t := ins[0]; t > 0 && readers[t] == 1 && wgFramable(&e.steps[t-1], cur.shape) {
								// The producer writes this layer's frames
								// (its rows at their place; borders zx
								// once): no copy a group.
								p := s.wino
								f := &frameLayout{ph: s.ph, pw: s.pw, Hp: p.hf, Wp: p.wf, images: cap}
								e.steps[t-1].framed, s.framedIn = f, true
								// Room for a short last group's images
								// past the chunk's, and the passes' reads.
								e.bufs[t] = f.alloc(cur.shape.C, s.zx, p.images+1)
							}
						}
					}
					// Else taps where the CPU has their GEMM and a fused
					// pool's pass over strided rows (AMX and VNNI imply
					// AVX-512: both).
					if s.wino == nil && host.tapGemm != nil && host.poolFlat32 != nil && s.sh == 1 && s.sw == 1 && cur.shape.C >= tapMinChannels && shapes[i].W >= host.tapMinOut {
						if s.tap = newTapPlan(q.Weights, mOut, cur.shape.C, s.kh, s.kw, cur.shape.H, cur.shape.W, s.ph, s.pw, host.tapPositions()); s.tap != nil {
							quadsMax = max(quadsMax, s.tap.qlen, s.tap.qlen1)
							accMax = max(accMax, s.tap.mt*amxRows*s.tap.ldc())
							// A fused pool's pooled planes, all channels (tapConv).
							pool32Max = max(pool32Max, mOut*(shapes[i].H/2)*(shapes[i].W/2))
						}
					}
					if s.ph > 0 || s.pw > 0 {
						ps := s
						ps.in.shape.H += 2 * s.ph
						ps.in.shape.W += 2 * s.pw
						ps.ph, ps.pw = 0, 0
						ps.direct = directPlan(&ps)
						s.padded = &ps
						padMax = max(padMax, ps.in.shape.Size()*chunk+slack)
					}
					// Direct packing gives each image whole groups of columns.
					n = chunk * ceilDiv(P, laneCols) * laneCols
				}
				packMax = max(packMax, packedCols(n, s.w.k4))
				nMax = max(nMax, n)
				accMax = max(accMax, s.w.mpad*groupsFor(n)*laneCols)
			}
		} else if outQ == cur.q {
			s.out = act{q: cur.q, off: cur.off, shape: shapes[i]}
		} else {
			s.out = newAct(outQ, shapes[i])
		}
		if l, ok := l.(*intmodel.Add); ok {
			planAdd(&s, l)
		}
		if l, ok := l.(*intmodel.GlobalAvgPool); ok {
			if s.gapRq = planGlobalAvgPool(&s, l); s.gapRq != nil {
				gapMax = max(gapMax, cap*cur.shape.C)
			}
		}
		if p, ok := l.(*intmodel.MaxPool2d); ok && i > 0 && ins[0] == i && readers[i] == 1 &&
			e.steps[i-1].conv && fusable(&e.steps[i-1], p.Pool2d) {
			e.steps[i-1].fusePool = true
			s.skip = true
		}
		rq, planned := rqs[i]
		if !planned {
			rq = planRequant(&s, q)
			rqs[i] = rq
		}
		s.rq = rq
		s.rqKind = planKind(s.rq)
		if s.conv && s.wino == nil && s.tap == nil && host.stem != nil {
			if s.stem = newStemPlan(&s, q.Weights, s.w.m); s.stem != nil {
				padMax = max(padMax, s.stem.frameBytes()+slack)
			}
		}
		if s.dwImages > 0 && !s.framedIn && host.dwPerm != nil && s.rqKind >= 0 && len(s.rq) == s.groups {
			s.dwPerm = newDwPermPlan(s.gw, s.groups, cur.shape.H, cur.shape.W, shapes[i].H, shapes[i].W, s.sh, s.sw, s.ph, s.pw)
		}
		e.steps = append(e.steps, s)
		if i == len(m.Layers)-1 {
			e.bufs = append(e.bufs, makeBuf(batch*shapes[i].Size()))
		} else {
			e.bufs = append(e.bufs, makeBuf(cap*shapes[i].Size()))
		}
		e.sizes = append(e.sizes, shapes[i].Size())
		tensors = append(tensors, s.out)
	}
	// Quad-interleaved outputs: a dwPerm depthwise with relu8
	// requantization whose only reader is the next step, a 1×1
	// convolution by the GEMM on whole quads of channels.
	for i := range len(e.steps) - 1 {
		a, b := &e.steps[i], &e.steps[i+1]
		if a.dwPerm != nil && host.dwPermQuad != nil && host.packQuadIn != nil && relu8Kind(a.rqKind) &&
			a.out.shape.C%4 == 0 && readers[i+1] == 1 && len(b.ins) == 1 && b.ins[0] == i+1 &&
			b.conv && b.groups == 0 && b.tap == nil && !b.fusePool && b.framed == nil && b.w != nil && b.w.k == a.out.shape.C &&
			b.pointwise() {
			a.quadOut, b.quadIn = true, true
			b.direct, b.padded = nil, nil
		}
	}
	e.stale = make([]bool, len(e.steps))
	e.view = make([][]uint8, len(e.bufs))
	e.pool32 = make([]int32, pool32Max)
	e.gapSums = make([]int32, gapMax)
	e.cols = make([]uint8, colsMax)
	e.zeros = make([]uint8, nMax)
	e.pooltmp = make([]uint8, poolMax)
	e.pack = make([]byte, packMax)
	e.acc = make([]int32, accMax)
	// The depthwise flat kernel computes whole vectors of outputs: up to
	// dwRound − 1 extra outputs, read from as many bytes past the frame.
	e.frame = make([]uint8, max(frameMax+dwRound, dwqMax+2, frameNeed))
	e.dwGuard = make([]uint8, dwGuardMax)
	e.dwq = make([]uint32, dwqMax)
	e.quads = make([]uint32, quadsMax)
	e.wgV = make([]uint32, wgVMax)
	e.wgM = make([]int32, wgMMax)
	e.wgOut = make([]uint8, wgOutMax)
	e.wgS = make([]uint32, wgScratch)
	e.padbuf = make([]uint8, padMax)
	e.flat = make([]int32, flatMax+dwRound)
	return e, nil
}

// run executes the model on n images, e.chunk at a time through all
// layers.
func (e *engine) run(x []float32, n int, logits []float32) error {
	is, outSize := e.input.shape.Size(), e.steps[len(e.steps)-1].out.shape.Size()
	if n > e.chunk {
		copy(e.lastX, x[:n*is])
	}
	for b0 := 0; b0 < n; b0 += e.chunk {
		k := min(e.chunk, n-b0)
		e.at(b0)
		e.runChunk(x[b0*is:(b0+k)*is], k, logits[b0*outSize:(b0+k)*outSize], len(e.steps)-1)
	}
	return nil
}

// imageChunkBytes bounds the storage codes of all layers' outputs for
// one chunk of images (chunkImages): run a layer at a time, a batch of 256
// left each output in memory for the next layer to read back, where a
// chunk's stay in the caches, reused chunk after chunk (Zen 5, 1 core:
// MobileNetV2 1.2–1.3x and resnet20 1.06–1.13x faster at 32 images than at
// 256).
const imageChunkBytes = 8 << 20

// chunkImages is how many images of up to cap an engine runs through all
// layers at a time, for a model whose input and layer outputs take
// perImage bytes per image and whose weights take w bytes: as many as keep
// their outputs within imageChunkBytes, at least 8 (the GEMMs' columns);
// all of them where the weights outweigh the activations (each chunk reads
// every weight again: LeNet-5 0.88x and vgg-small 0.92x at 32 images).
func chunkImages(perImage, w, cap int) int {
	if 2*perImage < w {
		return cap
	}
	return min(cap, max(8, imageChunkBytes/max(perImage, 1)))
}

// at points e.view at the chunk of images from b0: every buffer but the
// last holds just that chunk; the last one holds the batch, chunk after
// chunk of e.chunk images.
func (e *engine) at(b0 int) {
	last := len(e.bufs) - 1
	copy(e.view, e.bufs)
	e.view[last] = e.bufs[last][b0*e.sizes[last]:]
}

// runChunk runs the layers up to step upto on the n images of the chunk
// e.view points at (upto −1: the input's quantization only), and after the
// last step writes their logits.
func (e *engine) runChunk(x []float32, n int, logits []float32, upto int) {
	in := e.input
	inv := 1 / in.q.Scale
	lo, hi := in.q.Range()
	hw := in.shape.H * in.shape.W
	buf := e.view[0]
	// NCHW floats → CNHW storage codes.
	for b := range n {
		for c := range in.shape.C {
			src := x[(b*in.shape.C+c)*hw : (b*in.shape.C+c+1)*hw]
			dst := buf[(c*n+b)*hw : (c*n+b+1)*hw]
			host.quantizeRow(dst, src, inv, in.q.ZeroPoint+in.off, lo+in.off, hi+in.off)
		}
	}
	for i := range e.steps[:upto+1] {
		s := &e.steps[i]
		src, dst := e.view[s.ins[0]], e.view[i+1]
		var t0 time.Time
		if e.timing {
			t0 = time.Now()
		}
		switch s.layer.Kind() {
		case intmodel.KindConv2d:
			switch {
			case s.groups > 0:
				e.groupedConv(dst, src, s, n)
			case s.fusePool:
				e.conv(e.view[i+2], src, s, n, true)
			default:
				e.conv(dst, src, s, n, false)
			}
			e.stale[i] = s.fusePool
		case intmodel.KindLinear:
			if s.flat != nil {
				packFlat(e.pack, e.view[s.flat.src], s.flat, n, s.w.k4, host.packFlatGroup)
			} else {
				packRows(e.pack, src, s.w.k, n, s.w.k4, e.zeros)
			}
			ng := groupsFor(n)
			gemm(e.acc, ng*laneCols, s.w, e.pack, ng)
			for m := range s.w.m {
				e.requantOne(dst[m*n:][:n], e.acc[m*ng*laneCols:][:n], s, m)
			}
		case intmodel.KindMaxPool2d:
			if !s.skip {
				pool(dst, src, e.pooltmp, s, n, false)
			}
		case intmodel.KindAvgPool2d:
			if s.rescale != nil {
				avgPoolRescale(dst, src, s, n)
			} else {
				pool(dst, src, e.pooltmp, s, n, true)
			}
		case intmodel.KindFlatten:
			if !s.skip {
				flatten(dst, src, s.in.shape, n)
			}
			e.stale[i] = s.skip
		case intmodel.KindAdd:
			e.add(dst, src, e.view[s.ins[1]], s, n)
		case intmodel.KindConcat:
			e.concat(dst, s, n)
		case intmodel.KindGlobalAvgPool:
			globalAvgPool(dst, src, s, n, e.gapSums)
		}
		if e.timing {
			e.stepNanos[i] += int64(time.Since(t0))
			e.stepImages[i] += int64(n)
		}
	}
	if upto < len(e.steps)-1 {
		return
	}
	out := e.steps[len(e.steps)-1].out
	size := out.shape.Size()
	hw = out.shape.H * out.shape.W
	last := e.view[len(e.view)-1]
	z := out.q.ZeroPoint + out.off
	for b := range n {
		for c := range out.shape.C {
			for j := range hw {
				logits[b*size+c*hw+j] = out.q.Scale * float32(int32(last[(c*n+b)*hw+j])-z)
			}
		}
	}
}

// codes converts a CNHW storage buffer of n images (or one in the frames
// f, step.framed) into true NCHW codes.
func (e *engine) codes(dst []int32, buf []uint8, a act, n int, f *frameLayout, quad bool) {
	hw := a.shape.H * a.shape.W
	size := a.shape.Size()
	if quad {
		for b := range n {
			for c := range a.shape.C {
				for j := range hw {
					dst[b*size+c*hw+j] = int32(buf[quadIndex(c, b*hw+j, n*hw)]) - a.off
				}
			}
		}
		return
	}
	if f != nil {
		for b := range n {
			for c := range a.shape.C {
				for y := range a.shape.H {
					row := buf[f.at(c, b)+y*f.Wp:][:a.shape.W]
					for x, v := range row {
						dst[b*size+c*hw+y*a.shape.W+x] = int32(v) - a.off
					}
				}
			}
		}
		return
	}
	for b := range n {
		for c := range a.shape.C {
			for j := range hw {
				dst[b*size+c*hw+j] = int32(buf[(c*n+b)*hw+j]) - a.off
			}
		}
	}
}

// im2colRow writes row k = (c, ky, kx) of the conv input patches of
// images [b0, b0+nb) of n (src is CNHW): one byte per column (b, oy, ox),
// padding positions holding the input zero point (real 0).
func im2colRow(out []uint8, src []uint8, s *step, n, b0, nb, k int) {
	H, W := s.in.shape.H, s.in.shape.W
	oh, ow := s.out.shape.H, s.out.shape.W
	kx := k % s.kw
	ky := k / s.kw % s.kh
	c := k / (s.kw * s.kh)
	if s.sw == 1 && s.sh == 1 && s.pw == 0 && s.ph == 0 {
		im2colRowValid(out, src[(c*n+b0)*H*W:(c*n+b0+nb)*H*W], nb, H, W, oh, ow, ky, kx)
		return
	}
	// Output columns whose input column is inside the image.
	xa := max(0, ceilDiv(s.pw-kx, s.sw))
	xb := min(ow, ceilDiv(W+s.pw-kx, s.sw))
	xb = max(xa, xb)
	if y0 := ky - s.ph; s.sw == 2 && host.pickBytes2 != nil && xa == 0 && xb == ow && y0 >= 0 && (oh-1)*s.sh+y0 < H {
		// Every window inside the image (a 1×1 stride-2 projection):
		// every other byte of every sh-th row, all images in one call.
		host.pickBytes2(out[:nb*oh*ow], src[(c*n+b0)*H*W+y0*W+kx-s.pw:], oh, ow, s.sh*W, nb, H*W)
		return
	}
	for bi := range nb {
		plane := src[(c*n+b0+bi)*H*W : (c*n+b0+bi+1)*H*W]
		for y := range oh {
			seg := out[(bi*oh+y)*ow : (bi*oh+y+1)*ow]
			iy := y*s.sh - s.ph + ky
			if iy < 0 || iy >= H {
				fill(seg, s.zx)
				continue
			}
			row := plane[iy*W : iy*W+W]
			fill(seg[:xa], s.zx)
			fill(seg[xb:], s.zx)
			if s.sw == 1 {
				copy(seg[xa:xb], row[xa-s.pw+kx:])
				continue
			}
			for x := xa; x < xb; x++ {
				seg[x] = row[x*s.sw-s.pw+kx]
			}
		}
	}
}

// pickBytes2Scalar writes dst[(p·rows + y)·w + x] = src[p·srcPlane +
// y·srcStride + 2x]: every other byte of rows of planes (a stride-2
// im2col row).
func pickBytes2Scalar(dst, src []uint8, rows, w, srcStride, planes, srcPlane int) {
	for p := range planes {
		for y := range rows {
			out, in := dst[(p*rows+y)*w:][:w], src[p*srcPlane+y*srcStride:]
			for x := range out {
				out[x] = in[2*x]
			}
		}
	}
}

// packConv runs im2col on images [b0, b0+nb) of n and packs its output
// into the B layout four rows at a time, so that the rows stay in cache
// between the two passes.
func (e *engine) packConv(src []uint8, s *step, n, b0, nb int) {
	N := nb * s.out.shape.H * s.out.shape.W
	// A 1×1 stride-1 unpadded convolution's im2col row k is channel k's
	// planes of the chunk's images, adjacent in CNHW storage: no copy.
	pointwise := s.pointwise()
	if s.quadIn {
		host.packQuadIn(e.pack, src, s.w.k4, n*N/nb, b0*N/nb, N)
		return
	}
	if pointwise && host.packPointwise != nil && host.packPointwise(e.pack, src[b0*N/nb:], n*N/nb, s.w.k, N) {
		return
	}
	for q := range s.w.k4 {
		var rows [4][]uint8
		for j := range 4 {
			if k := 4*q + j; k < s.w.k && pointwise {
				rows[j] = src[(k*n+b0)*N/nb:][:N]
			} else if k < s.w.k {
				rows[j] = e.cols[j*N : (j+1)*N]
				im2colRow(rows[j], src, s, n, b0, nb, k)
			} else {
				rows[j] = e.zeros[:N]
			}
		}
		packQuadAll(e.pack, s.w.k4, q, rows, N)
	}
}

// im2colRowValid is one im2col row of an unpadded stride-1 convolution:
// for every image and output row, ow bytes copied from input row y+ky
// starting at column kx.
func im2colRowValid(out, src []uint8, n, H, W, oh, ow, ky, kx int) {
	copyRows(out, src[ky*W+kx:], n, oh, ow, W, H*W)
}

// copyRowsScalar appends to dst, for each of planes planes (planeStride
// bytes apart in src) and each of its rows (srcStride bytes apart), the
// row's first w bytes. Short rows (LeNet's 8 and 24) are moved 8 bytes at
// a time, cheaper than copy's call.
func copyRowsScalar(dst, src []uint8, planes, rows, w, srcStride, planeStride int) {
	le := binary.LittleEndian
	o := 0
	for p := range planes {
		for y := range rows {
			in := src[p*planeStride+y*srcStride:][:w]
			out := dst[o : o+w]
			x := 0
			for ; x+8 <= w; x += 8 {
				le.PutUint64(out[x:], le.Uint64(in[x:]))
			}
			for ; x < w; x++ {
				out[x] = in[x]
			}
			o += w
		}
	}
}

// fill sets every byte of b to v: a few bytes by hand, then doubling
// copies (memmove speed, where a byte loop is one byte a cycle).
func fill(b []uint8, v uint8) {
	if len(b) == 0 {
		return
	}
	n := min(len(b), 16)
	for i := range n {
		b[i] = v
	}
	for n < len(b) {
		n += copy(b[n:], b[:n])
	}
}

// packRows packs a row-major k×n matrix into the B layout (gemm.go): for
// each quad of rows and group of 16 columns, 16 little-endian uint32s of
// the four rows' bytes. Rows past k read from zeros (len ≥ n; their
// weights are zero anyway).
func packRows(dst []byte, src []uint8, k, n, k4 int, zeros []uint8) {
	for q := range k4 {
		var rows [4][]uint8
		for j := range 4 {
			if r := 4*q + j; r < k {
				rows[j] = src[r*n : r*n+n]
			} else {
				rows[j] = zeros[:n]
			}
		}
		packQuadAll(dst, k4, q, rows, n)
	}
}

// packQuadAll packs one quad of rows (each n long) into every group.
func packQuadAll(dst []byte, k4, q int, rows [4][]uint8, n int) {
	full := n / laneCols
	packQuad(dst, k4, q, rows[0], rows[1], rows[2], rows[3], full)
	packQuadTail(dst, k4, q, rows, n)
}

// packQuadTail packs packQuadAll's ragged last group(s) of n columns.
func packQuadTail(dst []byte, k4, q int, rows [4][]uint8, n int) {
	full := n / laneCols
	for g := full; g < groupsFor(n); g++ { // the ragged last group(s), zeros past n
		blk := dst[(g*k4+q)*blockSize : (g*k4+q+1)*blockSize]
		lo := g * laneCols
		m := max(0, min(laneCols, n-lo))
		if m > 0 {
			r0, r1, r2, r3 := rows[0][lo:lo+m], rows[1][lo:lo+m], rows[2][lo:lo+m], rows[3][lo:lo+m]
			b := blk[:4*m]
			for l := range r0 {
				b[4*l], b[4*l+1], b[4*l+2], b[4*l+3] = r0[l], r1[l], r2[l], r3[l]
			}
		}
		clear(blk[4*m:])
	}
}

// packQuadScalar packs groups [0, full) of one row quad.
func packQuadScalar(dst []byte, k4, q int, r0, r1, r2, r3 []uint8, full int) {
	for g := range full {
		blk := dst[(g*k4+q)*blockSize : (g*k4+q+1)*blockSize]
		lo := g * laneCols
		a, b, c, d := r0[lo:lo+laneCols], r1[lo:lo+laneCols], r2[lo:lo+laneCols], r3[lo:lo+laneCols]
		for l := range laneCols {
			blk[4*l] = a[l]
			blk[4*l+1] = b[l]
			blk[4*l+2] = c[l]
			blk[4*l+3] = d[l]
		}
	}
}

// requantRowScalar is the requantization's inner loop (engine.requantImages:
// add the folded bias, multiply by M0·2^(−exp) with TFLite's double
// rounding, add Z_Y, clamp) for a right shift exp ≥ 0 and m0 > 0 (so SRDHM
// cannot saturate), with SRDHM and
// RoundingDivideByPOT inlined and branch-free: the signs of p and h are
// data-dependent, so branches would mispredict.
func requantRowScalar(out []uint8, row []int32, bias int64, m0 int32, exp uint, zy, lo, hi int32) {
	mask := int32(int64(1)<<exp - 1)
	half := mask >> 1
	M := int64(m0)
	out = out[:len(row)]
	for j, a := range row {
		v := max(min(int64(a)+bias, math.MaxInt32), math.MinInt32)
		p := v * M
		// nudge = 2^30 if p ≥ 0, 1 − 2^30 = 2^30 − (2^31−1) if p < 0.
		p += 1<<30 - (p>>63)&(1<<31-1)
		h := int32(p / (1 << 31)) // truncates toward zero, as gemmlowp
		th := half - h>>31        // one more for negative h
		y := h>>exp - (th-h&mask)>>31
		out[j] = uint8(min(max(y+zy, lo), hi))
	}
}

// pool runs max or average pooling on each (channel, image) plane.
// Max works on storage codes directly (the offset keeps the order); the
// average is taken on true codes, divided by the number of in-bounds
// elements and rounded half away from zero.
func pool(dst, src, tmp []uint8, s *step, n int, avg bool) {
	C, H, W := s.in.shape.C, s.in.shape.H, s.in.shape.W
	oh, ow := s.out.shape.H, s.out.shape.W
	p := s.pool
	off := s.in.off
	if !avg && p.KernelH == 2 && p.KernelW == 2 && p.StrideH == 2 && p.StrideW == 2 && p.PadH == 0 && p.PadW == 0 {
		if H%2 == 0 && W%2 == 0 && len(tmp) >= C*n*H*W/2 {
			// Horizontal pairs over the whole buffer at once (rows have
			// even length, so pairs never straddle rows), then rows.
			t := tmp[:C*n*H*W/2]
			maxPairs(t, src[:C*n*H*W])
			for r := range C * n * oh {
				a, b := t[2*r*ow:(2*r+1)*ow], t[(2*r+1)*ow:(2*r+2)*ow]
				o := dst[r*ow : (r+1)*ow]
				for x := range o {
					o[x] = max(a[x], b[x])
				}
			}
			return
		}
		maxPool2x2(dst, src, C*n, H, W, oh, ow)
		return
	}
	for plane := range C * n {
		in := src[plane*H*W : (plane+1)*H*W]
		out := dst[plane*oh*ow : (plane+1)*oh*ow]
		for y := range oh {
			y0 := y*p.StrideH - p.PadH
			ya, yb := max(y0, 0), min(y0+p.KernelH, H)
			for x := range ow {
				x0 := x*p.StrideW - p.PadW
				xa, xb := max(x0, 0), min(x0+p.KernelW, W)
				if !avg {
					var mx uint8
					for yy := ya; yy < yb; yy++ {
						for _, v := range in[yy*W+xa : yy*W+xb] {
							mx = max(mx, v)
						}
					}
					out[y*ow+x] = mx
					continue
				}
				var sum int32
				for yy := ya; yy < yb; yy++ {
					for _, v := range in[yy*W+xa : yy*W+xb] {
						sum += int32(v) - off
					}
				}
				cnt := int32((yb - ya) * (xb - xa))
				var q int32
				if sum >= 0 {
					q = (sum + cnt/2) / cnt
				} else {
					q = (sum - cnt/2) / cnt
				}
				out[y*ow+x] = uint8(q + off)
			}
		}
	}
}

// flatten relayouts CNHW (C, H, W) into CNHW (C·H·W, 1, 1) = [feature][image]:
// per channel, the transpose of its n×(H·W) block.
func flatten(dst, src []uint8, s intmodel.Shape, n int) {
	hw := s.H * s.W
	for c := range s.C {
		transposeBytes(dst[c*hw*n:(c+1)*hw*n], src[c*n*hw:(c+1)*n*hw], n, hw)
	}
}

// flatPack is the plan of a fully connected layer that packs its B from
// the CNHW input of the Flatten before it: each channel's H·W features
// padded to whole quads (hw4), so that a quad is four consecutive bytes of
// one image's plane and B's 16-column blocks are strided gathers, with no
// flattened copy (the transpose and packRows were 6–7% of vgg-small's
// integer inference). The pad features read the bytes after the plane
// (the next image's, or the buffer's slack) and have zero weights.
type flatPack struct {
	src        int // the tensor the Flatten reads
	c, hw, hw4 int
}

// newFlatPack plans the packing of a Flatten of shape s (tensor src), or
// returns nil where the padding would cost more than the copy saves
// (more than a quarter of the features; 1×1 planes, whose flatten is
// their layout already).
func newFlatPack(s intmodel.Shape, src int) *flatPack {
	hw := s.H * s.W
	hw4 := roundUp(hw, 4)
	if hw < 2 || 4*(hw4-hw) > hw {
		return nil
	}
	return &flatPack{src: src, c: s.C, hw: hw, hw4: hw4}
}

// k is the padded number of inputs per output.
func (f *flatPack) k() int { return f.c * f.hw4 }

// padWeights places the m×(c·hw) weights w in rows of k(), zeros in each
// channel's pad.
func (f *flatPack) padWeights(w []int8, m int) []int8 {
	out := make([]int8, m*f.k())
	for r := range m {
		for c := range f.c {
			copy(out[r*f.k()+c*f.hw4:][:f.hw], w[(r*f.c+c)*f.hw:][:f.hw])
		}
	}
	return out
}

// packFlat writes the B layout (gemm.go) of the flattened n images of src
// (CNHW, the Flatten's input): block (group g, quad q of channel c) lane l
// holds bytes 4p..4p+3 of image 16g+l's plane c, where q = c·hw4/4 + p;
// lanes past n hold zeros, quads past the channels' none. group writes one
// group's blocks (packFlatGroupScalar, or host.packFlatGroup).
func packFlat(dst []byte, src []uint8, f *flatPack, n, k4 int, group func(blocks []byte, src []uint8, f *flatPack, n, lanes int)) {
	src = src[:min(cap(src), f.c*n*f.hw+slack)]
	_ = src[f.c*n*f.hw+3] // the last pad reads up to 3 bytes past the planes: the buffer's slack
	q4 := f.hw4 / 4
	for g := range groupsFor(n) {
		lanes := min(laneCols, max(n-g*laneCols, 0))
		blocks := dst[g*k4*blockSize:][:f.c*q4*blockSize]
		if lanes == 0 { // a group the GEMM's panels round up to
			clear(blocks)
			continue
		}
		group(blocks, src[g*laneCols*f.hw:], f, n, lanes)
	}
}

// packFlatGroupScalar writes one group's blocks for packFlat: lanes images
// from src (their first plane; plane c at c·n·hw), the rest of each block
// zero. packFlat has checked every byte it reads.
func packFlatGroupScalar(blocks []byte, src []uint8, f *flatPack, n, lanes int) {
	le := binary.LittleEndian
	q4 := f.hw4 / 4
	for c := range f.c {
		plane := src[c*n*f.hw:]
		for p := range q4 {
			blk := blocks[(c*q4+p)*blockSize:][:blockSize]
			for l := range lanes {
				le.PutUint32(blk[4*l:], le.Uint32(plane[l*f.hw+4*p:]))
			}
			clear(blk[4*lanes:])
		}
	}
}

// transposeBytes writes out[j·rows + i] = in[i·cols + j], 8×8 bytes at a
// time (the byte-by-byte scatter, n bytes apart, was 5–7% of LeNet-5's and
// vgg-small's integer inference).
func transposeBytes(out, in []uint8, rows, cols int) {
	le := binary.LittleEndian
	out, in = out[:rows*cols], in[:rows*cols]
	r8, c8 := rows&^7, cols&^7
	for i := 0; i < r8; i += 8 {
		for j := 0; j < c8; j += 8 {
			var x [8]uint64
			for k := range x {
				x[k] = le.Uint64(in[(i+k)*cols+j:])
			}
			transpose8x8(&x)
			for k := range x {
				le.PutUint64(out[(j+k)*rows+i:], x[k])
			}
		}
		for j := c8; j < cols; j++ {
			for k := range 8 {
				out[j*rows+i+k] = in[(i+k)*cols+j]
			}
		}
	}
	for i := r8; i < rows; i++ {
		for j := range cols {
			out[j*rows+i] = in[i*cols+j]
		}
	}
}

// transpose8x8 transposes the 8×8 bytes x[row] byte col in place: 2×2
// blocks of bytes, then of 2-byte pairs, then of 4-byte halves swapped.
func transpose8x8(x *[8]uint64) {
	for _, st := range [...]struct {
		d    uint
		mask uint64
	}{{8, 0x00FF00FF00FF00FF}, {16, 0x0000FFFF0000FFFF}, {32, 0x00000000FFFFFFFF}} {
		step := int(st.d / 8)
		for i := range 8 {
			if i&step != 0 {
				continue
			}
			a, b := x[i], x[i+step]
			t := (a>>st.d ^ b) & st.mask
			x[i], x[i+step] = a^t<<st.d, b^t
		}
	}
}

// maxPool2x2 is the common 2×2, stride 2, unpadded max pool.
func maxPool2x2(dst, src []uint8, planes, H, W, oh, ow int) {
	for plane := range planes {
		in := src[plane*H*W : (plane+1)*H*W]
		out := dst[plane*oh*ow : (plane+1)*oh*ow]
		for y := range oh {
			r0 := in[2*y*W : 2*y*W+2*ow]
			r1 := in[(2*y+1)*W : (2*y+1)*W+2*ow]
			o := out[y*ow : y*ow+ow]
			for x := range o {
				o[x] = max(r0[2*x], r0[2*x+1], r1[2*x], r1[2*x+1])
			}
		}
	}
}

// maxPairsScalar writes dst[i] = max(src[2i], src[2i+1]).
func maxPairsScalar(dst, src []uint8) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = max(src[2*i], src[2*i+1])
	}
}

// makeBuf allocates an activation buffer of size bytes with slack spare
// capacity (direct packing's loads may run past the end).
func makeBuf(size int) []uint8 { return make([]uint8, size, size+slack) }

// wgFramable reports whether conv step pr, the only producer of a
// Winograd convolution's input of shape in, can write that input straight
// into the convolution's frames (step.framed): every channel requantized
// in one call, rows a vector wide at least, no fused pool, no tap plan (a
// stem, a Winograd or a GEMM convolution).
func wgFramable(pr *step, in intmodel.Shape) bool {
	return pr.conv && pr.groups == 0 && pr.tap == nil && !pr.fusePool && pr.framed == nil &&
		host.requantRowsCh != nil && pr.rqKind >= 0 && len(pr.rq) == in.C && in.W >= 8
}

// framedMinWidth is the narrowest depthwise input whose producer writes
// it straight into the frames: each row is a requantized vector (part)
// there, so narrow planes (MobileNetV2's 7×7 and 4×4) keep their
// contiguous requantization and framePlanes.
const framedMinWidth = 14

// frameLayout is a tensor stored in zero-point frames for a depthwise
// 3×3 (step.framed): channel c's image b at ((c·images + b)·Hp + ph)·Wp
// + pw, its rows Wp apart; the borders hold the zero point, written once
// (every chunk writes the same interiors).
type frameLayout struct {
	ph, pw, Hp, Wp int
	images         int // frames per channel: the engine's chunk
}

// plane is the bytes of one frame.
func (f *frameLayout) plane() int { return f.Hp * f.Wp }

// alloc returns the buffer of c channels' frames, every byte zx, with
// room after the last frame for what its reader's kernels read past it:
// past more frames and 4 KB.
func (f *frameLayout) alloc(c int, zx uint8, past int) []uint8 {
	b := make([]uint8, c*f.images*f.plane()+past*f.plane()+4096)
	fill(b, zx)
	return b[:c*f.images*f.plane()]
}

// at returns the offset of channel c's image b's first pixel.
func (f *frameLayout) at(c, b int) int { return ((c*f.images+b)*f.Hp+f.ph)*f.Wp + f.pw }
