package numerics

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

var narrow = []Format{FP16, BF16, TF32, FP8E4M3, FP8E5M2}

// Every pattern decodes to a float32 that Round leaves alone and Encode
// turns back into the same pattern; NaN patterns stay NaN. Positive
// finite patterns decode to strictly increasing values.
func TestExhaustiveRoundTrip(t *testing.T) {
	for _, f := range narrow {
		n := uint32(1) << f.Bits()
		var prev float32 = -1
		var nans, infs int
		for p := range n {
			x := f.Decode(p)
			if x != x {
				nans++
				if c := f.Decompose(p).Class(); c != ClassNaN {
					t.Errorf("%v %#x: decodes to NaN but class %v", f, p, c)
				}
				if r := f.Round(x); r == r {
					t.Errorf("%v %#x: Round(NaN) = %g", f, p, r)
				}
				if q := f.Encode(x); f.Decode(q) == f.Decode(q) {
					t.Errorf("%v %#x: Encode(NaN) = %#x, not a NaN", f, p, q)
				}
				continue
			}
			if math.IsInf(float64(x), 0) {
				infs++
			}
			if r := f.Round(x); !same(r, x) {
				t.Fatalf("%v %#x: Round(%g) = %g", f, p, x, r)
			}
			if q := f.Encode(x); q != p {
				t.Fatalf("%v %#x: Encode(Decode) = %#x (value %g)", f, p, q, x)
			}
			if v := f.Decompose(p).Value(); float32(v) != x || float64(x) != v {
				t.Fatalf("%v %#x: Value() = %g, Decode = %g", f, p, v, x)
			}
			if p < n/2 && !math.IsInf(float64(x), 0) {
				if x <= prev {
					t.Fatalf("%v %#x: %g not above the previous pattern's %g", f, p, x, prev)
				}
				prev = x
			}
		}
		if prev != f.MaxFinite() {
			t.Errorf("%v: largest pattern value %g, MaxFinite %g", f, prev, f.MaxFinite())
		}
		// NaN and Inf counts: E4M3 has 2 NaNs and no Inf; the IEEE-like
		// formats have 2 infinities and 2·(2^m - 1) NaNs.
		wantNaN, wantInf := 2*(1<<f.MantBits-1), 2
		if f.FiniteOnly {
			wantNaN, wantInf = 2, 0
		}
		if nans != wantNaN || infs != wantInf {
			t.Errorf("%v: %d NaNs, %d infinities; want %d, %d", f, nans, infs, wantNaN, wantInf)
		}
	}
}

// refValues returns the positive finite values of f in increasing order
// (pattern order), as float64.
func refValues(f Format) []float64 {
	var v []float64
	for p := uint32(0); p < 1<<(f.Bits()-1); p++ {
		x := f.Decode(p)
		if x != x || math.IsInf(float64(x), 0) {
			continue
		}
		v = append(v, float64(x))
	}
	return v
}

// refRound rounds x to f the slow, obvious way: find the two neighbouring
// values, take the nearer, on a tie the one with the even pattern (index).
func refRound(vals []float64, f Format, x float32) float32 {
	if x != x {
		return x
	}
	ax, neg := math.Abs(float64(x)), math.Signbit(float64(x))
	n := len(vals)
	var r float64
	i := sort.SearchFloat64s(vals, ax)
	switch {
	case i < n && vals[i] == ax:
		r = ax
	case i == n:
		half := (vals[n-1] - vals[n-2]) / 2
		r = vals[n-1]
		if ax >= vals[n-1]+half && !f.FiniteOnly {
			r = math.Inf(1)
		}
	default:
		lo, hi := vals[i-1], vals[i]
		switch d1, d2 := ax-lo, hi-ax; {
		case d1 < d2:
			r = lo
		case d2 < d1:
			r = hi
		case i%2 == 0:
			r = hi
		default:
			r = lo
		}
	}
	if neg {
		r = -r
	}
	return float32(r)
}

// randomFloat32 draws values spread over (and a little beyond) the
// exponent range of f, with random sign and fraction.
func randomFloat32(rng *rand.Rand, f Format) float32 {
	lo, hi := f.MinExp()-f.MantBits-3, min(f.MaxExp()+2, 127)
	lo = max(lo, -149)
	e := lo + rng.IntN(hi-lo+1)
	m := 1 + rng.Float64()
	x := float32(math.Ldexp(m, e))
	if rng.IntN(2) == 0 {
		x = -x
	}
	return x
}

