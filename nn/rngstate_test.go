package nn

import (
	"bytes"
	"errors"
	"math/rand"
	"testing"
)

// The dropout generators' state round-trips, restoring it replays the
// same masks, and a state of another model is refused without change.
func TestDropoutRNGState(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	m := &Model{ModelName: "t", Body: NewSequential("t", &Flatten{"f"}, NewLinear("fc", 4, 6, true, rng), NewDropout("d", 0.5, rng))}
	net, err := Compile(m, CompileConfig{Batch: 2, InputShape: [3]int{4, 1, 1}, Classes: 6})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	mask := func() []float32 {
		d := net.dropouts[0]
		d.refill()
		return append([]float32(nil), d.mask.Data().([]float32)...)
	}
	st, err := net.MarshalRNG()
	if err != nil {
		t.Fatal(err)
	}
	first := mask()
	if err := net.UnmarshalRNG(st); err != nil {
		t.Fatal(err)
	}
	if again := mask(); !equalF32(first, again) {
		t.Fatalf("restored generator drew %v, first time %v", again, first)
	}
	cur, _ := net.MarshalRNG()
	for _, bad := range [][]byte{nil, {1, 0, 0, 0}, {0, 0, 0, 0}, append(st[:len(st)-1:len(st)-1], 'x', 'y'), append(st, 0)} {
		if err := net.UnmarshalRNG(bad); !errors.Is(err, ErrState) {
			t.Errorf("UnmarshalRNG(% x): %v, want ErrState", bad, err)
		}
	}
	if now, _ := net.MarshalRNG(); !bytes.Equal(now, cur) {
		t.Fatal("a refused state changed the generators")
	}
	if d := NewDropout("nil-rng", 0.5, nil); d == nil { // a nil rng seeds 0 instead of panicking
		t.Fatal("nil")
	}
}

func equalF32(a, b []float32) bool {
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
