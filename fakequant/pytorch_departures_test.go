package fakequant

import (
	"math"
	"testing"
)

// The two decided departures from PyTorch 1.13 (package doc, "Where qatgo
// departs from PyTorch").
func TestPyTorchDepartures(t *testing.T) {
	// +Inf and x/S ≥ 2^63 saturate to qmax (PyTorch: INT64_MIN → qmin).
	// uint8 affine, S = 1, Z = 0: qmin 0, qmax 255.
	p := QParams{Scheme: QScheme{Bits: 8}, Scale: []float32{1}, ZeroPoint: []int32{0}}
	x := []float32{float32(math.Inf(1)), 0x1p63, 0x1p64, 3e38, float32(math.Inf(-1)), float32(math.NaN()), -0x1p63}
	wantQ := []int32{255, 255, 255, 255, 0, 0, 0}
	q := make([]int32, len(x))
	out := make([]float32, len(x))
	mask := make([]bool, len(x))
	if err := Quantize(q, x, p, []int{len(x)}); err != nil {
		t.Fatal(err)
	}
	if err := FakeQuantize(out, mask, x, p, []int{len(x)}); err != nil {
		t.Fatal(err)
	}
	for i := range x {
		if q[i] != wantQ[i] || out[i] != float32(wantQ[i]) || mask[i] {
			t.Errorf("x = %g: q %d, out %g, mask %v; want %d, %d, false", x[i], q[i], out[i], mask[i], wantQ[i], wantQ[i])
		}
	}

	// Symmetric unsigned: Z = 2^(b-1) at every width. Hand-worked for 4
	// bits on [-1, 1]: S = 1/((15-0)/2) = 2/15, Z = 8 (PyTorch: 7).
	qp, err := QParamsFromRange(QScheme{Bits: 4, Symmetric: true}, []float32{-1}, []float32{1})
	if err != nil {
		t.Fatal(err)
	}
	if qp.ZeroPoint[0] != 8 || qp.Scale[0] != float32(1)/7.5 {
		t.Errorf("4-bit unsigned symmetric: S %g, Z %d; want %g, 8", qp.Scale[0], qp.ZeroPoint[0], float32(1)/7.5)
	}
	// Identity: for every width the unsigned symmetric grid fake-quantizes
	// exactly as the signed one (same scale, codes shifted by 2^(b-1)).
	xs := make([]float32, 401)
	for i := range xs {
		xs[i] = float32(i-200) / 150 // -1.33 .. 1.33: inside and outside [-1, 1]
	}
	for b := 2; b <= 8; b++ {
		u, err1 := QParamsFromRange(QScheme{Bits: b, Symmetric: true}, []float32{-1}, []float32{1})
		s, err2 := QParamsFromRange(QScheme{Bits: b, Signed: true, Symmetric: true}, []float32{-1}, []float32{1})
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if u.Scale[0] != s.Scale[0] || u.ZeroPoint[0] != 1<<(b-1) || s.ZeroPoint[0] != 0 {
			t.Fatalf("%d bits: unsigned S %g Z %d, signed S %g Z %d", b, u.Scale[0], u.ZeroPoint[0], s.Scale[0], s.ZeroPoint[0])
		}
		fu, fs := make([]float32, len(xs)), make([]float32, len(xs))
		mu, ms := make([]bool, len(xs)), make([]bool, len(xs))
		FakeQuantize(fu, mu, xs, u, []int{len(xs)})
		FakeQuantize(fs, ms, xs, s, []int{len(xs)})
		for i := range xs {
			if fu[i] != fs[i] || mu[i] != ms[i] {
				t.Fatalf("%d bits, x = %g: unsigned %g (%v), signed %g (%v)", b, xs[i], fu[i], mu[i], fs[i], ms[i])
			}
		}
	}
}
