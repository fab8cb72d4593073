package observers

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/fakequant"
)

// every returns one fresh observer of each type, for the scheme family s
// (per-tensor; the per-channel ones get axis 0).
func every(t *testing.T, s fakequant.QScheme) map[string]fakequant.Observer {
	t.Helper()
	m := map[string]fakequant.Observer{}
	for _, k := range Kinds() {
		o, err := New(k, s)
		if err != nil {
			t.Fatal(err)
		}
		m[k] = o
		if k == "minmax" || k == "ema" {
			o, err := New(k, perChannel(s, 0))
			if err != nil {
				t.Fatal(err)
			}
			m[k+"-per-channel"] = o
		}
	}
	return m
}

func TestFactory(t *testing.T) {
	for _, test := range []struct {
		kind string
		s    fakequant.QScheme
		want string // type name, or "" for an error
	}{
		{"minmax", u8, "*observers.MinMax"},
		{"minmax", perChannel(i8sym, 0), "*observers.PerChannelMinMax"},
		{"ema", u8, "*observers.MovingAverageMinMax"},
		{"ema", perChannel(i8sym, 1), "*observers.PerChannelMovingAverageMinMax"},
		{"histogram", u8, "*observers.Histogram"},
		{"mse", i8sym, "*observers.MSE"},
		{"entropy", i8, "*observers.Entropy"},
		{"histogram", perChannel(u8, 0), ""},
		{"mse", perChannel(u8, 0), ""},
		{"entropy", perChannel(u8, 0), ""},
		{"minmax", fakequant.QScheme{Bits: 0}, ""},
		{"kmeans", u8, ""},
		{"MinMax", u8, ""},
	} {
		o, err := New(test.kind, test.s)
		if test.want == "" {
			if err == nil || o != nil {
				t.Errorf("New(%q, %v): no error", test.kind, test.s)
			}
			continue
		}
		if err != nil {
			t.Errorf("New(%q, %v): %v", test.kind, test.s, err)
			continue
		}
		if got := fmt.Sprintf("%T", o); got != test.want {
			t.Errorf("New(%q, %v) = %s, want %s", test.kind, test.s, got, test.want)
		}
		if o.Scheme() != test.s {
			t.Errorf("New(%q): scheme %v", test.kind, o.Scheme())
		}
	}
	_, err := New("kmeans", u8)
	if !errors.Is(err, ErrUnknownKind) || !strings.Contains(err.Error(), "minmax, ema, histogram, mse, entropy") {
		t.Errorf("unknown kind error %v", err)
	}
}

func TestConstructorErrors(t *testing.T) {
	bad := fakequant.QScheme{Bits: 8, NarrowRange: true}
	for i, f := range []func() error{
		func() error { _, err := NewMinMax(bad); return err },
		func() error { _, err := NewMinMax(perChannel(u8, 0)); return err },
		func() error { _, err := NewPerChannelMinMax(u8); return err },
		func() error { _, err := NewPerChannelMinMax(perChannel(u8, -1)); return err },
		func() error { _, err := NewMovingAverageMinMax(u8, 0); return err },
		func() error { _, err := NewMovingAverageMinMax(u8, 1.5); return err },
		func() error { _, err := NewMovingAverageMinMax(perChannel(u8, 0), 0.01); return err },
		func() error { _, err := NewPerChannelMovingAverageMinMax(u8, 0.01); return err },
		func() error { _, err := NewHistogram(u8, 1, 1, 99); return err },
		func() error { _, err := NewHistogram(u8, 2048, 99, 1); return err },
		func() error { _, err := NewHistogram(u8, 2048, -1, 99); return err },
		func() error { _, err := NewHistogram(u8, 2048, 1, 101); return err },
		func() error { _, err := NewMSE(u8, 2048, 0); return err },
		func() error { _, err := NewMSE(perChannel(u8, 0), 2048, 100); return err },
		func() error { _, err := NewEntropy(bad, 2048); return err },
		func() error { _, err := NewEntropy(u8, 0); return err },
	} {
		if f() == nil {
			t.Errorf("%d: no error", i)
		}
	}
	if _, err := NewMinMax(bad); !errors.Is(err, fakequant.ErrInvalidScheme) {
		t.Errorf("invalid scheme error %v", err)
	}
	if _, err := NewMinMax(perChannel(u8, 0)); !errors.Is(err, ErrGranularity) {
		t.Errorf("granularity error %v", err)
	}
}

