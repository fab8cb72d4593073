package fakequant

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

var (
	nan32  = float32(math.NaN())
	inf32  = float32(math.Inf(1))
	ninf32 = float32(math.Inf(-1))
)

func tensorParams(s QScheme, scale float32, zp int32) QParams {
	return QParams{Scheme: s, Scale: []float32{scale}, ZeroPoint: []int32{zp}}
}

// TestFakeQuantizeTable works each case by hand: y = x/S, q = Z + round_half_even(y),
// out = (clamp(q) - Z)·S, mask = q on the grid.
func TestFakeQuantizeTable(t *testing.T) {
	int4 := QScheme{Bits: 4, Signed: true}                  // [-8, 7]
	uint2 := QScheme{Bits: 2}                               // [0, 3]
	uint8sym := QScheme{Bits: 8, Symmetric: true}           // [0, 255], Z = 128
	int8 := QScheme{Bits: 8, Signed: true, Symmetric: true} // [-128, 127]
	for _, test := range []struct {
		name string
		p    QParams
		x    []float32
		q    []int32
		out  []float32
		mask []bool
	}{
		{
			// 4-bit, negative zero point Z = -3, S = 0.5: grid (q+3)/2 in [-2.5, 5].
			name: "int4 Z=-3",
			p:    tensorParams(int4, 0.5, -3),
			x:    []float32{0.25, 0.75, -0.25, -1.25, 5.0, 5.25, 5.75, -2.5, -2.75, 1.1},
			// y:          0.5   1.5   -0.5   -2.5   10    10.5  11.5  -5    -5.5   2.2
			// round:      0     2     0      -2     10    10    12    -5    -6     2
			q:    []int32{-3, -1, -3, -5, 7, 7, 7, -8, -8, -1},
			out:  []float32{0, 1, 0, -1, 5, 5, 5, -2.5, -2.5, 1},
			mask: []bool{true, true, true, true, true, true, false, true, false, true},
		},
		{
			// 2-bit unsigned, S = 0.25, Z = 1: grid {-0.25, 0, 0.25, 0.5}.
			name: "uint2 Z=1",
			p:    tensorParams(uint2, 0.25, 1),
			x:    []float32{-0.25, -0.375, -0.4, 0.125, 0.375, 0.5, 0.625, 0.7},
			// y:            -1     -1.5    -1.6  0.5    1.5    2    2.5    2.8
			// q = 1+round:  0      -1      -1    1      3      3    3      4
			q:    []int32{0, 0, 0, 1, 3, 3, 3, 3},
			out:  []float32{-0.25, -0.25, -0.25, 0, 0.5, 0.5, 0.5, 0.5},
			mask: []bool{true, false, false, true, true, true, true, false},
		},
		{
			// unsigned symmetric, Z = 128, S = 1/64: negative values are representable.
			name: "uint8 sym Z=128",
			p:    tensorParams(uint8sym, 1.0/64, 128),
			x:    []float32{1, -0.5, 2, -2, -2.01, 1.984375},
			// y:            64  -32   128  -128  -128.64  127
			q:    []int32{192, 96, 255, 0, 0, 255},
			out:  []float32{1, -0.5, 1.984375, -2, -2, 1.984375},
			mask: []bool{true, true, false, true, false, true},
		},
		{
			// ties go to even: S = 1, Z = 0.
			name: "ties",
			p:    tensorParams(int8, 1, 0),
			x:    []float32{-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 126.5, 127.5, -128.5},
			q:    []int32{-4, -2, -2, 0, 0, 2, 2, 4, 126, 127, -128},
			out:  []float32{-4, -2, -2, 0, 0, 2, 2, 4, 126, 127, -128},
			// 127.5 rounds to 128 (even) → clipped; -128.5 → -128 (even) → on the grid.
			mask: []bool{true, true, true, true, true, true, true, true, true, false, true},
		},
		{
			// non-finite and huge inputs: +Inf and huge → top, -Inf/NaN → bottom, mask false.
			name: "non-finite",
			p:    tensorParams(int4, 0.5, -3),
			x:    []float32{nan32, inf32, ninf32, 3e38, -3e38, 1e-30},
			q:    []int32{-8, 7, -8, 7, -8, -3},
			out:  []float32{-2.5, 5, -2.5, 5, -2.5, 0},
			mask: []bool{false, false, false, false, false, true},
		},
	} {
		n := len(test.x)
		shape := []int{n}
		out := make([]float32, n)
		mask := make([]bool, n)
		if err := FakeQuantize(out, mask, test.x, test.p, shape); err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		q := make([]int32, n)
		if err := Quantize(q, test.x, test.p, shape); err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		deq := make([]float32, n)
		if err := Dequantize(deq, q, test.p, shape); err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		for i := range test.x {
			if out[i] != test.out[i] || mask[i] != test.mask[i] || q[i] != test.q[i] || deq[i] != test.out[i] {
				t.Errorf("%s x=%g: got q=%d out=%g deq=%g mask=%v, want q=%d out=%g mask=%v",
					test.name, test.x[i], q[i], out[i], deq[i], mask[i], test.q[i], test.out[i], test.mask[i])
			}
		}
		// nil mask gives the same values
		out2 := make([]float32, n)
		if err := FakeQuantize(out2, nil, test.x, test.p, shape); err != nil {
			t.Fatal(err)
		}
		for i := range out {
			if out2[i] != out[i] {
				t.Errorf("%s: nil-mask path differs at %d: %g vs %g", test.name, i, out2[i], out[i])
			}
		}
	}
}

