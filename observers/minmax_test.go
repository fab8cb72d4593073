package observers

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/fakequant"
)

var (
	u8    = fakequant.QScheme{Bits: 8}
	i8    = fakequant.QScheme{Bits: 8, Signed: true}
	i8sym = fakequant.QScheme{Bits: 8, Signed: true, Symmetric: true}
	nan   = float32(math.NaN())
	inf   = float32(math.Inf(1))
)

func perChannel(s fakequant.QScheme, axis int) fakequant.QScheme {
	s.Granularity, s.Axis = fakequant.PerChannel, axis
	return s
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestMinMaxTwoBatches(t *testing.T) {
	for i, test := range []struct {
		s         fakequant.QScheme
		b1, b2    []float32
		min, max  float32
		scale     float32
		zeroPoint int32
	}{
		// [-1, 2] then [-0.5, 3]: range [-1, 3]; uint8 S = 4/255, Z = 0 - round(-63.75) = 64.
		{u8, []float32{-1, 0.5, 2}, []float32{3, -0.5}, -1, 3, 4.0 / 255, 64},
		// int8 symmetric: [-3, 0.5] then [1, 2]: range [-3, 2], S = 3/127.5, Z = 0.
		{i8sym, []float32{0.5, -3}, []float32{1, 2}, -3, 2, 3 / 127.5, 0},
		// All positive: [0.5, 2] then [1, 1.5]: range [0.5, 2] widened to [0, 2] by
		// QParamsFromRange; int8 affine S = 2/255, Z = -128.
		{i8, []float32{0.5, 2}, []float32{1, 1.5}, 0.5, 2, 2.0 / 255, -128},
	} {
		o, err := NewMinMax(test.s)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range [][]float32{test.b1, test.b2} {
			if err := o.Observe(b, []int{len(b)}); err != nil {
				t.Fatal(err)
			}
		}
		mn, mx, err := o.Range()
		if err != nil || mn[0] != test.min || mx[0] != test.max {
			t.Errorf("%d: range [%v, %v] %v, want [%g, %g]", i, mn, mx, err, test.min, test.max)
		}
		p, err := o.QParams()
		if err != nil || p.Scale[0] != test.scale || p.ZeroPoint[0] != test.zeroPoint {
			t.Errorf("%d: QParams %+v %v, want S=%g Z=%d", i, p, err, test.scale, test.zeroPoint)
		}
	}
}

func TestMovingAverageThreeBatches(t *testing.T) {
	// c = 0.01; the first batch is taken as-is:
	//   b1 = [-1, 1]:  min = -1, max = 1
	//   b2 = [-2, 3]:  min = -1 + 0.01·(-2 - -1) = -1.01;  max = 1 + 0.01·(3 - 1) = 1.02
	//   b3 = [0, 5]:   min = -1.01 + 0.01·(0 - -1.01) = -0.9999
	//                  max = 1.02 + 0.01·(5 - 1.02) = 1.0598
	batches := [][]float32{{-1, 0.25, 1}, {3, -2}, {5, 0, 2}}
	want := [][2]float64{{-1, 1}, {-1.01, 1.02}, {-0.9999, 1.0598}}
	for _, pc := range []bool{false, true} {
		var o fakequant.Observer
		var err error
		if pc {
			o, err = NewPerChannelMovingAverageMinMax(perChannel(u8, 0), 0.01)
		} else {
			o, err = NewMovingAverageMinMax(u8, 0.01)
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range batches {
			shape := []int{len(b)}
			if pc {
				shape = []int{1, len(b)}
			}
			if err := o.Observe(b, shape); err != nil {
				t.Fatal(err)
			}
			mn, mx, err := o.Range()
			if err != nil || !near(float64(mn[0]), want[i][0], 1e-6) || !near(float64(mx[0]), want[i][1], 1e-6) {
				t.Errorf("per-channel=%v batch %d: [%v, %v] %v, want %v", pc, i, mn, mx, err, want[i])
			}
		}
		// The last range: S = (1.0598 + 0.9999)/255, Z = -round(-0.9999/S) = round(123.77) = 124.
		p, err := o.QParams()
		if err != nil || !near(float64(p.Scale[0]), 2.0597/255, 1e-8) || p.ZeroPoint[0] != 124 {
			t.Errorf("per-channel=%v: QParams %+v %v", pc, p, err)
		}
	}
}

func TestPerChannel(t *testing.T) {
	// Three channels along axis 0 of a [3, 2] tensor, two batches:
	//   channel 0: all zero              → [0, 0]
	//   channel 1: [-1, 2], [-0.5, 3]    → [-1, 3]
	//   channel 2: [3, 4],  [0, 5]       → [0, 5]
	b1 := []float32{0, 0, -1, 2, 3, 4}
	b2 := []float32{0, 0, -0.5, 3, 5, 0}
	wantMin, wantMax := []float32{0, -1, 0}, []float32{0, 3, 5}
	for i, test := range []struct {
		s     fakequant.QScheme
		scale []float32
		zp    []int32
	}{
		// uint8: channel 0 S = Eps, Z = 0 - round(0/Eps) = 0; channel 1 S = 4/255,
		// Z = 64; channel 2 S = 5/255, Z = 0.
		{u8, []float32{fakequant.Eps, 4.0 / 255, 5.0 / 255}, []int32{0, 64, 0}},
		// int8 affine: Z = -128 - round(min/S): -128, -64, -128.
		{i8, []float32{fakequant.Eps, 4.0 / 255, 5.0 / 255}, []int32{-128, -64, -128}},
		// int8 symmetric: m = 0, 3, 5; S = m/127.5 (floored at Eps), Z = 0.
		{i8sym, []float32{fakequant.Eps, 3 / 127.5, 5 / 127.5}, []int32{0, 0, 0}},
	} {
		for _, axis := range []int{0, 1} {
			o, err := NewPerChannelMinMax(perChannel(test.s, axis))
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range [][]float32{b1, b2} {
				x, shape := b, []int{3, 2}
				if axis == 1 {
					x, shape = transpose(b, 3, 2), []int{2, 3}
				}
				if err := o.Observe(x, shape); err != nil {
					t.Fatal(err)
				}
			}
			mn, mx, err := o.Range()
			if err != nil || !equal32(mn, wantMin) || !equal32(mx, wantMax) {
				t.Errorf("%d axis %d: range %v %v %v", i, axis, mn, mx, err)
			}
			p, err := o.QParams()
			if err != nil || !equal32(p.Scale, test.scale) || !equalI32(p.ZeroPoint, test.zp) {
				t.Errorf("%d axis %d: QParams %v %v %v, want %v %v", i, axis, p.Scale, p.ZeroPoint, err, test.scale, test.zp)
			}
			// The channel count is fixed by the first batch.
			bad := []int{4, 2}
			if axis == 1 {
				bad = []int{2, 4}
			}
			err = o.Observe(make([]float32, 8), bad)
			if !errors.Is(err, ErrChannels) || !strings.Contains(err.Error(), "4 channels") || !strings.Contains(err.Error(), "had 3") {
				t.Errorf("%d axis %d: channel mismatch error %v", i, axis, err)
			}
		}
	}
}

func TestPerChannelNonFinite(t *testing.T) {
	o, _ := NewPerChannelMinMax(perChannel(u8, 0))
	// A channel with no finite value in its first batch is an error.
	if err := o.Observe([]float32{1, 2, nan, inf}, []int{2, 2}); !errors.Is(err, ErrNoFiniteValues) {
		t.Errorf("first batch with an all-NaN channel: %v", err)
	}
	if err := o.Observe([]float32{1, 2, -1, nan}, []int{2, 2}); err != nil {
		t.Fatal(err)
	}
	// Later, such a channel keeps its range.
	if err := o.Observe([]float32{0, 5, nan, -inf}, []int{2, 2}); err != nil {
		t.Fatal(err)
	}
	mn, mx, _ := o.Range()
	if !equal32(mn, []float32{0, -1}) || !equal32(mx, []float32{5, -1}) || o.NonFinite() != 5 {
		t.Errorf("got %v %v, %d non-finite", mn, mx, o.NonFinite())
	}
}

func transpose(x []float32, r, c int) []float32 {
	y := make([]float32, len(x))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			y[j*r+i] = x[i*c+j]
		}
	}
	return y
}

