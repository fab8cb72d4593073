// Package parallel splits elementwise loops over the cores: a range of n
// elements into at most GOMAXPROCS contiguous chunks, each at least a grain
// long, so that the memory-bound passes of a training step (fake
// quantization, its gradient mask, an observer's range scan) use both cores
// of a 2-core machine instead of one.
//
// The chunks beyond the caller's run on helper goroutines that stay awake
// (spinning) for a short while after each chunk: a training step calls For
// a hundred times or more, often less than 100 µs apart, and a goroutine
// started with `go` waited ~100 µs for the runtime to wake a parked thread
// on the test VM — 10% of a resnet20 step on 2 cores.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
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
// Chunks, so that the caller can size per-chunk results), one (see home) in the
// caller's goroutine and the others on helper goroutines, and returns when
// all have. Chunk boundaries are multiples of align (≥ 1, a vector width)
// except the end, so each chunk's vector loop covers what one loop over the
// whole range would. A chunk may be empty when n is small against k·align.
// For may be called from inside f (a nested call whose helpers are busy
// runs its chunks on new goroutines).
func For(n, k, align int, f func(i, lo, hi int)) {
	if k <= 1 {
		f(0, 0, n)
		return
	}
	if align < 1 {
		align = 1
	}
	j := &job{f: f, n: n, k: k, align: align, done: make(chan struct{})}
	j.pending.Store(int32(k - 1))
	own := home(k)
	for i := range k {
		if i == own {
			continue
		}
		if h := helpers.acquire(); h != nil {
			h.give(j, i)
		} else {
			go func() {
				j.chunk(i)
				j.finish()
			}()
		}
	}
	j.chunk(own)
	j.wait()
}

// home is the chunk of k the caller runs: the one numbered as its CPU
// (modulo k), so that chunk i of every call runs on the same core while the
// threads stay on their cores, whichever goroutine runs where. Callers
// split a tensor the same way in the op that writes it and in the ops that
// read it (the images of a batch, say), and a core read what the other had
// just written at 25–43 GB/s against 95–250 GB/s for its own on the 2-core
// VM (bench/crosscore; from the other core's L2 still 3–4x slower where its
// two cores shared an L3); with chunk 0 always the caller's, the two cores
// swapped chunks ~1.4 times a resnet20 training step (the goroutines trade
// threads when one parks), each time reading a step's saved activations
// across.
func home(k int) int {
	if c := cpuID(); c >= 0 {
		return c % k
	}
	return 0
}

// job is one For call: its chunks and a count of those still running.
type job struct {
	f       func(i, lo, hi int)
	n, k    int
	align   int
	pending atomic.Int32
	done    chan struct{} // closed by the last helper chunk to finish
}

func (j *job) bound(i int) int {
	if i == j.k {
		return j.n
	}
	return min(j.n, (j.n*i/j.k)/j.align*j.align)
}

func (j *job) chunk(i int) { j.f(i, j.bound(i), j.bound(i+1)) }

func (j *job) finish() {
	if j.pending.Add(-1) == 0 {
		close(j.done)
	}
}

// wait returns when every helper chunk has: the chunks are equal, so the
// helpers usually finish within microseconds of the caller, and a spin
// answers that faster than parking on the channel would.
func (j *job) wait() {
	if j.pending.Load() == 0 {
		return
	}
	start := time.Now()
	for spin := 1; j.pending.Load() != 0; spin++ {
		if spin%64 == 0 && time.Since(start) > waitSpin {
			<-j.done
			return
		}
		pause(8)
	}
}

// waitSpin is how long For's caller spins for its helpers before parking.
const waitSpin = 100 * time.Microsecond

// awake is how long a helper spins, looking for its next chunk, before it
// parks: longer than the gaps between the For calls of a training step.
const awake = 500 * time.Microsecond

// helper is a goroutine that runs chunks handed to it one at a time.
type helper struct {
	busy   atomic.Bool // owned by a For call from acquire until its chunk ends
	parked atomic.Bool
	slot   atomic.Pointer[task]
	wake   chan struct{} // one token: a chunk was given while parked
}

type task struct {
	j *job
	i int
}

func (h *helper) give(j *job, i int) {
	h.slot.Store(&task{j, i})
	if h.parked.Load() {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
}

func (h *helper) loop() {
	for {
		t := h.next()
		t.j.chunk(t.i)
		// Free before finishing: the caller may call For again the moment
		// its job is done, and should find this helper idle.
		h.busy.Store(false)
		t.j.finish()
	}
}

// next spins until a chunk arrives, yielding to other goroutines every
// ~100 µs and parking after awake. The parked flag is set before the slot's
// last check and give sets the slot before reading the flag, so a chunk
// given meanwhile is either seen here or wakes the helper.
func (h *helper) next() *task {
	start := time.Now()
	for spin := 1; ; spin++ {
		// A load first: the swap's locked write would pull the slot's
		// cache line from the core about to give a chunk, every spin.
		if h.slot.Load() != nil {
			if t := h.slot.Swap(nil); t != nil {
				return t
			}
		}
		if spin%64 == 0 {
			if time.Since(start) > awake {
				h.parked.Store(true)
				if t := h.slot.Swap(nil); t != nil {
					h.parked.Store(false)
					return t
				}
				<-h.wake
				h.parked.Store(false)
				start = time.Now()
				continue
			}
			if spin%256 == 0 {
				// ~100 µs: room for another goroutine on this P without
				// a helper per core taking the scheduler's lock.
				runtime.Gosched()
			}
		}
		pause(8)
	}
}

// pool is the process's helpers, started as For first needs them (at most
// GOMAXPROCS−1 are ever busy at once outside nested calls).
type pool struct {
	mu  sync.Mutex
	all atomic.Pointer[[]*helper]
}

var helpers pool

// acquire returns an idle helper marked busy, starting one if every helper
// is busy and fewer than GOMAXPROCS−1 exist; nil when none can be had (a
// nested call), so that the caller falls back to a goroutine.
func (p *pool) acquire() *helper {
	if all := p.all.Load(); all != nil {
		for _, h := range *all {
			if h.busy.CompareAndSwap(false, true) {
				return h
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var all []*helper
	if a := p.all.Load(); a != nil {
		all = *a
	}
	if len(all) >= runtime.GOMAXPROCS(0)-1 {
		return nil
	}
	h := &helper{wake: make(chan struct{}, 1)}
	h.busy.Store(true)
	all = append(all[:len(all):len(all)], h)
	p.all.Store(&all)
	go h.loop()
	return h
}