func TestCommonBehaviour(t *testing.T) {
	for name, o := range every(t, u8) {
		// Nothing observed yet.
		if _, err := o.QParams(); !errors.Is(err, fakequant.ErrNotObserved) {
			t.Errorf("%s: QParams before data: %v", name, err)
		}
		if _, _, err := o.Range(); !errors.Is(err, fakequant.ErrNotObserved) {
			t.Errorf("%s: Range before data: %v", name, err)
		}
		// Bad batches.
		for _, test := range []struct {
			x     []float32
			shape []int
			err   error
		}{
			{nil, []int{0}, ErrEmptyBatch},
			{[]float32{}, []int{0, 3}, ErrEmptyBatch},
			{[]float32{1, 2, 3}, []int{2, 2}, ErrShape},
			{[]float32{1, 2}, []int{-1, -2}, ErrShape},
			{[]float32{1, 2}, nil, ErrShape},
			{[]float32{nan, inf, -inf, nan, nan}, []int{5, 1}, ErrNoFiniteValues},
		} {
			if err := o.Observe(test.x, test.shape); !errors.Is(err, test.err) {
				t.Errorf("%s: Observe(%v, %v) = %v, want %v", name, test.x, test.shape, err, test.err)
			}
		}
		if n := o.NonFinite(); n != 5 {
			t.Errorf("%s: %d non-finite after the all-NaN batch, want 5", name, n)
		}
		if _, err := o.QParams(); !errors.Is(err, fakequant.ErrNotObserved) {
			t.Errorf("%s: QParams after only bad batches: %v", name, err)
		}
		// NaN and ±Inf are skipped and counted: the range is that of {1, -2, 3}.
		if err := o.Observe([]float32{1, nan, -2, inf, -inf, 3}, []int{1, 6}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := o.NonFinite(); n != 8 {
			t.Errorf("%s: %d non-finite, want 8", name, n)
		}
		mn, mx, err := o.Range()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if mn[0] < -2 || mx[0] > 3 || mx[0] < 1 {
			t.Errorf("%s: range [%g, %g] not inside [-2, 3]", name, mn[0], mx[0])
		}
		if strings.HasPrefix(name, "minmax") || strings.HasPrefix(name, "ema") {
			if mn[0] != -2 || mx[0] != 3 {
				t.Errorf("%s: range [%g, %g], want [-2, 3]", name, mn[0], mx[0])
			}
		}
		// Per-channel observers need the axis inside the shape.
		if strings.HasSuffix(name, "per-channel") {
			if err := o.Observe([]float32{1}, nil); !errors.Is(err, ErrShape) {
				t.Errorf("%s: scalar batch: %v", name, err)
			}
		}
		// Frozen: Observe changes nothing.
		p0, _ := o.QParams()
		o.SetFrozen(true)
		if !o.Frozen() {
			t.Errorf("%s: not frozen", name)
		}
		if err := o.Observe([]float32{-50, 70, nan, 1, 2, 3}, []int{1, 6}); err != nil {
			t.Errorf("%s: frozen Observe: %v", name, err)
		}
		if p1, _ := o.QParams(); !reflect.DeepEqual(p0, p1) || o.NonFinite() != 8 {
			t.Errorf("%s: frozen observer changed: %+v → %+v", name, p0, p1)
		}
		o.SetFrozen(false)
		if err := o.Observe([]float32{-50, 70, nan, 1, 2, 3}, []int{1, 6}); err != nil {
			t.Fatal(err)
		}
		if p1, _ := o.QParams(); reflect.DeepEqual(p0, p1) {
			t.Errorf("%s: unfrozen observer ignored a batch", name)
		}
		// Reset forgets everything.
		o.Reset()
		if _, err := o.QParams(); !errors.Is(err, fakequant.ErrNotObserved) || o.NonFinite() != 0 {
			t.Errorf("%s: after Reset: %v, %d non-finite", name, err, o.NonFinite())
		}
	}
}

func TestObserveDoesNotRetain(t *testing.T) {
	for name, o := range every(t, i8) {
		x := []float32{-1, 2, 0.5, 1}
		o.Observe(x, []int{4, 1})
		p0, _ := o.QParams()
		x[0], x[1] = -100, 100
		if p1, _ := o.QParams(); !reflect.DeepEqual(p0, p1) {
			t.Errorf("%s: QParams follow a caller's slice", name)
		}
	}
}

// randBatch returns a batch of shape [8, n/8] with a few non-finite values.
func randBatch(rng *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * scale)
	}
	x[rng.IntN(n)] = nan
	return x
}

func TestStateRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	a := randBatch(rng, 4000, 1)
	b := randBatch(rng, 4000, 3)
	shape := []int{8, 500}
	for _, s := range []fakequant.QScheme{u8, i8sym} {
		for name, o := range every(t, s) {
			// An observer that has seen nothing round-trips too.
			empty, err := o.MarshalState()
			if err != nil {
				t.Fatal(err)
			}
			o.SetFrozen(false)
			if err := o.Observe(a, shape); err != nil {
				t.Fatal(err)
			}
			st, err := o.MarshalState()
			if err != nil {
				t.Fatal(err)
			}
			o2, _ := New(strings.TrimSuffix(name, "-per-channel"), o.Scheme())
			if err := o2.UnmarshalState(st); err != nil {
				t.Fatalf("%v %s: %v", s, name, err)
			}
			if st2, _ := o2.MarshalState(); !bytes.Equal(st, st2) {
				t.Errorf("%v %s: state differs after a round trip", s, name)
			}
			for _, ob := range []fakequant.Observer{o, o2} {
				if err := ob.Observe(b, shape); err != nil {
					t.Fatal(err)
				}
			}
			p, err1 := o.QParams()
			p2, err2 := o2.QParams()
			if err1 != nil || err2 != nil || !reflect.DeepEqual(p, p2) || o.NonFinite() != o2.NonFinite() {
				t.Errorf("%v %s: after more data %+v %v vs %+v %v", s, name, p, err1, p2, err2)
			}
			if err := o2.UnmarshalState(empty); err != nil {
				t.Fatal(err)
			}
			if _, err := o2.QParams(); !errors.Is(err, fakequant.ErrNotObserved) {
				t.Errorf("%v %s: restored empty state: %v", s, name, err)
			}

			// Damaged states are refused and leave the observer alone.
			before, _ := o.MarshalState()
			for i, bad := range [][]byte{
				nil,
				st[:3],
				st[:len(st)-1],
				st[:len(st)/2],
				flip(st, len(st)/2),
				flip(st, 0),
				flip(st, 4), // version
				append(append([]byte(nil), st...), 0),
			} {
				if err := o.UnmarshalState(bad); !errors.Is(err, ErrBadState) {
					t.Errorf("%v %s: damaged state %d: %v", s, name, i, err)
				}
			}
			if after, _ := o.MarshalState(); !bytes.Equal(before, after) {
				t.Errorf("%v %s: a refused state changed the observer", s, name)
			}
		}
	}
	// Wrong kind and wrong scheme.
	mm, _ := NewMinMax(u8)
	mm.Observe([]float32{1, 2}, []int{2})
	st, _ := mm.MarshalState()
	ema, _ := NewMovingAverageMinMax(u8, 0.01)
	if err := ema.UnmarshalState(st); !errors.Is(err, ErrBadState) || !strings.Contains(err.Error(), `"minmax"`) {
		t.Errorf("wrong kind: %v", err)
	}
	mm8, _ := NewMinMax(i8)
	if err := mm8.UnmarshalState(st); !errors.Is(err, ErrBadState) || !strings.Contains(err.Error(), "scheme") {
		t.Errorf("wrong scheme: %v", err)
	}
	ema2, _ := NewMovingAverageMinMax(u8, 0.02)
	st, _ = ema.MarshalState()
	if err := ema2.UnmarshalState(st); !errors.Is(err, ErrBadState) {
		t.Errorf("wrong averaging constant: %v", err)
	}
	h1, _ := NewHistogram(u8, 1024, 1, 99)
	h2, _ := NewHistogram(u8, 2048, 1, 99)
	h1.Observe([]float32{1, 2}, []int{2})
	st, _ = h1.MarshalState()
	if err := h2.UnmarshalState(st); !errors.Is(err, ErrBadState) {
		t.Errorf("wrong bins: %v", err)
	}
}

// flip returns a copy of b with byte i changed.
func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x5a
	return c
}