// TestFakeQuantizePerChannel: shape [2, 3], axis 1 (channel stride 1), one
// all-zero channel whose range gave S = Eps.
func TestFakeQuantizePerChannel(t *testing.T) {
	s := QScheme{Bits: 8, Signed: true, Symmetric: true, Granularity: PerChannel, Axis: 1}
	p, err := QParamsFromRange(s, []float32{-1, 0, -0.5}, []float32{0.5, 0, 31.875})
	if err != nil {
		t.Fatal(err)
	}
	// S = 1/127.5, Eps, 31.875/127.5 = 0.25
	if p.Scale[0] != float32(1/127.5) || p.Scale[1] != Eps || p.Scale[2] != 0.25 {
		t.Fatalf("scales %v", p.Scale)
	}
	p.Scale[0] = 0.5 // hand-chosen for exact numbers
	x := []float32{
		1.0, 0, 0.3,
		-0.75, 0, 40,
	}
	// ch0 S=0.5: 2 → 1.0; -1.5 → -2 → -1.0. ch1 S=Eps: 0 → 0. ch2 S=0.25: 1.2 → 1 → 0.25; 160 → 127 → 31.75 (clipped).
	want := []float32{1, 0, 0.25, -1, 0, 31.75}
	wantMask := []bool{true, true, true, true, true, false}
	out := make([]float32, 6)
	mask := make([]bool, 6)
	if err := FakeQuantize(out, mask, x, p, []int{2, 3}); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if out[i] != want[i] || mask[i] != wantMask[i] {
			t.Errorf("%d: got %g %v, want %g %v", i, out[i], mask[i], want[i], wantMask[i])
		}
	}
}

func TestKernelErrors(t *testing.T) {
	s := QScheme{Bits: 8}
	pc := QScheme{Bits: 8, Granularity: PerChannel, Axis: 1}
	x := make([]float32, 6)
	for i, test := range []struct {
		p     QParams
		shape []int
		dst   int
		want  error
	}{
		{tensorParams(s, 1, 0), []int{5}, 6, ErrShape},
		{tensorParams(s, 1, 0), []int{2, 3}, 5, ErrShape},
		{tensorParams(s, 0, 0), []int{6}, 6, ErrInvalidParams},
		{tensorParams(s, float32(math.NaN()), 0), []int{6}, 6, ErrInvalidParams},
		{tensorParams(s, 1, 256), []int{6}, 6, ErrInvalidParams},
		{tensorParams(s, 1, -1), []int{6}, 6, ErrInvalidParams},
		{QParams{Scheme: pc, Scale: []float32{1, 1}, ZeroPoint: []int32{0, 0}}, []int{2, 3}, 6, ErrShape},
		{QParams{Scheme: pc, Scale: []float32{1, 1, 1}, ZeroPoint: []int32{0, 0}}, []int{2, 3}, 6, ErrInvalidParams},
		{QParams{Scheme: pc, Scale: []float32{1}, ZeroPoint: []int32{0}}, []int{6}, 6, ErrShape},
		{tensorParams(QScheme{Bits: 0}, 1, 0), []int{6}, 6, ErrInvalidScheme},
	} {
		err := FakeQuantize(make([]float32, test.dst), nil, x, test.p, test.shape)
		if !errors.Is(err, test.want) {
			t.Errorf("%d: got %v, want %v", i, err, test.want)
		}
	}
}

