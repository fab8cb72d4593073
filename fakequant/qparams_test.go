package fakequant

import "testing"

func TestQParamsFromRange(t *testing.T) {
	for i, test := range []struct {
		s        QScheme
		min, max float32
		scale    float32
		zp       int32
	}{
		// uint8 affine over [-1, 3]: S = 4/255, Z = 0 - round(-1/(4/255)) = round(63.75) = 64.
		{QScheme{Bits: 8}, -1, 3, 4.0 / 255, 64},
		// int8 affine over [0.5, 2]: widened to [0, 2]; S = 2/255; Z = -128 - 0 = -128 (negative).
		{QScheme{Bits: 8, Signed: true}, 0.5, 2, 2.0 / 255, -128},
		// int8 symmetric over [-3, 1]: m = 3, S = 3/127.5, Z = 0.
		{QScheme{Bits: 8, Signed: true, Symmetric: true}, -3, 1, 3 / 127.5, 0},
		// int8 symmetric narrow: S = 3/127.
		{QScheme{Bits: 8, Signed: true, Symmetric: true, NarrowRange: true}, -3, 1, 3.0 / 127, 0},
		// uint8 symmetric: mid-point rule Z = 128, S = 2/127.5.
		{QScheme{Bits: 8, Symmetric: true}, 0, 2, 2 / 127.5, 128},
		// int4 affine over [-1, 0.5]: qmin=-8,qmax=7, S = 1.5/15 = 0.1, Z = -8 - round(-10) = 2.
		{QScheme{Bits: 4, Signed: true}, -1, 0.5, 0.1, 2},
		// uint2 affine over [-0.3, 0.6]: S = 0.9/3 = 0.3, Z = 0 - round(-1) = 1.
		{QScheme{Bits: 2}, -0.3, 0.6, 0.3, 1},
		// all zero: S = Eps, Z = qmin - 0 = 0 for uint8.
		{QScheme{Bits: 8}, 0, 0, Eps, 0},
		// all equal positive: widened to [0, 5].
		{QScheme{Bits: 8}, 5, 5, 5.0 / 255, 0},
	} {
		p, err := QParamsFromRange(test.s, []float32{test.min}, []float32{test.max})
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if p.Scale[0] != test.scale || p.ZeroPoint[0] != test.zp {
			t.Errorf("%d %v [%g,%g]: got S=%g Z=%d, want S=%g Z=%d", i, test.s, test.min, test.max, p.Scale[0], p.ZeroPoint[0], test.scale, test.zp)
		}
	}
}

func TestQParamsFromRangeErrors(t *testing.T) {
	nan := float32(0)
	nan = nan / nan
	for i, test := range []struct {
		s        QScheme
		min, max []float32
	}{
		{QScheme{Bits: 0}, []float32{0}, []float32{1}},
		{QScheme{Bits: 17}, []float32{0}, []float32{1}},
		{QScheme{Bits: 8, NarrowRange: true}, []float32{0}, []float32{1}},
		{QScheme{Bits: 8}, []float32{0, 0}, []float32{1, 1}},
		{QScheme{Bits: 8}, []float32{2}, []float32{1}},
		{QScheme{Bits: 8}, []float32{nan}, []float32{1}},
		{QScheme{Bits: 8}, nil, nil},
	} {
		if _, err := QParamsFromRange(test.s, test.min, test.max); err == nil {
			t.Errorf("%d: no error for %v %v %v", i, test.s, test.min, test.max)
		}
	}
}
