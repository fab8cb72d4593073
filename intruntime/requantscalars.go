package intruntime

import "math"

// requantScalars are the operands of requantAVX2 and the AVX-512
// requantization kernels (requantRowsCh512, requantFlatCh512), which
// broadcast them (field order is the assembly's offsets).
type requantScalars struct {
	hib, lob, bias, m0, half, mask, zy, lo, hi int32
	// fc: the float kernels' slope (rqFloat8, floatrequant.go; fd below).
	fc  float32
	c30 int64
	exp uint64
	// the AVX-512 kernels': with p = clamp(acc, lob, hib)·M0 + k64, the output
	// is (p − corr·[p < thr]) >> sh, + Z_Y (see set).
	k64, thr, corr int64
	sh             uint64
	// exactSum: the accumulators of this channel plus its bias cannot
	// leave int32, so the saturating add may skip its clamp (set by
	// planRequant, after set; Go only, past the assembly's fields).
	exactSum bool
	// noNeg: the correction for a negative h (see set) changes no output
	// (exp = 0: there is none; lo ≥ Z_Y, as after a fused ReLU: where h <
	// 0 both the corrected and the uncorrected result are ≤ 0, and the
	// clamp to lo takes either to lo), so the kernels may leave it out.
	noNeg bool
	// relu8: Z_Y = lo = 0 and hi = 255 (noNeg too), where the kernels
	// need neither add Z_Y nor clamp to hi (a narrowing that saturates).
	relu8 bool
	// float: the float kernel whose operands fc and fd give every
	// accumulator of this channel the same code as the fixed-point ones
	// (setFloat): floatRelu8 (rqFloat8), floatSymmetric (rqFloatSym), or
	// none.
	float uint8
	// fd: the float kernels' offset, at byte 92 (the assembly's).
	fd float32
}

// set fills c with the assembly's operands, field by field (a struct
// built and returned whole is copied by 16-byte moves that cannot forward
// from its 4-byte stores: a stall per call, measured at ~25 ns), and
// reports false where the assembly cannot be exact: a bias beyond int32
// (its saturating add is a clamp of the accumulator to [lob, hib] then a
// wrapping add), a shift beyond 31, clamp bounds outside a byte, or
// M0 = −2^31 (SRDHM's one overflow).
func (c *requantScalars) set(bias int64, m0 int32, exp uint, zy, lo, hi int32) bool {
	if bias != int64(int32(bias)) || lo < 0 || hi > 255 || exp > 31 || m0 == math.MinInt32 {
		return false
	}
	b := int32(bias)
	mask := int32(int64(1)<<exp - 1)
	c.hib, c.lob, c.bias, c.m0, c.half, c.mask = math.MaxInt32, math.MinInt32, b, m0, mask>>1, mask
	c.zy, c.lo, c.hi, c.c30, c.exp = zy, lo, hi, 1<<30, uint64(exp)
	if b >= 0 {
		c.hib -= b
	} else {
		c.lob -= b
	}
	// Both roundings as one shift. With p the product (v + bias)·M0 of
	// the clamped accumulator v, SRDHM is h = ⌊(p + 2^30)/2^31⌋ (see
	// requantRowScalar) and rounding h/2^exp half away from zero is
	// ⌊(h + 2^(exp−1))/2^exp⌋ for h ≥ 0, ⌊(h + 2^(exp−1) − 1)/2^exp⌋ for
	// h < 0 (no nudge for exp = 0). Since ⌊(⌊a/m⌋ + c)/n⌋ = ⌊(a + c·m)/(m·n)⌋
	// for integers, that is ⌊(p + 2^30 + 2^(30+exp) − [h < 0]·2^31) / 2^(31+exp)⌋,
	// and h < 0 exactly when p + 2^30 < 0. |p| ≤ 2^62 (v + bias stays in
	// int32), so nothing overflows 64 bits for exp ≤ 31.
	c.k64, c.sh = int64(b)*int64(m0)+1<<30, 31+uint64(exp)
	c.thr, c.corr = 0, 0
	if exp > 0 {
		c.k64 += 1 << (30 + exp)
		c.thr, c.corr = 1<<(30+exp), 1<<31
	}
	// Uncorrected, where h < 0 (p + 2^30 < 0) the quotient's numerator
	// p + 2^30 + 2^(30+exp) is below 2^(31+exp): a result ≤ 0, as the
	// rounded h/2^exp is.
	c.noNeg = exp == 0 || lo >= zy
	c.relu8 = zy == 0 && lo == 0 && hi == 255
	return true
}

