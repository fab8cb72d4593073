package intruntime

import (
	"math"

	"github.com/qatgo/qatgo/intmodel"
)

// addLinear is a residual add computed as one affine function of its two
// input storage codes: out = clamp((A·a + B·b + C) ≫ k, lo, hi), all in
// int32. The fixed-point add (intmodel.Add.Apply: each input scaled and
// rounded, the sum requantized) is not affine, but it is a step function
// of a nearly affine one, and fitAddLinear keeps A, B, C and k only where
// they give the add's own code for all 65,536 pairs of input codes
// (its table, addLUT): the AVX2 kernel then computes eight outputs with
// two VPMADDWDs where the table costs a dependent 64 KB lookup each.
type addLinear struct {
	// hiPair and loPair are VPMADDWD's operands on (a, b) word pairs:
	// A ≫ 8 and B ≫ 8 as int16s (low word A's), then A's and B's low
	// bytes; A·a + B·b = (hiPair·(a, b)) ≪ 8 + loPair·(a, b).
	hiPair, loPair uint32
	c              int32
	k              uint32
	lo, hi         uint32 // the clamp, storage codes
	a, b           int32  // A and B whole (addLinearScalar)
}

// Shifts fitAddLinear tries, most precise first. Above 22 the sums of
// codes outside the clamp no longer fit int32 for a unit slope; below 12
// a fit is rare.
const (
	addLinearMaxShift = 22
	addLinearMinShift = 12
)

// fitAddLinear returns the addLinear that gives lut's code (addLUT's
// layout: a·256 + b) for every pair of input codes, clamped to [lo, hi],
// or nil where none of the slopes near alpha and beta (output codes per
// input code) does at any shift it tries. For each candidate slope pair
// the pairs bound C from both sides (a code strictly inside the clamp
// fixes its whole step; lo and hi only one side), so a fit is exact by
// construction; it is kept only where every sum, C included, fits int32
// (the kernel's products wrap, the sums' final value does not).
func fitAddLinear(lut []uint8, lo, hi int32, alpha, beta float64) *addLinear {
	if len(lut) < 1<<16 || lo >= hi {
		return nil
	}
	steps := [...]int64{0, 1, -1, 2, -2}
	for k := addLinearMaxShift; k >= addLinearMinShift; k-- {
		one := math.Ldexp(1, k)
		if math.Abs(alpha*one) > 1<<22 || math.Abs(beta*one) > 1<<22 {
			continue
		}
		a0, b0 := int64(math.Round(alpha*one)), int64(math.Round(beta*one))
		for _, da := range steps {
			for _, db := range steps {
				A, B := a0+da, b0+db
				c, ok := addLinearOffset(lut, int64(lo), int64(hi), A, B, k)
				if !ok {
					continue
				}
				for _, s := range [...]int64{c, A*255 + c, B*255 + c, (A+B)*255 + c} {
					if s < math.MinInt32 || s > math.MaxInt32 {
						ok = false
					}
				}
				if !ok {
					continue
				}
				return addLinearOf(int32(A), int32(B), int32(c), k, lo, hi)
			}
		}
	}
	return nil
}

// addLinearOf returns the addLinear of slopes A and B (|A|, |B| < 2^23:
// their high parts are int16s), offset C and shift k, clamped to [lo, hi]
// (0 ≤ lo < hi ≤ 255).
func addLinearOf(A, B, C int32, k int, lo, hi int32) *addLinear {
	return &addLinear{
		hiPair: uint32(uint16(A>>8)) | uint32(uint16(B>>8))<<16,
		loPair: uint32(A&255) | uint32(B&255)<<16,
		c:      C, k: uint32(k),
		lo: uint32(lo), hi: uint32(hi),
		a: A, b: B,
	}
}

// addLinearOffset returns the least C for which (A·a + B·b + C) ≫ k,
// clamped to [lo, hi], is lut's code for every pair, and whether there
// is one.
func addLinearOffset(lut []uint8, lo, hi, A, B int64, k int) (int64, bool) {
	cLo, cHi := int64(math.MinInt64), int64(math.MaxInt64)
	for a := range int64(256) {
		row := lut[a<<8 : a<<8+256]
		for b, t := range row {
			t, s := int64(t), A*a+B*int64(b)
			if t > lo {
				cLo = max(cLo, t<<k-s)
			}
			if t < hi {
				cHi = min(cHi, (t+1)<<k-1-s)
			}
		}
		if cLo > cHi {
			return 0, false
		}
	}
	return cLo, true
}

// newAddLinear fits add l (input tables ta and tb, output zero point and
// clamp zy, lo and hi as storage codes; lut its table) as an addLinear,
// its slopes the tables' end-to-end rise through the output multiplier.
func newAddLinear(l *intmodel.Add, ta, tb *[256]int32, lut []uint8, lo, hi int32) *addLinear {
	m := float64(l.M0Out) / math.Ldexp(1, 31-l.ShiftOut)
	return fitAddLinear(lut, lo, hi, float64(ta[255]-ta[0])/255*m, float64(tb[255]-tb[0])/255*m)
}

// addLinearScalar writes p's output for each pair of codes (the int32
// arithmetic of the AVX2 kernel: products and sums wrap alike).
func addLinearScalar(dst, a, b []uint8, p *addLinear) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		v := (p.a*int32(a[i]) + p.b*int32(b[i]) + p.c) >> p.k
		dst[i] = uint8(min(max(v, int32(p.lo)), int32(p.hi)))
	}
}