// Round agrees with the reference on random inputs, on every midpoint
// between neighbouring values (the ties) and one float32 step either side.
func TestRoundAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, f := range narrow {
		vals := refValues(f)
		check := func(x float32) {
			if got, want := f.Round(x), refRound(vals, f, x); !same(got, want) {
				t.Fatalf("%v: Round(%g) = %g, reference %g", f, x, got, want)
			}
		}
		for range 100000 {
			check(randomFloat32(rng, f))
			check(math.Float32frombits(rng.Uint32())) // any float32
		}
		// Midpoints are exact float32 values for all these formats.
		step := 1
		if len(vals) > 40000 {
			step = 7 // TF32: a sample of its 2^18 midpoints
		}
		for i := 1; i < len(vals); i += step {
			mid := float32((vals[i-1] + vals[i]) / 2)
			for _, x := range []float32{mid, math.Nextafter32(mid, 0), math.Nextafter32(mid, inf)} {
				check(x)
				check(-x)
			}
		}
		top := vals[len(vals)-1]
		for _, x := range []float32{float32(top + (top-vals[len(vals)-2])/2), math.MaxFloat32, inf, negZ} {
			check(x)
			check(-x)
		}
	}
}

// Rounding is monotonic (x <= y gives Round(x) <= Round(y)) and idempotent,
// and RoundSlice equals Round element by element, also in place.
func TestRoundMonotonicIdempotent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, f := range append([]Format{FP32}, narrow...) {
		xs := make([]float32, 20000)
		for i := range xs {
			if i%2 == 0 {
				xs[i] = randomFloat32(rng, f)
			} else {
				xs[i] = math.Float32frombits(rng.Uint32()&^0x7F800000 | uint32(rng.IntN(255))<<23)
			}
		}
		xs = append(xs, inf, -inf, 0, negZ)
		slices.Sort(xs)
		rs := make([]float32, len(xs))
		RoundSlice(rs, xs, f)
		for i, x := range xs {
			r := f.Round(x)
			if !same(r, rs[i]) {
				t.Fatalf("%v: RoundSlice gives %g for %g, Round %g", f, rs[i], x, r)
			}
			if rr := f.Round(r); !same(rr, r) {
				t.Fatalf("%v: Round(Round(%g)) = %g, not %g", f, x, rr, r)
			}
			if i > 0 && rs[i] < rs[i-1] {
				t.Fatalf("%v: not monotonic: %g→%g but %g→%g", f, xs[i-1], rs[i-1], x, rs[i])
			}
		}
		in := slices.Clone(xs)
		in = append(in, nan)
		RoundSlice(in, in, f)
		for i, x := range xs {
			if !same(in[i], rs[i]) {
				t.Fatalf("%v: in-place RoundSlice gives %g for %g", f, in[i], x)
			}
		}
		if last := in[len(in)-1]; last == last {
			t.Errorf("%v: RoundSlice(NaN) = %g", f, last)
		}
	}
}

// RoundSlice gives bit for bit what Round gives, NaN payloads included, on
// long slices with special values at every lane position (the vector
// kernels work on blocks of 16 and hand the tail to scalar code).
func TestRoundSliceBitExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	specials := []float32{
		0, negZ, inf, -inf, nan, math.Float32frombits(0x7F800001), math.Float32frombits(0xFFBFFFFF),
		math.Float32frombits(0x7FFFFFFF), math.Float32frombits(1), math.Float32frombits(0x807FFFFF),
		math.MaxFloat32, -math.MaxFloat32, 448, 464, 480, -57344, 61440, 65520, 1e-5, -3e-8, 0.0029296875,
	}
	for _, f := range append([]Format{FP32}, narrow...) {
		for _, n := range []int{1, 15, 16, 17, 100, 1000} {
			src := make([]float32, n)
			for i := range src {
				switch rng.IntN(3) {
				case 0:
					src[i] = specials[rng.IntN(len(specials))]
				case 1:
					src[i] = randomFloat32(rng, f)
				default:
					src[i] = math.Float32frombits(rng.Uint32())
				}
			}
			dst := make([]float32, n)
			RoundSlice(dst, src, f)
			for i, x := range src {
				if got, want := math.Float32bits(dst[i]), math.Float32bits(f.Round(x)); got != want {
					t.Fatalf("%v n=%d [%d]: RoundSlice(%#x) = %#x, Round %#x", f, n, i, math.Float32bits(x), got, want)
				}
			}
		}
	}
}
