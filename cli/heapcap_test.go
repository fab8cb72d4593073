package cli

import (
	"runtime/debug"
	"testing"
)

// TestCapFor: LeNet-5's live heap (~240 MB) keeps the 512 MiB limit that
// kept its resident size flat; a ResNet-20 QAT run's (~1 GB) gets 128 MiB
// on top, so the collector does not run continuously.
func TestCapFor(t *testing.T) {
	for _, c := range []struct{ live, want int64 }{
		{0, 512 << 20}, {240 << 20, 512 << 20}, {400 << 20, 528 << 20}, {1 << 30, 1152 << 20},
	} {
		if got := capFor(c.live); got != c.want {
			t.Errorf("capFor(%d MiB) = %d MiB, want %d MiB", c.live>>20, got>>20, c.want>>20)
		}
	}
}

// TestHeapCapRestores: a run's limit is taken back when it ends, and a
// user's GOMEMLIMIT is left alone.
func TestHeapCapRestores(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	h := newHeapCap(false)
	if got := debug.SetMemoryLimit(-1); got < heapCapFloor || got == before {
		t.Errorf("during the run the limit is %d, want ≥ %d", got, heapCapFloor)
	}
	h.restore()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("after the run the limit is %d, want %d", got, before)
	}
	u := newHeapCap(true)
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("with GOMEMLIMIT the limit changed to %d", got)
	}
	u.restore()
}