// refFakeQuant is PyTorch's CPU formula written out plainly.
func refFakeQuant(x, s float32, z, qmin, qmax int32) (float32, bool) {
	inv := 1 / s
	y := x * inv
	qf := float32(z) + float32(math.RoundToEven(float64(y)))
	in := float32(qmin) <= qf && qf <= float32(qmax)
	qf = float32(math.Min(math.Max(float64(qf), float64(qmin)), float64(qmax)))
	return float32(int64(qf)-int64(z)) * s, in
}

func randParams(r *rand.Rand, s QScheme) (float32, int32) {
	qmin, qmax := s.QRange()
	scale := float32(math.Exp(r.Float64()*8 - 6))
	z := qmin + int32(r.IntN(int(qmax-qmin+1)))
	return scale, z
}

// TestFakeQuantizeMatchesReference: random schemes, scales, zero points and
// inputs (a third of them exact ties), bit for bit against the plain formula.
func TestFakeQuantizeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 200; trial++ {
		s := QScheme{Bits: 1 + r.IntN(16), Signed: r.IntN(2) == 0}
		scale, z := randParams(r, s)
		qmin, qmax := s.QRange()
		n := 257
		x := make([]float32, n)
		for i := range x {
			k := float32(r.IntN(int(qmax-qmin)+8)) + float32(qmin-z) - 4
			switch i % 3 {
			case 0:
				x[i] = (k + 0.5) * scale // near a tie
			case 1:
				x[i] = k * scale
			default:
				x[i] = float32(r.NormFloat64()) * scale * float32(qmax-qmin)
			}
		}
		p := tensorParams(s, scale, z)
		out := make([]float32, n)
		mask := make([]bool, n)
		if err := FakeQuantize(out, mask, x, p, []int{n}); err != nil {
			t.Fatal(err)
		}
		for i := range x {
			w, wm := refFakeQuant(x[i], scale, z, qmin, qmax)
			if out[i] != w || mask[i] != wm {
				t.Fatalf("%v S=%g Z=%d x=%g: got %g %v, want %g %v", s, scale, z, x[i], out[i], mask[i], w, wm)
			}
		}
	}
}

// TestProperties: dequantize(quantize(x)) within S/2 inside the range,
// idempotence, and per-channel = per-tensor on each slice.
func TestProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 50; trial++ {
		s := QScheme{Bits: 2 + r.IntN(7), Signed: r.IntN(2) == 0, Granularity: PerChannel, Axis: r.IntN(3)}
		shape := []int{1 + r.IntN(4), 1 + r.IntN(4), 1 + r.IntN(5)}
		c := shape[s.Axis]
		p := QParams{Scheme: s, Scale: make([]float32, c), ZeroPoint: make([]int32, c)}
		for i := range p.Scale {
			p.Scale[i], p.ZeroPoint[i] = randParams(r, s)
		}
		n := shape[0] * shape[1] * shape[2]
		x := make([]float32, n)
		qmin, qmax := s.QRange()
		for i := range x {
			x[i] = float32(r.NormFloat64()) * 4
		}
		out := make([]float32, n)
		if err := FakeQuantize(out, nil, x, p, shape); err != nil {
			t.Fatal(err)
		}
		again := make([]float32, n)
		if err := FakeQuantize(again, nil, out, p, shape); err != nil {
			t.Fatal(err)
		}
		for i := range out {
			if again[i] != out[i] {
				t.Fatalf("not idempotent at %d: %g → %g", i, out[i], again[i])
			}
		}
		// per-channel vs per-tensor slice by slice; round trip within S/2 in range
		strides := []int{shape[1] * shape[2], shape[2], 1}
		for i := range x {
			idx := []int{i / strides[0], i / strides[1] % shape[1], i % shape[2]}
			ch := idx[s.Axis]
			pt := tensorParams(QScheme{Bits: s.Bits, Signed: s.Signed}, p.Scale[ch], p.ZeroPoint[ch])
			var one [1]float32
			if err := FakeQuantize(one[:], nil, x[i:i+1], pt, []int{1}); err != nil {
				t.Fatal(err)
			}
			if one[0] != out[i] {
				t.Fatalf("per-channel %g != per-tensor %g at %v", out[i], one[0], idx)
			}
			lo := float32(qmin-p.ZeroPoint[ch]) * p.Scale[ch]
			hi := float32(qmax-p.ZeroPoint[ch]) * p.Scale[ch]
			if x[i] >= lo && x[i] <= hi {
				var q [1]int32
				var d [1]float32
				_ = Quantize(q[:], x[i:i+1], pt, []int{1})
				_ = Dequantize(d[:], q[:], pt, []int{1})
				if err := math.Abs(float64(d[0] - x[i])); err > float64(p.Scale[ch])/2*(1+1e-6) {
					t.Fatalf("round trip of %g: %g, error %g > S/2 = %g", x[i], d[0], err, p.Scale[ch]/2)
				}
			}
		}
	}
}

