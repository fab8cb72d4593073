package intruntime

import (
	"math/rand/v2"
	"testing"

	"github.com/qatgo/qatgo/intmodel"
)

// randomAdd returns an add of random scales and zero points (unsigned
// codes from 0 with a ReLU where unsigned, resnet20's adds), its tables
// and its storage-code zero point and clamp.
func randomAdd(t *testing.T, rng *rand.Rand, unsigned bool) (*intmodel.Add, *[256]int32, *[256]int32, []uint8, int32, int32) {
	t.Helper()
	act := func(scale float32, unsigned bool) intmodel.ActQuant {
		a := intmodel.ActQuant{Scale: scale, Bits: 8}
		if !unsigned {
			a.Signed, a.ZeroPoint = true, int32(rng.IntN(256))-128
		}
		return a
	}
	a, b, o := act(0.01+rng.Float32(), unsigned), act(0.01+rng.Float32(), rng.IntN(2) == 0), act(0.02+rng.Float32(), unsigned)
	l, err := intmodel.NewAdd("add", a, b, o)
	if err != nil {
		t.Fatal(err)
	}
	l.QMin, l.QMax = intmodel.ClampFor(o, unsigned, false)
	out := newAct(o, intmodel.Shape{})
	ta, tb := addTable(a, l.LeftShift, l.M0A, l.ShiftA), addTable(b, l.LeftShift, l.M0B, l.ShiftB)
	zy, lo, hi := o.ZeroPoint+out.off, l.QMin+out.off, l.QMax+out.off
	return l, ta, tb, addLUT(l, ta, tb, zy, lo, hi), lo, hi
}

// allPairs returns every pair of codes, a·256 + b as addLUT lays them out.
func allPairs() (qa, qb []uint8) {
	qa, qb = make([]uint8, 1<<16), make([]uint8, 1<<16)
	for j := range qa {
		qa[j], qb[j] = uint8(j>>8), uint8(j)
	}
	return qa, qb
}

// Fitted adds give their table's code for every pair (checked here by
// the Go arithmetic the kernel does, apart from the fit's own bounds), and
// nearly every add of random scales fits.
func TestAddLinearFits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	qa, qb := allPairs()
	got := make([]uint8, 1<<16)
	const N = 100
	fits := 0
	for i := range N {
		l, ta, tb, lut, lo, hi := randomAdd(t, rng, i%2 == 0)
		p := newAddLinear(l, ta, tb, lut, lo, hi)
		if p == nil {
			continue
		}
		fits++
		addLinearScalar(got, qa, qb, p)
		if j := firstDiff(got, lut[:1<<16]); j >= 0 {
			t.Fatalf("add %d (%+v, fit %+v): pair (%d, %d) gives %d, its table %d", i, l, p, j>>8, j&255, got[j], lut[j])
		}
	}
	if fits < N*9/10 {
		t.Errorf("%d of %d random adds fit an affine step function, want ≥ 90%%", fits, N)
	}
	t.Logf("%d of %d adds fit", fits, N)
}

func firstDiff(a, b []uint8) int {
	for j := range a {
		if a[j] != b[j] {
			return j
		}
	}
	return -1
}

// Hand-worked fits: equal scales add the codes (A = B = 2^22 at the
// finest shift, C = 0: 510·2^22 still fits int32); half the output scale
// doubles them, whose slope 2^23 is past the kernel's int16 high parts at
// k = 22, so k = 21; a table no affine step function gives (a ⊕ b) has no
// fit.
func TestAddLinearHandWorked(t *testing.T) {
	u := func(s float32) intmodel.ActQuant { return intmodel.ActQuant{Scale: s, Bits: 8} }
	for _, c := range []struct {
		out     float32
		A, B, C int32
		k       uint32
	}{
		{1, 1 << 22, 1 << 22, 0, 22},
		{0.5, 1 << 22, 1 << 22, 0, 21},
	} {
		l, err := intmodel.NewAdd("add", u(1), u(1), u(c.out))
		if err != nil {
			t.Fatal(err)
		}
		ta, tb := addTable(l.A, l.LeftShift, l.M0A, l.ShiftA), addTable(l.B, l.LeftShift, l.M0B, l.ShiftB)
		lut := addLUT(l, ta, tb, 0, 0, 255)
		p := newAddLinear(l, ta, tb, lut, 0, 255)
		if p == nil {
			t.Fatalf("output scale %v: no fit", c.out)
		}
		if p.a != c.A || p.b != c.B || p.c != c.C || p.k != c.k {
			t.Errorf("output scale %v: fit A %d B %d C %d k %d, want A %d B %d C %d k %d", c.out, p.a, p.b, p.c, p.k, c.A, c.B, c.C, c.k)
		}
	}
	xor := make([]uint8, 1<<16+3)
	for j := range 1 << 16 {
		xor[j] = uint8(j>>8) ^ uint8(j)
	}
	if p := fitAddLinear(xor, 0, 255, 1, 1); p != nil {
		t.Errorf("a ⊕ b fitted as %+v", p)
	}
}
