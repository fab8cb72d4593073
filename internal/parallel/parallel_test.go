package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestForCoversOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, tc := range []struct{ n, grain, align int }{
		{0, 10, 16}, {5, 10, 16}, {100, 10, 16}, {1000, 100, 16}, {1001, 1, 1}, {33, 8, 16}, {4096, 1024, 16},
	} {
		hits := make([]int, tc.n)
		chunks := make([]int, 0)
		seen := make(chan [3]int, 64)
		For(tc.n, Chunks(tc.n, tc.grain), tc.align, func(i, lo, hi int) {
			seen <- [3]int{i, lo, hi}
		})
		close(seen)
		for c := range seen {
			chunks = append(chunks, c[0])
			lo, hi := c[1], c[2]
			if lo%tc.align != 0 && lo != tc.n {
				t.Errorf("%+v: chunk %d starts at %d, not a multiple of %d", tc, c[0], lo, tc.align)
			}
			for j := lo; j < hi; j++ {
				hits[j]++
			}
		}
		for j, h := range hits {
			if h != 1 {
				t.Fatalf("%+v: element %d covered %d times", tc, j, h)
			}
		}
		if want := Chunks(tc.n, tc.grain); len(chunks) != want {
			t.Errorf("%+v: %d chunks, want %d", tc, len(chunks), want)
		}
	}
}

func TestChunks(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for _, tc := range []struct{ n, grain, want int }{{10, 100, 1}, {199, 100, 1}, {200, 100, 2}, {1 << 20, 100, 2}, {5, 0, 2}} {
		if got := Chunks(tc.n, tc.grain); got != tc.want {
			t.Errorf("Chunks(%d, %d) = %d, want %d", tc.n, tc.grain, got, tc.want)
		}
	}
}

// covers checks that For's chunks cover [0, n) exactly once.
func covers(t *testing.T, n, k int) {
	t.Helper()
	hits := make([]atomic.Int32, n)
	For(n, k, 1, func(_, lo, hi int) {
		for j := lo; j < hi; j++ {
			hits[j].Add(1)
		}
	})
	for j := range hits {
		if h := hits[j].Load(); h != 1 {
			t.Errorf("n=%d k=%d: element %d covered %d times", n, k, j, h) // not Fatalf: runs off the test goroutine too
			return
		}
	}
}

// TestForHelpers drives the helper goroutines through what a training run
// does to them: back-to-back calls, calls after the helpers have parked,
// calls nested inside a chunk and calls from several goroutines at once.
func TestForHelpers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	for range 200 {
		covers(t, 1000, 3)
	}
	for range 3 {
		time.Sleep(3 * awake) // the helpers park
		covers(t, 1000, 3)
	}
	var inner atomic.Int32
	For(4, 2, 1, func(_, lo, hi int) {
		for range hi - lo {
			For(100, 3, 1, func(_, lo, hi int) { inner.Add(int32(hi - lo)) })
		}
	})
	if got := inner.Load(); got != 400 {
		t.Fatalf("nested calls covered %d elements, want 400", got)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				covers(t, 257, 3)
			}
		}()
	}
	wg.Wait()
}
