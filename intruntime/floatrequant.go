package intruntime

import (
	"math"
	"math/bits"
)

// The float requantization (rqFloat8). A relu8 channel's fixed-point
// requantization needs 64-bit products: eight vector instructions per 16
// outputs on AVX-512. Its float twin
//
//	y = clamp(trunc(fl↓(float32(acc + bias)·fc + fd)), 0, 255)
//
// (fl↓: the fused multiply-add rounded toward −∞) takes four, and for
// suitable fc and fd it gives every accumulator the same code: both are
// non-decreasing in acc, so they agree everywhere once they agree at the
// ends of the accumulators' range and on both sides of each of the ≤ 255
// steps of the exact one. setFloat looks for such operands and checks
// those points with the kernels' own roundings; where it finds none the
// channel keeps the fixed-point kernels. Rounding toward −∞ makes
// ⌊fl↓(v)⌋ = ⌊v⌋ for every real v, so the float kernel is exact whenever
// the real line fc·x + fd separates the steps as the exact one does: the
// only error left is fc's, which the search over a few neighbouring
// slopes absorbs: trained MobileNetV2s get the float kernel for 3,359 and
// 3,360 of their 3,360 relu8 channels, a trained resnet20 for 344 of 352.
// A layer takes the float kernels where all its channels do
// (commonKernel), or runs of them where most do (planKind, kindRuns).
// The symmetric kernel (rqFloatSym, setFloat) does the same for linear
// outputs with a zero point inside their range.

// The float kernels a channel's operands serve (requantScalars.float).
const (
	floatNone      = iota
	floatRelu8     // rqFloat8
	floatSymmetric // rqFloatSym
)

// floatSlopes is how many float32 slopes around the exact multiplier
// setFloat tries (the nearest, then alternately above and below).
const floatSlopes = 9