func TestPowerOfTwo(t *testing.T) {
	// 3 exponent bits, MaxExp 2: exponents -4..2 (7 magnitudes), code 0 = zero.
	p := PoTParams{Bits: 3, MaxExp: 2}
	if p.MinExp() != -4 {
		t.Fatalf("MinExp %d", p.MinExp())
	}
	x := []float32{0, 1, 1.41, 1.42, -3, 5.6, 5.7, 100, 0.0625, 0.045, 0.044, -0.05, nan32, ninf32}
	// log2:          -  0   0.496 0.506 1.58 2.485 2.511 6.6  -4     -4.47  -4.51  -4.32
	want := []float32{0, 1, 1, 2, -4, 4, 4, 4, 0.0625, 0.0625, 0, -0.0625, 0, -4}
	wantMask := []bool{true, true, true, true, true, true, false, false, true, true, true, true, false, false}
	out := make([]float32, len(x))
	mask := make([]bool, len(x))
	if err := FakeQuantizePoT(out, mask, x, p); err != nil {
		t.Fatal(err)
	}
	for i := range x {
		if out[i] != want[i] || mask[i] != wantMask[i] {
			t.Errorf("x=%g: got %g %v, want %g %v", x[i], out[i], mask[i], want[i], wantMask[i])
		}
	}
	// 1 bit: ternary {0, ±2^MaxExp}
	p1 := PoTParams{Bits: 1, MaxExp: 0}
	x1 := []float32{0.8, 0.7, -3, 0.5}
	// log2: 0.8 → -0.32 → 0; 0.7 → -0.51 → -1 < MinExp 0 → flushed; -3 → 1.58 → saturated; 0.5 → -1 → flushed.
	w1 := []float32{1, 0, -1, 0}
	o1 := make([]float32, 4)
	if err := FakeQuantizePoT(o1, nil, x1, p1); err != nil {
		t.Fatal(err)
	}
	for i := range x1 {
		if o1[i] != w1[i] {
			t.Errorf("1-bit x=%g: got %g want %g", x1[i], o1[i], w1[i])
		}
	}
	// √2 boundary: float32 values just below/above.
	below := math.Float32frombits(0x3FB504F3) // 1.41421354 < √2
	above := math.Float32frombits(0x3FB504F4)
	if Log2Round(float64(below)) != 0 || Log2Round(float64(above)) != 1 {
		t.Errorf("√2 boundary: %d %d", Log2Round(float64(below)), Log2Round(float64(above)))
	}
	if MaxExpFor(5.6) != 2 || MaxExpFor(0) != 0 || MaxExpFor(1e-40) != -126 {
		t.Errorf("MaxExpFor: %d %d %d", MaxExpFor(5.6), MaxExpFor(0), MaxExpFor(1e-40))
	}
	if err := FakeQuantizePoT(o1, nil, x1, PoTParams{Bits: 0}); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("bits 0: %v", err)
	}
}
