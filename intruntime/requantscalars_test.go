package intruntime

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qatgo/qatgo/intmodel"
)

// planRequant's exactSum at its boundary: with weights {127, −128, 5}
// (Σ|w| = 260) a channel's accumulators lie within ±66,300 of its bias, so
// a bias up to 2^31−1−66,300 (down to −2^31+66,300) needs no clamp and one
// past it does; and the requantization without the clamp gives the same
// codes as with it wherever the sum stays in range.
func TestPlanRequantExactSum(t *testing.T) {
	if host.requantPre == nil {
		t.Skip("no planned requantization on this CPU")
	}
	const span = 255 * 260
	biases := []int32{math.MaxInt32 - span, math.MaxInt32 - span + 1, math.MinInt32 + span, math.MinInt32 + span - 1, 0}
	want := []bool{true, false, true, false, true}
	q := &intmodel.Quantized{}
	for range biases {
		q.Weights = append(q.Weights, 127, -128, 5)
	}
	s := &step{bias: biases, zy: 3, lo: 0, hi: 255}
	for range biases {
		s.m0 = append(s.m0, 1<<30+12345)
		s.shift = append(s.shift, -7)
	}
	rq := planRequant(s, q)
	if rq == nil {
		t.Fatal("no operands planned")
	}
	for m, w := range want {
		if rq[m].exactSum != w {
			t.Errorf("bias %d: exactSum %v, want %v", biases[m], rq[m].exactSum, w)
		}
	}
	// Channel 4 (bias 0) on accumulators within its bound, both ways.
	rng := rand.New(rand.NewPCG(3, 4))
	acc := make([]int32, 3*37)
	for i := range acc {
		acc[i] = int32(rng.IntN(2*span+1) - span)
	}
	got, ref := make([]uint8, len(acc)), make([]uint8, len(acc))
	c := rq[4]
	host.requantPre(got, 37, acc, 37, 3, 37, &c)
	c.exactSum = false
	host.requantPre(ref, 37, acc, 37, 3, 37, &c)
	if !slices.Equal(got, ref) {
		t.Error("requantization without the clamp differs")
	}
	requantRowsScalar(ref, 37, acc, 37, 3, 37, 0, s.m0[4], 7, s.zy, s.lo, s.hi)
	if !slices.Equal(got, ref) {
		t.Error("requantization differs from requantRowsScalar")
	}
}
