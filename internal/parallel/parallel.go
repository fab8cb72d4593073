// Package parallel splits elementwise loops over the cores: a range of n
// elements into at most GOMAXPROCS contiguous chunks, each at least a grain
// long, so that the memory-bound passes of a training step (fake
// quantization, its gradient mask, an observer's range scan) use both cores
// of a 2-core machine instead of one.
package parallel

import (
	"runtime"
	"sync"
)

// Chunks is how many chunks For splits n elements into with minimum chunk
// size grain: 1 when n < 2·grain or GOMAXPROCS is 1.
func Chunks(n, grain int) int {
	if grain < 1 {
		grain = 1
	}
	return max(1, min(runtime.GOMAXPROCS(0), n/grain))
}

// For calls f(i, lo, hi) on k contiguous chunks [lo, hi) of [0, n) (k from
// Chunks, so that the caller can size per-chunk results), chunk i in its
// own goroutine (chunk 0 in the caller's), and returns when all have.
// Chunk boundaries are multiples of align (≥ 1, a vector width) except the
// end, so each chunk's vector loop covers what one loop over the whole
// range would. A chunk may be empty when n is small against k·align.
func For(n, k, align int, f func(i, lo, hi int)) {
	if k <= 1 {
		f(0, 0, n)
		return
	}
	if align < 1 {
		align = 1
	}
	bound := func(i int) int {
		if i == k {
			return n
		}
		return min(n, (n*i/k)/align*align)
	}
	var wg sync.WaitGroup
	for i := 1; i < k; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i, bound(i), bound(i+1))
		}()
	}
	f(0, 0, bound(1))
	wg.Wait()
}
