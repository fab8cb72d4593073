package nn

import (
	"math"
	"testing"

	"github.com/qatgo/qatgo/fakequant"
)

func TestMinMax(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, test := range []struct {
		x          []float32
		lo, hi     float32
		wantFinite bool
	}{
		{[]float32{3}, 3, 3, true},
		{[]float32{1, -2, 5, 0.5, -7, 2, 9}, -7, 9, true},
		{[]float32{0, 0, 0, 0, 0, 0, 0, 0, -1}, -1, 0, true}, // extreme in the tail
		{[]float32{1, 2, nan, 4}, 0, 0, false},
		{[]float32{1, 2, 3, 4, -inf}, 0, 0, false},
		{[]float32{nan, 1, 2, 3}, 0, 0, false},
		// 16-lane bulk plus a tail (the AVX-512 loop of minmax_simd.go).
		{[]float32{5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, -0.5, 40}, -0.5, 40, true},
		{[]float32{5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, -9, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}, -9, 31, true},
		{[]float32{5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, nan, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}, 0, 0, false},
		{[]float32{5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, inf}, 0, 0, false},
	} {
		lo, hi, finite := minMax(test.x)
		if finite != test.wantFinite || (finite && (lo != test.lo || hi != test.hi)) {
			t.Errorf("minMax(%v) = %v, %v, %v; want %v, %v, %v", test.x, lo, hi, finite, test.lo, test.hi, test.wantFinite)
		}
	}
}

func TestStubObserverNonFinite(t *testing.T) {
	s := fakequant.QScheme{Bits: 8, Signed: true, Symmetric: true, Granularity: fakequant.PerChannel, Axis: 0}
	o := &stubObserver{s: s}
	// Two channels of 4: channel 0 has a NaN and an Inf, which are counted
	// and skipped; channel 1 is finite.
	x := []float32{1, float32(math.NaN()), -3, float32(math.Inf(1)), 0.5, -0.25, 2, 1}
	if err := o.Observe(x, []int{2, 4}); err != nil {
		t.Fatal(err)
	}
	lo, hi, err := o.Range()
	if err != nil {
		t.Fatal(err)
	}
	if lo[0] != -3 || hi[0] != 1 || lo[1] != -0.25 || hi[1] != 2 || o.NonFinite() != 2 {
		t.Errorf("range %v..%v, %d non-finite; want [-3 -0.25]..[1 2], 2", lo, hi, o.NonFinite())
	}
	// Min-max accumulates over batches.
	if err := o.Observe([]float32{-5, 0, 0, 0, 0, 0, 0, 7}, []int{2, 4}); err != nil {
		t.Fatal(err)
	}
	lo, hi, _ = o.Range()
	if lo[0] != -5 || hi[0] != 1 || lo[1] != -0.25 || hi[1] != 7 {
		t.Errorf("after a second batch: %v..%v, want [-5 -0.25]..[1 7]", lo, hi)
	}
}