func equal32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalI32(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestScanMatchesCareful(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	specials := []float32{nan, inf, -inf}
	// Lengths past 64 reach the SIMD path when it is built in; half the
	// trials are clean, half have a special value about once per batch.
	for n := 1; n < 200; n++ {
		for trial := 0; trial < 10; trial++ {
			x := make([]float32, n)
			bad := 0
			for i := range x {
				x[i] = float32(rng.NormFloat64())
				if trial%2 == 1 && rng.IntN(n) == 0 {
					x[i] = specials[rng.IntN(3)]
					bad++
				}
			}
			mn, mx, nb := scan(x)
			cmn, cmx, cnb := scanCareful(x)
			if nb != bad || cnb != bad || (bad < n && (mn != cmn || mx != cmx)) {
				t.Fatalf("n=%d: scan %g %g %d, careful %g %g %d, want %d bad", n, mn, mx, nb, cmn, cmx, cnb, bad)
			}
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	x := make([]float32, 1024)
	for i := range x {
		x[i] = float32(i%37) - 18
	}
	x[100] = nan
	mm, _ := NewMinMax(u8)
	ema, _ := NewMovingAverageMinMax(u8, 0.01)
	pc, _ := NewPerChannelMinMax(perChannel(u8, 0))
	pce, _ := NewPerChannelMovingAverageMinMax(perChannel(u8, 1), 0.01)
	for _, test := range []struct {
		name  string
		o     fakequant.Observer
		shape []int
	}{
		{"minmax", mm, []int{1024}},
		{"ema", ema, []int{32, 32}},
		{"per-channel", pc, []int{16, 64}},
		{"per-channel ema", pce, []int{64, 16}},
	} {
		if err := test.o.Observe(x, test.shape); err != nil {
			t.Fatal(err)
		}
		n := testing.AllocsPerRun(10, func() { test.o.Observe(x, test.shape) })
		if n != 0 {
			t.Errorf("%s: %g allocations per Observe", test.name, n)
		}
	}
}

// TestScanSplitIsExact checks the range scan split over cores against one
// goroutine, with non-finite values in some chunks.
func TestScanSplitIsExact(t *testing.T) {
	x := make([]float32, 5*scanGrain+13)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)) * float64(i%1000))
	}
	for _, bad := range [][]int{nil, {7}, {len(x) - 1, 3 * scanGrain}} {
		y := append([]float32(nil), x...)
		for j, i := range bad {
			y[i] = []float32{float32(math.NaN()), float32(math.Inf(1))}[j%2]
		}
		mn1, mx1, b1 := scanOne(y)
		for _, k := range []int{2, 3, 5} {
			mn, mx, b := scanParallel(y, k)
			if mn != mn1 || mx != mx1 || b != b1 {
				t.Errorf("bad %v, %d chunks: (%v, %v, %d), one goroutine (%v, %v, %d)", bad, k, mn, mx, b, mn1, mx1, b1)
			}
		}
	}
}
