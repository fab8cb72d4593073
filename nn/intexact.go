package nn

import (
	"errors"
	"fmt"
	"math"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/fixedpoint"
	"github.com/qatgo/qatgo/internal/parallel"
	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/kernels"
	"gonum.org/v1/gonum/blas"
	gblas "gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Integer-exact evaluation.
//
// Training runs the float simulation: a quantized layer computes
// conv(x̂, Ŵ) + b in float32 and its output quantizer rounds y/S_Y. The
// integer model computes something slightly different: an int32 bias
// rounded on its own grid, an exact integer accumulation and a fixed-point
// requantization M0·2^(shift−31) with TFLite's double rounding. The two
// differ by one code on rare values near rounding ties, which is how other
// tools end up with a converted model that disagrees with its simulation.
//
// In integer-exact mode (the default of a compiled Net) the evaluation graph
// therefore computes every quantized layer's output the integer way: it
// recovers the input codes q_X − Z_X = round(x̂/S_X) from the fake-quantized
// input (exact: x̂ is a float32 multiple of S_X), takes the weight codes q_W
// and int32 bias q_b from IntegerParams (the very parameters package export
// writes), accumulates Σ q_W·(q_X − Z_X) exactly (float64 GEMM of integers
// far below 2^53), and requantizes with package fixedpoint, the definition
// the integer runtime uses. The output is S_Y·(q_Y − Z_Y) in float32, as the
// fake-quant op writes it. The float path is still computed (the graph is
// built once) and its codes are compared, which IntegerExactStats reports.
// The training graph is never affected, nor are runs whose quantizers
// observe (Calibrate): Predict and evaluation are.

// ErrNotInteger is returned (wrapped) by IntegerParams for layers that have
// no true-integer form: missing or disabled quantizers, non-linear
// (power-of-two, float-format) quantizers, weights with a nonzero zero
// point, per-channel activations.
var ErrNotInteger = errors.New("nn: layer has no integer form")

// IntParams are the integer parameters of one quantized layer (Conv2d,
// ConvBn with its batch norm folded, Linear), computed from its LayerInfo.
// They are what the integer-exact evaluation computes with and what package
// export writes into an integer model, so the two cannot differ.
type IntParams struct {
	// Weights are the weight codes q_W = clamp(round(W/S_W)) in WeightShape
	// order (output channel first), from fakequant.Quantize of the folded
	// float weight with the weight quantizer's parameters: the codes the
	// fake-quant op puts on the grid. Their zero point is 0.
	Weights     []int32
	WeightBits  int
	WeightScale []float32 // 1 (per tensor) or OutChannels values
	// In and Out are the per-tensor quantization of the layer's input and
	// output activations.
	In, Out fakequant.QParams
	// Bias is q_b = fixedpoint.QuantizeBias(b, S_W, S_X) per output channel.
	Bias []int32
	// M0 and Shift are fixedpoint.RequantMultiplier(S_W, S_X, S_Y) per
	// output channel.
	M0    []int32
	Shift []int
	// QMin and QMax clamp the output codes; a fused ReLU raises QMin to Z_Y.
	QMin, QMax int32
}

// enabledQ is implemented by quantizers that can be switched off.
type enabledQ interface{ Enabled() bool }

// observingQ is implemented by quantizers whose ranges can be observed.
type observingQ interface{ Observing() bool }

func actParams(what string, q NamedQuantizer) (fakequant.QParams, error) {
	if q.Q == nil {
		return fakequant.QParams{}, fmt.Errorf("%w: %s is not quantized", ErrNotInteger, what)
	}
	if e, ok := q.Q.(enabledQ); ok && !e.Enabled() {
		return fakequant.QParams{}, fmt.Errorf("%w: quantizer %s is disabled", ErrNotInteger, q.Name)
	}
	p, err := q.Q.QParams()
	if err != nil {
		return fakequant.QParams{}, fmt.Errorf("%w: quantizer %s: %v", ErrNotInteger, q.Name, err)
	}
	if len(p.Scale) != 1 || len(p.ZeroPoint) != 1 {
		return fakequant.QParams{}, fmt.Errorf("%w: quantizer %s has %d scales, want one (per tensor)", ErrNotInteger, q.Name, len(p.Scale))
	}
	return p, nil
}

// IntegerParams computes the integer parameters of a quantized layer
// described by li (a "conv2d", "convbn" or "linear" entry of Net.Layers).
func IntegerParams(li LayerInfo) (*IntParams, error) {
	switch li.Kind {
	case "conv2d", "convbn", "linear":
	default:
		return nil, fmt.Errorf("%w: %s is a %s layer", ErrNotInteger, li.Name, li.Kind)
	}
	px, err := actParams(li.Name+" input", li.InputQ)
	if err != nil {
		return nil, err
	}
	py, err := actParams(li.Name+" output", li.OutputQ)
	if err != nil {
		return nil, err
	}
	if li.WeightQ.Q == nil {
		return nil, fmt.Errorf("%w: %s weights are not quantized", ErrNotInteger, li.Name)
	}
	if e, ok := li.WeightQ.Q.(enabledQ); ok && !e.Enabled() {
		return nil, fmt.Errorf("%w: quantizer %s is disabled", ErrNotInteger, li.WeightQ.Name)
	}
	pw, err := li.WeightQ.Q.QParams()
	if err != nil {
		return nil, fmt.Errorf("%w: quantizer %s: %v", ErrNotInteger, li.WeightQ.Name, err)
	}
	outC := li.OutChannels
	if pw.Scheme.Granularity == fakequant.PerChannel && (pw.Scheme.Axis != 0 || len(pw.Scale) != outC) {
		return nil, fmt.Errorf("%w: %s weights are per-channel along axis %d with %d scales, want axis 0 with %d",
			ErrNotInteger, li.Name, pw.Scheme.Axis, len(pw.Scale), outC)
	}
	if len(pw.Scale) != 1 && len(pw.Scale) != outC {
		return nil, fmt.Errorf("%w: %s has %d weight scales for %d channels", ErrNotInteger, li.Name, len(pw.Scale), outC)
	}
	if !pw.Scheme.Signed {
		return nil, fmt.Errorf("%w: %s weights are unsigned (%v); the integer model needs signed symmetric weights", ErrNotInteger, li.Name, pw.Scheme)
	}
	for c, z := range pw.ZeroPoint {
		if z != 0 {
			return nil, fmt.Errorf("%w: %s weights have zero point %d in channel %d (%v); the integer model needs symmetric weights (Z_W = 0)",
				ErrNotInteger, li.Name, z, c, pw.Scheme)
		}
	}
	if len(li.Bias) != outC || outC < 1 || len(li.Weight)%outC != 0 {
		return nil, fmt.Errorf("%w: %s has %d biases and %d weights for %d channels", ErrNotInteger, li.Name, len(li.Bias), len(li.Weight), outC)
	}
	p := &IntParams{WeightBits: pw.Scheme.Bits, WeightScale: append([]float32(nil), pw.Scale...), In: px, Out: py,
		Weights: make([]int32, len(li.Weight)), Bias: make([]int32, outC), M0: make([]int32, outC), Shift: make([]int, outC)}
	if err := fakequant.Quantize(p.Weights, li.Weight, pw, li.WeightShape); err != nil {
		return nil, fmt.Errorf("nn: %s weights: %w", li.Name, err)
	}
	sx, sy := px.Scale[0], py.Scale[0]
	for c := range outC {
		sw := pw.Scale[0]
		if len(pw.Scale) > 1 {
			sw = pw.Scale[c]
		}
		p.M0[c], p.Shift[c] = fixedpoint.RequantMultiplier(sw, sx, sy)
		p.Bias[c] = fixedpoint.QuantizeBias(li.Bias[c], sw, sx)
	}
	// The clamp of the output type narrowed by a fused ReLU or ReLU6
	// (intmodel.ClampFor: only range, scale and zero point matter here).
	p.QMin, p.QMax = intmodel.ClampFor(intmodel.ActQuant{Scale: py.Scale[0], ZeroPoint: py.ZeroPoint[0], Bits: py.Scheme.Bits, Signed: py.Scheme.Signed}, li.ReLU, li.ReLU6)
	return p, nil
}

// intExact is a Net's integer-exact evaluation state, shared by its
// evaluation graph's ops.
type intExact struct {
	on     bool
	ops    []*intExactOp
	byName map[string]*intExactOp

	// Scratch of the ops, which run one after another: the input codes as
	// float64 (for the float64 paths) and as float32, the accumulators.
	// Per op they were ~100 MB for each of a ResNet-20's stage-1 layers at
	// batch 256 (1 GB of live heap for the whole net).
	xi, acc []float64
	x32     []float32
	multi   [][]int32 // the input codes of a layer without weights
	// per worker of the image loops: its GEMM and im2col scratch
	work []exactWork
}

// exactWork is one worker's scratch for the per-image convolutions.
type exactWork struct {
	gemm          kernels.Gemm
	cols32, acc32 []float32
	cols          []float64
}

// workers returns k workers' scratch.
func (ie *intExact) workers(k int) []exactWork {
	if len(ie.work) < k {
		ie.work = append(ie.work, make([]exactWork, k-len(ie.work))...)
	}
	return ie.work[:k]
}

// convExact64 sets ie.acc to the convolution of the input codes ie.xi (n
// images of cin channels) with the weights, per image and group, in
// float64 (depthwise groups by direct sums), the images split over the
// cores.
func (st *intExactOp) convExact64(g convGeom, cin, n, groups, og, per, hw int, impl gblas.Implementation) {
	ie := st.ie
	k := g.c * g.k[0] * g.k[1]
	plane := g.c * g.h * g.w
	nw := parallel.Chunks(n, 1)
	work := ie.workers(nw)
	parallel.For(n, nw, 1, func(w, lo, hi int) {
		ws := &work[w]
		if g.c != 1 {
			ws.cols = grow(ws.cols, k*hw)
		}
		for b := lo; b < hi; b++ {
			for gi := range groups {
				src := ie.xi[b*cin*g.h*g.w+gi*plane:]
				dst := ie.acc[b*per+gi*og*hw : b*per+(gi+1)*og*hw]
				if g.c == 1 {
					// Depthwise: a GEMM per single-channel group is mostly
					// call overhead; sum the window directly.
					g.direct(dst, src[:plane], st.wi[gi*og*k:(gi+1)*og*k], og)
					continue
				}
				kernels.Im2col(ws.cols, src[:plane], g.c, g.h, g.w, g.k[0], g.k[1],
					kernels.ConvParams{Stride: g.s, Pad: g.p, Dilation: g.d})
				impl.Dgemm(blas.NoTrans, blas.NoTrans, og, hw, k, 1, st.wi[gi*og*k:], k, ws.cols, hw, 0, dst, hw)
			}
		}
	})
}

// convExact32 is convExact64 in float32 on the codes ie.x32 and st.w32, by
// the packed SIMD GEMM: the reduction over the K = c·kh·kw terms runs in
// chunks of at most kc (exactChunk), each chunk's partial sums are integers
// below 2^24 and so exact in float32 whatever the order of the additions,
// and the chunks add in float64, exactly. Grouped, not depthwise.
func (st *intExactOp) convExact32(g convGeom, cin, n, groups, og, per, hw, kc int) {
	ie := st.ie
	k := g.c * g.k[0] * g.k[1]
	plane := g.c * g.h * g.w
	nw := parallel.Chunks(n, 1)
	work := ie.workers(nw)
	parallel.For(n, nw, 1, func(w, lo, hi int) {
		ws := &work[w]
		ws.cols32 = grow(ws.cols32, k*hw)
		ws.acc32 = grow(ws.acc32, og*hw)
		for b := lo; b < hi; b++ {
			for gi := range groups {
				src := ie.x32[b*cin*g.h*g.w+gi*plane:]
				kernels.Im2col(ws.cols32, src[:plane], g.c, g.h, g.w, g.k[0], g.k[1],
					kernels.ConvParams{Stride: g.s, Pad: g.p, Dilation: g.d})
				dst := ie.acc[b*per+gi*og*hw : b*per+(gi+1)*og*hw]
				for k0 := 0; k0 < k; k0 += kc {
					ws.gemm.Sgemm(ws.acc32, hw, false, false, og, hw, min(kc, k-k0), 1, st.w32[gi*og*k+k0:], k, ws.cols32[k0*hw:], hw, 0)
					addExact(dst, ws.acc32, k0 == 0)
				}
			}
		}
	})
}

// linearExact32 sets ie.acc (n×out) to x32 (n×in) · w32ᵀ in chunks of kc
// terms, as convExact32.
func (st *intExactOp) linearExact32(n, in, out, kc int) {
	ie := st.ie
	ws := &ie.workers(1)[0]
	ws.acc32 = grow(ws.acc32, n*out)
	for k0 := 0; k0 < in; k0 += kc {
		ws.gemm.Sgemm(ws.acc32, out, false, true, n, out, min(kc, in-k0), 1, ie.x32[k0:], in, st.w32[k0:], in, 0)
		addExact(ie.acc[:n*out], ws.acc32, k0 == 0)
	}
}

// addExact sets (first) or adds the integer-valued float32 sums src into
// dst.
func addExact(dst []float64, src []float32, first bool) {
	dst = dst[:len(src)]
	if first {
		for i, v := range src {
			dst[i] = float64(v)
		}
		return
	}
	for i, v := range src {
		dst[i] += float64(v)
	}
}

// exactGrain is the fewest elements a core takes in the elementwise loops
// of integer-exact evaluation.
const exactGrain = 1 << 15

// exactIn32 reports whether a product of k terms |x|·|w| ≤ xmax·wmax sums
// exactly in float32: every partial sum is an integer of magnitude below
// 2^24, which float32 represents exactly, so the order of the additions
// (and FMA) cannot change the result.
func exactIn32(k int, xmax, wmax float64) bool {
	return float64(k)*xmax*wmax < 1<<24
}

// exactChunk is the most terms of a sum of products |x|·|w| ≤ xmax·wmax
// that exactIn32 admits, at most k; 0 when not even one (codes of more
// than 12 bits each), which leaves the float64 path.
func exactChunk(k int, xmax, wmax float64) int {
	if exactIn32(k, xmax, wmax) {
		return k
	}
	c := int(math.Ceil((1<<24)/(xmax*wmax))) - 1
	for c > 0 && !exactIn32(c, xmax, wmax) {
		c--
	}
	return c
}

// maxAbs is the largest |v|.
func maxAbs(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}

// to32 converts integer-valued float64s to float32 (exactly: they are
// integers below 2^24 where it is used).
func to32(dst []float32, src []float64) []float32 {
	dst = grow(dst, len(src))
	for i, v := range src {
		dst[i] = float32(v)
	}
	return dst
}

// intExactOp is the state of one layer's integer-exact op.
type intExactOp struct {
	ie   *intExact
	l    describer
	inQ  NamedQuantizer
	name string

	// Set by the last run.
	used     bool  // the last run computed the integer way
	reason   error // why not, when it did not
	inCodes  []int32
	outCodes []int32
	codes    int64 // output codes computed the integer way so far
	differ   int64 // of which the float simulation rounds differently

	wi  []float64 // the weights as float64
	w32 []float32 // and as float32, for the exact float32 path

	// Layers without weights (intexact_ops.go).
	inQs []NamedQuantizer
	outQ NamedQuantizer
	fn   exactFn
}

// integerExact appends layer l's integer-exact op after its float output y
// (x is the layer's input, inQ the quantizer whose grid x is on). Only
// evaluation graphs get one; layers without integer form pass y through.
func (b *Builder) integerExact(l describer, inQ NamedQuantizer, x, y *G.Node) (*G.Node, error) {
	if b.mode != Eval || b.ie == nil || inQ.Q == nil {
		return y, nil
	}
	li := l.describe()
	if li.WeightQ.Q == nil || li.OutputQ.Q == nil {
		return y, nil
	}
	st := &intExactOp{ie: b.ie, l: l, inQ: inQ, name: li.Name}
	b.ie.ops = append(b.ie.ops, st)
	if b.ie.byName == nil {
		b.ie.byName = map[string]*intExactOp{}
	}
	b.ie.byName[li.Name] = st
	op := &fnOp{name: "intexact." + li.Name, dt: b.dt, outShape: y.Shape().Clone()}
	op.fwd = func(out *tensor.Dense, v []*tensor.Dense) error { return st.forward(out, v[0], v[1]) }
	return apply(op, x, y)
}

func floats64(dst []float64, t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float32:
		dst = grow(dst, len(d))
		for i, v := range d {
			dst[i] = float64(v)
		}
	case []float64:
		dst = grow(dst, len(d))
		copy(dst, d)
	}
	return dst
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func (st *intExactOp) forward(out, x, y *tensor.Dense) error {
	st.used = false
	if !st.ie.on {
		st.reason = errors.New("nn: integer-exact evaluation is off")
		return copyDense(out, y)
	}
	li := st.l.describe()
	li.InputQ = st.inQ
	// While ranges are being observed (Calibrate) the grid moves under the
	// run: the integer form exists only for frozen ranges, and observers
	// see the float simulation's values, as in training.
	for _, q := range []NamedQuantizer{li.InputQ, li.WeightQ, li.OutputQ} {
		if o, ok := q.Q.(observingQ); ok && o.Observing() {
			st.reason = fmt.Errorf("nn: quantizer %s is observing", q.Name)
			return copyDense(out, y)
		}
	}
	p, err := IntegerParams(li)
	if err != nil {
		st.reason = err
		return copyDense(out, y)
	}
	sx, zx := float64(p.In.Scale[0]), p.In.ZeroPoint[0]

	// Input codes relative to Z_X, recovered exactly from the grid values,
	// as float32 (exact: codes have at most 16 bits) and as int32 codes.
	ie := st.ie
	nx := x.Shape().TotalSize()
	st.inCodes = grow(st.inCodes, nx)
	ie.x32 = grow(ie.x32, nx)
	var xmax float64
	bad := -1
	switch d := x.Data().(type) {
	case []float32:
		xmax, bad = inputCodes(d, sx, zx, st.inCodes, ie.x32)
	case []float64:
		xmax, bad = inputCodes(d, sx, zx, st.inCodes, ie.x32)
	}
	if bad >= 0 {
		st.reason = fmt.Errorf("nn: %s: input value %g is not on its quantizer's grid (S=%g): integer-exact evaluation needs quantized inputs", li.Name, floats64(nil, x)[bad], sx)
		return st.reason
	}
	st.wi = grow(st.wi, len(p.Weights))
	for i, w := range p.Weights {
		st.wi[i] = float64(w)
	}
	st.w32 = to32(st.w32, st.wi)
	wmax := maxAbs(st.wi)
	outC := li.OutChannels
	ys := out.Shape()
	n := ys[0]
	per := ys.TotalSize() / n // outputs per sample
	hw := per / outC
	ie.acc = grow(ie.acc, ys.TotalSize())
	var impl gblas.Implementation
	if li.Kind == "linear" {
		in := li.InChannels
		// acc (N, out) = xi (N, in) · Wᵀ.
		if kc := exactChunk(in, xmax, wmax); kc > 0 {
			st.linearExact32(n, in, outC, kc)
		} else {
			ie.xi = codes64(ie.xi, ie.x32)
			impl.Dgemm(blas.NoTrans, blas.Trans, n, outC, in, 1, ie.xi, in, st.wi, in, 0, ie.acc, outC)
		}
	} else {
		xs := x.Shape()
		groups := max(li.Groups, 1)
		// Each group convolves its C/groups input channels into its
		// outC/groups output channels.
		g := convGeom{c: xs[1] / groups, h: xs[2], w: xs[3], oh: ys[2], ow: ys[3], k: li.Kernel, s: li.Stride, p: li.Padding, d: li.Dilation}
		og := outC / groups
		if kc := exactChunk(g.c*g.k[0]*g.k[1], xmax, wmax); g.c > 1 && kc > 0 {
			st.convExact32(g, xs[1], n, groups, og, per, hw, kc)
		} else {
			ie.xi = codes64(ie.xi, ie.x32)
			st.convExact64(g, xs[1], n, groups, og, per, hw, impl)
		}
	}
	st.outCodes = grow(st.outCodes, len(ie.acc))
	var differ int64
	switch d := out.Data().(type) {
	case []float32:
		differ = requant(st, d, y.Data().([]float32), p, outC, hw)
	case []float64:
		differ = requant(st, d, y.Data().([]float64), p, outC, hw)
	}
	st.codes += int64(len(ie.acc))
	st.differ += differ
	st.used, st.reason = true, nil
	return nil
}

// inputCodes sets codes[i] = round(x[i]/s) + z and, unless x32 is nil,
// x32[i] = round(x[i]/s), split over the cores; it returns the largest |round(x/s)| and the index
// of the first value off the grid (−1: none).
func inputCodes[T float32 | float64](x []T, s float64, z int32, codes []int32, x32 []float32) (xmax float64, bad int) {
	k := parallel.Chunks(len(x), exactGrain)
	type part struct {
		max float64
		bad int
	}
	parts := make([]part, k)
	// x/s by a product: x is within float32 rounding of an integer times
	// s, so the product's 2^-53 more error cannot move round(x/s).
	inv := 1 / s
	parallel.For(len(x), k, 1, func(c, lo, hi int) {
		m, b := 0.0, -1
		for i := lo; i < hi; i++ {
			v := float64(x[i]) * inv
			r := math.RoundToEven(v)
			if d := v - r; (d > 1e-3 || d < -1e-3) && b < 0 {
				b = i
			}
			if x32 != nil {
				x32[i] = float32(r)
			}
			codes[i] = int32(r) + z
			if a := math.Abs(r); a > m { // a branch, not max's NaN-aware chain through m
				m = a
			}
		}
		parts[c] = part{m, b}
	})
	bad = -1
	for _, pt := range parts {
		if pt.bad >= 0 && bad < 0 {
			bad = pt.bad
		}
		xmax = max(xmax, pt.max)
	}
	return xmax, bad
}

// codes64 is x32 as float64.
func codes64(dst []float64, x32 []float32) []float64 {
	dst = grow(dst, len(x32))
	for i, v := range x32 {
		dst[i] = float64(v)
	}
	return dst
}

// requant requantizes the accumulators st.ie.acc plane by plane (plane i
// is channel i mod outC, of hw values) into st.outCodes, writes S_Y·(q −
// Z_Y) into out, and returns how many codes the float
// simulation y rounds differently; the planes split over the cores.
func requant[T float32 | float64](st *intExactOp, out, y []T, p *IntParams, outC, hw int) int64 {
	acc, codes := st.ie.acc, st.outCodes
	sy, zy := p.Out.Scale[0], p.Out.ZeroPoint[0]
	inv := 1 / float64(sy) // as inputCodes: y is on the grid
	return countSplit(len(acc)/hw, parallel.Chunks(len(acc), exactGrain), func(lo, hi int) (d int64) {
		for pl := lo; pl < hi; pl++ {
			c := pl % outC
			m0, shift, bias := p.M0[c], p.Shift[c], int64(p.Bias[c])
			for i := pl * hw; i < (pl+1)*hw; i++ {
				q := fixedpoint.Requantize(int64(acc[i])+bias, m0, shift, zy, p.QMin, p.QMax)
				codes[i] = q
				if emit(out, y, i, q, inv, sy, zy) {
					d++
				}
			}
		}
		return d
	})
}

// countSplit runs f over k chunks of [0, n) split between the cores and
// returns the sum of its counts.
func countSplit(n, k int, f func(lo, hi int) int64) int64 {
	counts := make([]int64, k)
	parallel.For(n, k, 1, func(ch, lo, hi int) { counts[ch] = f(lo, hi) })
	var sum int64
	for _, c := range counts {
		sum += c
	}
	return sum
}

// emit writes code q's value S·(q − Z) into out[i] and reports whether the
// float simulation's y[i] (on the same grid, 1/S = inv) stands for another
// code.
func emit[T float32 | float64](out, y []T, i int, q int32, inv float64, s float32, z int32) bool {
	out[i] = dequant[T](q, s, z)
	return int32(math.RoundToEven(float64(y[i])*inv))+z != q
}

// dequant is S·(q − Z) in T (in float32 as the fake-quant op writes it).
func dequant[T float32 | float64](q int32, s float32, z int32) T {
	var t T
	if _, ok := any(t).(float32); ok {
		return T(float32(q-z) * s)
	}
	return T(float64(q-z) * float64(s))
}

func copyDense(dst, src *tensor.Dense) error {
	switch d := dst.Data().(type) {
	case []float32:
		copy(d, src.Data().([]float32))
	case []float64:
		copy(d, src.Data().([]float64))
	default:
		return fmt.Errorf("nn: integer-exact op: dtype %v", dst.Dtype())
	}
	return nil
}

// convGeom is one sample's convolution geometry for im2col.
type convGeom struct {
	c, h, w, oh, ow int
	k, s, p, d      [2]int
}

// direct writes the og output planes of a single-channel group: dst[o]
// = Σ w[o,ky,kx]·x[iy,ix] over the window (padding contributes 0), exact
// in float64 for integer codes.
func (g convGeom) direct(dst, x, w []float64, og int) {
	kh, kw := g.k[0], g.k[1]
	for o := range og {
		wo := w[o*kh*kw : (o+1)*kh*kw]
		out := dst[o*g.oh*g.ow : (o+1)*g.oh*g.ow]
		for oy := range g.oh {
			for ox := range g.ow {
				var sum float64
				for ky := range kh {
					iy := oy*g.s[0] - g.p[0] + ky*g.d[0]
					if iy < 0 || iy >= g.h {
						continue
					}
					row := x[iy*g.w:]
					for kx := range kw {
						ix := ox*g.s[1] - g.p[1] + kx*g.d[1]
						if ix >= 0 && ix < g.w {
							sum += wo[ky*kw+kx] * row[ix]
						}
					}
				}
				out[oy*g.ow+ox] = sum
			}
		}
	}
}

// SetIntegerExactEval turns integer-exact evaluation of quantized layers on
// (the default) or off (the plain float simulation, as in training). See
// IntegerParams and package fixedpoint.
func (n *Net) SetIntegerExactEval(on bool) { n.ie.on = on }

// IntegerExactEval reports whether integer-exact evaluation is on.
func (n *Net) IntegerExactEval() bool { return n.ie.on }

// IntegerExactStats returns, over every evaluation-graph run so far, the
// number of output codes quantized layers computed the integer way and how
// many of them the float simulation (conv + bias in float32, then
// round(y/S_Y)) would have rounded to a different code.
func (n *Net) IntegerExactStats() (codes, differing int64) {
	for _, st := range n.ie.ops {
		codes += st.codes
		differing += st.differ
	}
	return codes, differing
}

// LayerCodes returns the integer codes of the input and output of quantized
// layer name from the last evaluation-graph run (Predict), for all Batch
// samples in NCHW (or N×features) order: true codes q = round(x/S) + Z.
// It fails if that run did not compute the layer the integer way, saying
// why.
func (n *Net) LayerCodes(name string) (in, out []int32, err error) {
	st, ok := n.ie.byName[name]
	if !ok {
		return nil, nil, fmt.Errorf("nn: no quantized layer %q with integer-exact evaluation", name)
	}
	if !st.used {
		if st.reason == nil {
			return nil, nil, fmt.Errorf("nn: layer %q: no evaluation has run", name)
		}
		return nil, nil, fmt.Errorf("nn: layer %q was not evaluated the integer way: %w", name, st.reason)
	}
	return append([]int32(nil), st.inCodes...), append([]int32(nil), st.outCodes...), nil
}