// fma32Down is the float32 fused multiply-add x·c + d rounded toward −∞,
// as VFMADD213PS.RD_SAE computes it, or ok = false where this emulation
// cannot vouch for it (the float64 sum was inexact: never for the
// operands setFloat meets, whose products span under 53 bits).
func fma32Down(x, c, d float32) (float32, bool) {
	p := float64(x) * float64(c) // 24 × 24 bits: exact
	dd := float64(d)
	s := p + dd
	if b := s - p; (p-(s-b))+(dd-b) != 0 { // TwoSum's rounding error
		return 0, false
	}
	f := float32(s)
	if float64(f) > s {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f, true
}

// truncFMA is the float kernels' core for x = acc + bias: VCVTDQ2PS,
// VFMADD213PS.RD_SAE by fc and fd, VCVTTPS2DQ (int32() truncates as it
// does); ok = false where it cannot be vouched for.
func truncFMA(x int64, fc, fd float32) (int32, bool) {
	return truncFMAOf(float32(int32(x)), fc, fd)
}

// truncFMAOf is truncFMA on x already converted to float32 (f).
func truncFMAOf(f, fc, fd float32) (int32, bool) {
	v, ok := fma32Down(f, fc, fd)
	if !ok || !(math.Abs(float64(v)) < 1<<30) {
		return 0, false
	}
	return int32(v), true
}

// truncFMAConvDown is truncFMA with the conversion of x to float32
// rounded toward −∞ (exact below 2^24): AVX2's float kernel
// (requantRowsF8AVX2x) can round only by MXCSR, which it sets toward −∞
// for its multiply-add and so for its VCVTDQ2PS too.
func truncFMAConvDown(x int64, fc, fd float32) (int32, bool) {
	f := float32(int32(x))
	if int64(f) > int64(int32(x)) {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return truncFMAOf(f, fc, fd)
}

// outRelu8 is the float kernel's output for accumulator acc (truncFMA on
// acc + bias, the saturating narrowing), or ok = false where it cannot be
// vouched for.
func (c *requantScalars) outRelu8(acc int64) (int32, bool) {
	q, ok := truncFMA(acc+int64(c.bias), c.fc, c.fd)
	return min(max(q, 0), 255), ok
}

// outSym is the symmetric float kernel's output for accumulator acc
// (rqFloatSym: truncFMA on |acc + bias|, the sign copied back, + Z_Y,
// clamped), or ok = false where it cannot be vouched for.
func (c *requantScalars) outSym(acc int64) (int32, bool) {
	x := acc + int64(c.bias)
	q, ok := truncFMA(max(x, -x), c.fc, c.fd)
	if x < 0 {
		q = -q
	}
	return min(max(q+c.zy, c.lo), c.hi), ok
}

// setFloat sets c's float operands: for a relu8 channel (exactSum, relu8)
// whose accumulators lie within ±amax, c.fc, c.fd and c.float =
// floatRelu8 where the float kernel (rqFloat8) then equals the
// fixed-point one on all of them; for any other exactSum channel, c.fc,
// c.fd and c.float = floatSymmetric where the symmetric one (rqFloatSym)
// does. The fixed-point output is Z_Y + MBQM(acc + bias), and MBQM(−x) =
// −MBQM(x) but where SRDHM meets a tie (x·M0 an odd multiple of 2^30: it
// rounds those up, not away from zero; RDBP's ties go away from zero),
// which takes |x| ≥ 2^(30−v) for M0 with v trailing zero bits (a
// power-of-two multiplier: every odd x). So the symmetric kernel needs no
// such x in range, and the float kernel exact on |acc + bias| for
// outputs up to Q = max(hi − Z_Y, Z_Y − lo) (past Q both saturate) and
// ≥ 0 at 0.
func (c *requantScalars) setFloat(amax int64) {
	c.float, c.fc, c.fd = floatNone, 0, 0
	if !c.exactSum || c.m0 <= 0 || amax < 0 || amax > 1<<31 {
		return
	}
	if c.relu8 {
		if fc, fd, ok := floatOperands(int64(c.bias), c.m0, c.exp, 255, amax); ok {
			c.fc, c.fd, c.float = fc, fd, floatRelu8
		}
		return
	}
	b := int64(c.bias)
	x := max(b+amax, -(b - amax)) // the largest |acc + bias|
	Q := max(c.hi-c.zy, c.zy-c.lo)
	if x >= math.MaxInt32 || Q <= 0 || Q > 255 || int64(1)<<(30-bits.TrailingZeros32(uint32(c.m0))) <= x {
		return
	}
	fc, fd, ok := floatOperands(0, c.m0, c.exp, Q, x)
	if ok && fd > -1 { // q(0) = trunc(fd) = 0 (trunc, not the clamp)
		c.fc, c.fd, c.float = fc, fd, floatSymmetric
	}
}

// floatOperands returns float32 operands (fc, fd) with which
// clamp(trunc(fl↓(float32(x + bias)·fc + fd)), 0, hi) equals
// clamp(MBQM(x + bias, m0, −exp), 0, hi) for every x in [−amax, amax],
// and ok = false where it finds none.
func floatOperands(bias int64, m0 int32, exp uint64, hi int32, amax int64) (fc, fd float32, ok bool) {
	var c requantScalars
	if !c.set(bias, m0, uint(exp), 0, 0, hi) {
		return 0, 0, false
	}
	// The fixed-point output by set's one-shift form (the kernels'; the
	// bias add cannot saturate within ±amax: exactSum).
	k64, thr, corr, sh := c.k64, c.thr, c.corr, c.sh
	exact := func(a int64) int32 {
		p := a*int64(m0) + k64
		if p < thr {
			p -= corr
		}
		return int32(min(max(p>>sh, 0), int64(hi)))
	}
	// Both conversions to float32: to nearest (AVX-512's kernels) and
	// toward −∞ (AVX2's); each output is non-decreasing in the
	// accumulator either way, so the same points decide.
	out := func(a int64, fc, fd float32) (int32, bool) {
		q, ok := truncFMA(a+bias, fc, fd)
		qd, okd := truncFMAConvDown(a+bias, fc, fd)
		if qd = min(max(qd, 0), hi); !okd || min(max(q, 0), hi) != qd {
			return 0, false
		}
		return qd, ok
	}
	amin := -amax
	// The points to agree on: the ends and both sides of each step.
	type point struct {
		a int64
		y int32
	}
	y0, y1 := exact(amin), exact(amax)
	pts := make([]point, 2, 2+2*(y1-y0))
	pts[0], pts[1] = point{amin, y0}, point{amax, y1}
	m := float64(m0) / math.Ldexp(1, 31+int(exp))
	for k := y0 + 1; k <= y1; k++ {
		// The first accumulator with an output ≥ k > 0: where the
		// product a·M0 + k64 reaches k·2^sh (no correction there), or
		// where k·2^sh would overflow the real-valued estimate, stepped
		// to the exact one.
		var t int64
		if sh <= 54 {
			n := int64(k)<<sh - k64
			t = n / int64(m0)
			if n%int64(m0) != 0 && n > 0 {
				t++
			}
		} else {
			t = int64(math.Ceil((float64(k)-0.5)/m)) - bias
		}
		t = max(min(t, amax), amin+1)
		for n := 0; exact(t-1) >= k; n++ {
			if t--; t == amin || n > 64 {
				return 0, 0, false
			}
		}
		for n := 0; exact(t) < k; n++ {
			if t++; t > amax || n > 64 {
				return 0, 0, false
			}
		}
		pts = append(pts, point{t - 1, exact(t - 1)}, point{t, exact(t)})
	}
	for i := range floatSlopes {
		fc = float32(m)
		if i > 0 { // fc, fc⁺, fc⁻, fc⁺⁺, fc⁻⁻, …
			dir := float32(math.Inf(1))
			if i%2 == 0 {
				dir = float32(math.Inf(-1))
			}
			for range (i + 1) / 2 {
				fc = math.Nextafter32(fc, dir)
			}
		}
		// The real offsets for which fc·x + d steps where the exact
		// output does: d ≥ y − fc·x where the output must reach y > 0,
		// d < y + 1 − fc·x where it must stay below y + 1 ≤ hi.
		lo, up := math.Inf(-1), math.Inf(1)
		for _, p := range pts {
			v := float64(float32(int32(p.a+bias))) * float64(fc)
			if l := float64(p.y) - v; p.y > 0 && l > lo {
				lo = l
			}
			if h := float64(p.y) + 1 - v; p.y < hi && h < up {
				up = h
			}
		}
		if math.IsInf(lo, 0) || math.IsInf(up, 0) || !(lo < up) {
			continue
		}
		fd = float32((lo + up) / 2)
		ok := true
		for _, p := range pts {
			if y, vouched := out(p.a, fc, fd); !vouched || y != p.y {
				ok = false
				break
			}
		}
		if ok {
			return fc, fd, true
		}
	}
	return 0, 0, false
}
