package cli

import (
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// heapCap keeps the resident size of a training run flat without starving
// the collector. The live heap of a run is flat once its graphs exist, but
// with GOGC alone the process grows by GOGC's headroom (up to twice the
// live heap); a soft memory limit stops that. A fixed limit is wrong for
// every model but one: at 512 MiB (LeNet-5's need) a ResNet-20 QAT run,
// whose live heap is ~1 GB, collected continuously — 4,000 collections in
// 50 steps, 17% of the CPU, its W8A8 epoch 40% slower. So the limit follows
// the live heap: max(512 MiB, live + 128 MiB), rechecked four
// times a second (graphs and their buffers appear in the first step, the
// evaluation graphs after the first epoch), raised when the heap grew,
// never lowered during a run; the caller's limit is restored when the run
// ends (autobits trains many runs in one process).
type heapCap struct {
	prev  int64 // the limit before the run
	limit int64
	live  []metrics.Sample
	stop  chan struct{}
	done  chan struct{}
}

const (
	heapCapFloor    = 512 << 20 // LeNet-5 runs stay flat at this
	heapCapSlack    = 128 << 20
	heapCapInterval = 250 * time.Millisecond
)

// newHeapCap starts capping; with userLimit (GOMEMLIMIT set) it does
// nothing.
func newHeapCap(userLimit bool) *heapCap {
	if userLimit {
		return &heapCap{}
	}
	h := &heapCap{prev: debug.SetMemoryLimit(-1), live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}},
		stop: make(chan struct{}), done: make(chan struct{})}
	h.update()
	go func() {
		defer close(h.done)
		t := time.NewTicker(heapCapInterval)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.update()
			}
		}
	}()
	return h
}

// update raises the limit to fit the live heap measured at the last
// collection.
func (h *heapCap) update() {
	metrics.Read(h.live)
	var live int64
	if h.live[0].Value.Kind() == metrics.KindUint64 {
		live = int64(h.live[0].Value.Uint64())
	}
	if limit := capFor(live); limit > h.limit {
		h.limit = limit
		debug.SetMemoryLimit(limit)
	}
}

// capFor is the soft limit for a live heap of live bytes.
func capFor(live int64) int64 {
	return max(heapCapFloor, live+heapCapSlack)
}

// restore stops the checks and puts back the limit from before the run.
func (h *heapCap) restore() {
	if h.stop == nil {
		return
	}
	close(h.stop)
	<-h.done
	debug.SetMemoryLimit(h.prev)
}
