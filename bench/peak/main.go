// Command peak measures one core's arithmetic peak: float32 fused
// multiply-adds and int8 dot products (VPDPBUSD) on the widest vectors the
// CPU has, 12 independent accumulators so that latency does not bound the
// rate. It is the denominator of the shares of peak in BENCHMARKS.md:
// bench/infer prints G multiply-adds per CPU-second and bench/qatstep the
// step times from which GFLOP/s follow.
//
//	go run ./bench/peak
package main

import (
	"fmt"
	"runtime"
	"time"

	"github.com/qatgo/qatgo/internal/cpufeat"
)

// kernel runs n iterations of 12 vector instructions; lanes is the
// multiply-adds one instruction does.
type kernel struct {
	name  string
	unit  string
	lanes int
	ok    bool
	run   func(n int)
}

func main() {
	runtime.LockOSThread()
	ks := kernels(cpufeat.Host)
	if len(ks) == 0 {
		fmt.Printf("no peak kernels for %s/%s (%v)\n", runtime.GOOS, runtime.GOARCH, cpufeat.Host)
		return
	}
	fmt.Printf("CPU features: %v; one core, best of 5 runs of ~0.2 s\n", cpufeat.Host)
	for _, k := range ks {
		if !k.ok {
			continue
		}
		const n = 20_000_000
		best := time.Duration(1 << 62)
		for range 5 {
			t0 := time.Now()
			k.run(n)
			best = min(best, time.Since(t0))
		}
		perNs := float64(12*n) / float64(best.Nanoseconds())
		fmt.Printf("%-28s %5.2f instructions/ns  %6.0f %s\n", k.name, perNs, perNs*float64(k.lanes), k.unit)
	}
}
