package observers

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qatgo/qatgo/fakequant"
)

func TestHistGrowth(t *testing.T) {
	// 4 bins. [0, 4] gives lo = 0, width 1: 0 → bin 0, 4 → bin 3 (the right edge).
	// Then -1 needs more room on the left: width 2 (f = 2), shifted by j = 1 new
	// bin, lo = -2, range [-2, 6]: old bin i → 1 + i/2, so bin 0 → 1 and bin 3 → 2;
	// -1 falls in (−1+2)/2 = bin 0.
	h := newHist(4)
	h.cover(0, 4)
	h.add([]float32{0, 4}, false, false)
	if h.lo != 0 || h.width != 1 || !equalU64(h.counts, []uint64{1, 0, 0, 1}) {
		t.Fatalf("first batch: lo %g width %g counts %v", h.lo, h.width, h.counts)
	}
	h.cover(-1, -1)
	h.add([]float32{-1}, false, false)
	if h.lo != -2 || h.width != 2 || h.total != 3 || !equalU64(h.counts, []uint64{1, 1, 1, 0}) {
		t.Fatalf("after growth: lo %g width %g total %d counts %v", h.lo, h.width, h.total, h.counts)
	}
	// 100 needs no room on the left (j = 0) and a range of at least 102 from -2:
	// widths 4, 8, 16 give [-2, 14], [-2, 30], [-2, 62]; width 32 gives [-2, 126].
	// The factor 16 ≥ 4 bins puts every old bin in new bin 0; 100 in bin 102/32 = 3.
	h.cover(100, 100)
	h.add([]float32{100}, false, false)
	if h.lo != -2 || h.width != 32 || !equalU64(h.counts, []uint64{3, 0, 0, 1}) {
		t.Fatalf("after second growth: lo %g width %g counts %v", h.lo, h.width, h.counts)
	}
}

func TestHistPointMass(t *testing.T) {
	// All-equal data is a point mass until a different value arrives.
	h := newHist(4)
	h.cover(2, 2)
	h.add([]float32{2, 2, 2}, false, false)
	if h.width != 0 || h.counts[0] != 3 || h.percentile(50) != 2 {
		t.Fatalf("point mass: width %g counts %v", h.width, h.counts)
	}
	// Then 6: range [2, 6], width 1, the three 2s in bin 0, 6 in bin 3.
	h.cover(6, 6)
	h.add([]float32{6}, false, false)
	if h.lo != 2 || h.width != 1 || !equalU64(h.counts, []uint64{3, 0, 0, 1}) {
		t.Fatalf("after point mass: lo %g width %g counts %v", h.lo, h.width, h.counts)
	}
}

func equalU64(a, b []uint64) bool {
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

func TestHistogramPercentile(t *testing.T) {
	// The integers 0..9999, once in one batch and once in three batches that make
	// the histogram grow. 1% of the values (100 of them) lie below about 99.5, and
	// 99% below about 9899.5; the interpolation is good to a bin width.
	ints := make([]float32, 10000)
	for i := range ints {
		ints[i] = float32(i)
	}
	for _, split := range [][]int{{0, 10000}, {0, 1000, 1000, 10000}, {5000, 10000, 0, 5000}} {
		o, err := NewHistogram(u8, 2048, 1, 99)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k+1 < len(split); k += 2 {
			if err := o.Observe(ints[split[k]:split[k+1]], []int{split[k+1] - split[k]}); err != nil {
				t.Fatal(err)
			}
		}
		mn, mx, err := o.Range()
		if err != nil {
			t.Fatal(err)
		}
		w := o.hc.h.width
		n := o.hc.h.total
		wantN := uint64(0)
		for k := 0; k+1 < len(split); k += 2 {
			wantN += uint64(split[k+1] - split[k])
		}
		if n != wantN {
			t.Errorf("split %v: total %d, want %d", split, n, wantN)
		}
		if !near(float64(mn[0]), 99.5, w) || !near(float64(mx[0]), 9899.5, w) {
			t.Errorf("split %v: range [%g, %g], want [99.5, 9899.5] ± %g", split, mn[0], mx[0], w)
		}
	}
}

func TestHistogramDefaultsClipOutliers(t *testing.T) {
	// 100000 values in [-1, 1) and one at 1000: the 99.99th percentile ignores it.
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 100001)
	for i := range x {
		x[i] = float32(2*rng.Float64() - 1)
	}
	x[5] = 1000
	o, _ := NewHistogram(u8, DefaultBins, DefaultLowPercentile, DefaultHighPercentile)
	if err := o.Observe(x, []int{len(x)}); err != nil {
		t.Fatal(err)
	}
	mn, mx, _ := o.Range()
	if mn[0] < -1 || mn[0] > -0.9 || mx[0] > 1.5 || mx[0] < 0.9 {
		t.Errorf("range [%g, %g], want about [-1, 1]", mn[0], mx[0])
	}
}

// fakeQuantMSE is the mean squared error of PyTorch's fake-quant of x with p
// (inv = 1/S in float32, q = Z + nearbyint(x·inv), clamp, (q − Z)·S).
func fakeQuantMSE(x []float32, p fakequant.QParams) float64 {
	qmin, qmax := p.Scheme.QRange()
	s, z := p.Scale[0], p.ZeroPoint[0]
	inv := 1 / s
	sum := 0.0
	for _, v := range x {
		q := float64(z) + math.RoundToEven(float64(v*inv))
		q = math.Min(math.Max(q, float64(qmin)), float64(qmax))
		d := float64(v) - float64(float32(q-float64(z))*s)
		sum += d * d
	}
	return sum / float64(len(x))
}

