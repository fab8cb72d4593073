package intruntime

import "math"

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
// (commonKernel).

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

// floatRelu8 is the float kernel's output for accumulator acc (the
// assembly's VPADDD, VCVTDQ2PS, VFMADD213PS.RD_SAE, VCVTTPS2DQ and
// saturating narrowing), or ok = false where it cannot be vouched for.
func (c *requantScalars) floatRelu8(acc int64) (int32, bool) {
	v, ok := fma32Down(float32(int32(acc+int64(c.bias))), c.fc, c.fd)
	if !ok || !(math.Abs(float64(v)) < 1<<30) {
		return 0, false
	}
	return min(max(int32(v), 0), 255), true // int32() truncates, as VCVTTPS2DQ
}

// setFloat sets c.fc and c.fd for a relu8 channel (exactSum, relu8) whose
// accumulators lie within ±amax, and c.float where the float kernel then
// equals the fixed-point one on all of them.
func (c *requantScalars) setFloat(amax int64) {
	c.float, c.fc, c.fd = false, 0, 0
	if !c.exactSum || !c.relu8 || c.m0 <= 0 || amax < 0 || amax > 1<<31 {
		return
	}
	bias, exp := int64(c.bias), int(c.exp)
	// The fixed-point output by set's one-shift form (the kernels'; the
	// bias add cannot saturate within ±amax: exactSum).
	m0, k64, thr, corr, sh := int64(c.m0), c.k64, c.thr, c.corr, c.sh
	exact := func(a int64) int32 {
		p := a*m0 + k64
		if p < thr {
			p -= corr
		}
		return int32(min(max(p>>sh, 0), 255))
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
	m := float64(c.m0) / math.Ldexp(1, 31+exp)
	for k := y0 + 1; k <= y1; k++ {
		// The first accumulator with an output ≥ k > 0: where the
		// product a·M0 + k64 reaches k·2^sh (no correction there), or
		// where k·2^sh would overflow the real-valued estimate, stepped
		// to the exact one.
		var t int64
		if sh <= 54 {
			n := int64(k)<<sh - k64
			t = n / m0
			if n%m0 != 0 && n > 0 {
				t++
			}
		} else {
			t = int64(math.Ceil((float64(k)-0.5)/m)) - bias
		}
		t = max(min(t, amax), amin+1)
		for n := 0; exact(t-1) >= k; n++ {
			if t--; t == amin || n > 64 {
				return
			}
		}
		for n := 0; exact(t) < k; n++ {
			if t++; t > amax || n > 64 {
				return
			}
		}
		pts = append(pts, point{t - 1, exact(t - 1)}, point{t, exact(t)})
	}
	fc := float32(m)
	for i := range floatSlopes {
		if i > 0 { // fc, fc⁺, fc⁻, fc⁺⁺, fc⁻⁻, …
			dir := float32(math.Inf(1))
			if i%2 == 0 {
				dir = float32(math.Inf(-1))
			}
			fc = float32(m)
			for range (i + 1) / 2 {
				fc = math.Nextafter32(fc, dir)
			}
		}
		// The real offsets for which fc·x + d steps where the exact
		// output does: d ≥ y − fc·x where the output must reach y > 0,
		// d < y + 1 − fc·x where it must stay below y + 1 ≤ 255.
		lo, hi := math.Inf(-1), math.Inf(1)
		for _, p := range pts {
			v := float64(float32(int32(p.a+bias))) * float64(fc)
			if l := float64(p.y) - v; p.y > 0 && l > lo {
				lo = l
			}
			if h := float64(p.y) + 1 - v; p.y < 255 && h < hi {
				hi = h
			}
		}
		if math.IsInf(lo, 0) || math.IsInf(hi, 0) || !(lo < hi) {
			continue
		}
		c.fc, c.fd = fc, float32((lo+hi)/2)
		ok := true
		for _, p := range pts {
			if y, vouched := c.floatRelu8(p.a); !vouched || y != p.y {
				ok = false
				break
			}
		}
		if ok {
			c.float = true
			return
		}
	}
	c.fc, c.fd = 0, 0
}