// The requantization kernels, by what a channel's operands let them leave
// out (requantScalars.kernel): the saturating bias add's clamp, the
// negative-product correction, and Z_Y with the upper clamp.
const (
	rqGeneral  = iota // everything
	rqExact           // exactSum: no bias clamp
	rqNoNeg           // exactSum and noNeg: no correction either
	rqRelu8           // exactSum and relu8: nor Z_Y and the upper clamp
	rqFloat8          // relu8 and float: one float multiply-add (floatrequant.go)
	rqFloatSym        // exactSum, not relu8, and float: the symmetric float kernel
)

// relu8Kind reports whether kernel kind computes relu8 channels only
// (rqRelu8, rqFloat8, with or without rqMixed).
func relu8Kind(kind int) bool {
	kind &^= rqMixed
	return kind == rqRelu8 || kind == rqFloat8
}

// serves reports whether kernel kind gives channel c its exact codes:
// each kernel serves the channels whose operands allow it, and the
// fixed-point ones also serve those of every later, more specialised
// fixed-point kernel (a channel that allows rqRelu8 allows rqNoNeg too).
func (c *requantScalars) serves(kind int) bool {
	switch kind {
	case rqGeneral:
		return true
	case rqExact:
		return c.exactSum
	case rqNoNeg:
		return c.exactSum && c.noNeg
	case rqRelu8:
		return c.exactSum && c.relu8
	case rqFloat8:
		return c.exactSum && c.relu8 && c.float == floatRelu8
	case rqFloatSym:
		return c.exactSum && !c.relu8 && c.float == floatSymmetric
	}
	return false
}

// rqMixed flags a layer's kernel kind (planKind) whose channels include
// some with float operands where commonKernel is a fixed-point kernel.
const rqMixed = 1 << 4

// planKind is the kernel kind a layer's calls take: commonKernel, with
// rqMixed where some channels allow its float twin (kindRuns) in at most
// maxFloatRuns runs: each run is a kernel call (resnet20's layers, a few
// channels scattered among float ones, split into up to 8: as fast as
// unsplit, +2–4% for the model).
func planKind(rq []requantScalars) int {
	k := commonKernel(rq)
	up := -1
	switch k {
	case rqRelu8:
		up = rqFloat8
	case rqExact, rqNoNeg:
		up = rqFloatSym
	}
	if up < 0 {
		return k
	}
	runs, some, prev := 0, false, false
	for i := range rq {
		f := rq[i].serves(up)
		if i == 0 || f != prev {
			runs++
		}
		some, prev = some || f, f
	}
	if some && runs <= maxFloatRuns {
		return k | rqMixed
	}
	return k
}

// maxFloatRuns is the most runs of channels planKind lets a layer's calls
// split into.
const maxFloatRuns = 8

// kindRuns calls f(m0, m1, k) for consecutive runs [m0, m1) of rq's
// channels with the kernel k each run takes: kind, or where kind has
// rqMixed (planKind), in groups of group channels (a quad, a GEMM panel),
// its float twin (rqRelu8: rqFloat8; rqNoNeg, rqExact: rqFloatSym where
// sym) for the groups whose channels all allow it. So a layer where a few
// channels have no exact float operands (commonKernel: the fixed-point
// kernel) still takes the float kernels for the rest.
func kindRuns(rq []requantScalars, kind, group int, sym bool, f func(m0, m1, kind int)) {
	if kind&rqMixed == 0 { // one kernel for all: no scan
		f(0, len(rq), kind)
		return
	}
	kind &^= rqMixed
	up := kind
	switch {
	case kind == rqRelu8:
		up = rqFloat8
	case sym && (kind == rqExact || kind == rqNoNeg):
		up = rqFloatSym
	}
	start, cur := 0, -1
	for g := 0; g < len(rq); g += group {
		k := up
		for i := g; i < min(g+group, len(rq)); i++ {
			if !rq[i].serves(up) {
				k = kind
				break
			}
		}
		if cur >= 0 && k != cur {
			f(start, g, cur)
			start = g
		}
		cur = k
	}
	if cur >= 0 {
		f(start, len(rq), cur)
	}
}

// rqPreference is the order in which commonKernel picks a kernel: fewest
// instructions first.
var rqPreference = [...]int{rqFloat8, rqRelu8, rqFloatSym, rqNoNeg, rqExact, rqGeneral}

// kernel is the fewest-instruction requantization kernel c's operands
// allow (the first of rqPreference that serves c).
func (c *requantScalars) kernel() int {
	switch {
	case c.exactSum && c.relu8 && c.float == floatRelu8:
		return rqFloat8
	case c.exactSum && c.relu8:
		return rqRelu8
	case c.exactSum && c.float == floatSymmetric:
		return rqFloatSym
	case c.exactSum && c.noNeg:
		return rqNoNeg
	case c.exactSum:
		return rqExact
	}
	return rqGeneral
}