func TestMSEClipsOutlier(t *testing.T) {
	// 20000 values uniform in [-1, 1] and one outlier at 10, on 4-bit grids (the
	// outlier costs (10 − t)²/20001 once clipped, while min-max pays a step of
	// about 11/15 on every value: clipping wins by far).
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, 20001)
	for i := range x {
		x[i] = float32(2*rng.Float64() - 1)
	}
	x[123] = 10
	for _, s := range []fakequant.QScheme{
		{Bits: 4},
		{Bits: 4, Signed: true, Symmetric: true},
		{Bits: 4, Signed: true, Symmetric: true, NarrowRange: true},
	} {
		o, err := NewMSE(s, DefaultBins, DefaultMSESteps)
		if err != nil {
			t.Fatal(err)
		}
		mm, _ := NewMinMax(s)
		for _, ob := range []fakequant.Observer{o, mm} {
			// Two batches, so that the histogram grows for the outlier.
			if err := ob.Observe(x[:100], []int{100}); err != nil {
				t.Fatal(err)
			}
			if err := ob.Observe(x[100:], []int{len(x) - 100}); err != nil {
				t.Fatal(err)
			}
		}
		mn, mx, err := o.Range()
		if err != nil {
			t.Fatal(err)
		}
		p, _ := o.QParams()
		pm, _ := mm.QParams()
		e, em := fakeQuantMSE(x, p), fakeQuantMSE(x, pm)
		t.Logf("%v: MSE range [%g, %g] error %.3g; min-max error %.3g", s, mn[0], mx[0], e, em)
		if mx[0] >= 5 || mn[0] > -0.5 {
			t.Errorf("%v: range [%g, %g] does not clip the outlier alone", s, mn[0], mx[0])
		}
		if e >= em {
			t.Errorf("%v: MSE observer error %g not below min-max's %g", s, e, em)
		}
		// The histogram estimate of the error is close to the real one.
		est, _ := o.MeanSquaredError(mn[0], mx[0])
		if math.Abs(est-e) > 0.2*e {
			t.Errorf("%v: estimated error %g, measured %g", s, est, e)
		}
	}
}

func TestRoundErrIntegral(t *testing.T) {
	for _, test := range []struct{ y, want float64 }{
		{-0.5, 0},
		{0, 0.125 / 3},        // ∫_{-1/2}^0 t² dt = 1/24
		{0.5, 1.0 / 12},       // one whole step
		{2.5, 3.0 / 12},       // three steps
		{1, 1.0/12 + 0.125/3}, // one step and half of the next
		{-1.5, -1.0 / 12},     // one step below the origin
	} {
		if got := roundErrIntegral(test.y); !near(got, test.want, 1e-15) {
			t.Errorf("y=%g: %g, want %g", test.y, got, test.want)
		}
	}
}

// laplace returns n deterministic Laplace(0, b) quantiles.
func laplace(n int, b float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		u := (float64(i)+0.5)/float64(n) - 0.5
		x[i] = float32(-b * math.Copysign(1, u) * math.Log(1-2*math.Abs(u)))
	}
	return x
}

func TestEntropyLaplace(t *testing.T) {
	x := laplace(200000, 1) // |x| up to ln(200000) ≈ 12.2
	for _, test := range []struct {
		s      fakequant.QScheme
		lo, hi float64 // where the threshold must lie
	}{
		{i8sym, 4, 12},
		{fakequant.QScheme{Bits: 4, Signed: true, Symmetric: true}, 1, 8},
		{i8, 4, 12},
	} {
		o, err := NewEntropy(test.s, DefaultBins)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Observe(x, []int{len(x)}); err != nil {
			t.Fatal(err)
		}
		mn, mx, err := o.Range()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v: range [%g, %g] (data max %g)", test.s, mn[0], mx[0], x[len(x)-1])
		if float64(mx[0]) <= test.lo || float64(mx[0]) >= test.hi || mx[0] >= x[len(x)-1] {
			t.Errorf("%v: threshold %g outside (%g, %g)", test.s, mx[0], test.lo, test.hi)
		}
		if test.s.Symmetric && mn[0] != -mx[0] {
			t.Errorf("%v: range [%g, %g] not symmetric", test.s, mn[0], mx[0])
		}
	}
	// Non-negative data (|Laplace|, a ReLU-like output) gives [0, t].
	for i := range x {
		x[i] = float32(math.Abs(float64(x[i])))
	}
	o, _ := NewEntropy(u8, DefaultBins)
	o.Observe(x, []int{len(x)})
	mn, mx, _ := o.Range()
	if mn[0] != 0 || mx[0] <= 4 || mx[0] >= x[0] {
		t.Errorf("non-negative data: range [%g, %g]", mn[0], mx[0])
	}
}

func TestKLThresholdHandWorked(t *testing.T) {
	// 4 bins, nq = 2. Counts [4, 0, 4, 1] (total 9).
	// i = 2: P = [4, 0+5] → bin 1 is empty but gets outliers: q = 0, KL = +Inf.
	// i = 3: P = [4, 0, 5]; groups ⌊j·2/3⌋ = 0, 0, 1: Q = [4, 0, 4];
	//        KL = 4/9·ln((4/9)/(4/8)) + 5/9·ln((5/9)/(4/8)) = 0.00618.
	// i = 4: P = [4, 0, 4, 1]; groups 0, 0, 1, 1: group 1 = 5 over two bins:
	//        Q = [4, 0, 2.5, 2.5]; KL = 4/9·ln(4/4) + 4/9·ln(4/2.5) + 1/9·ln(1/2.5) = 0.1070.
	if i := klThreshold([]uint64{4, 0, 4, 1}, 9, 2); i != 3 {
		t.Errorf("threshold bin %d, want 3", i)
	}
}
