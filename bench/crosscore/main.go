// Command crosscore measures how fast one core reads and writes memory that
// another core has just written, against memory it wrote itself, and both
// cores streaming their own buffers at once against one alone: the costs
// behind how the kernels split a batch between workers (a tensor is read
// where it was written; see internal/parallel's home and BENCHMARKS.md).
// Each figure is GB/s of 32-byte vector loads or stores over a buffer of the
// given size, with the threads pinned to CPUs 0 and 1.
//
//	go run ./bench/crosscore
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

func main() {
	if err := supported(); err != nil {
		fmt.Fprintln(os.Stderr, "crosscore:", err)
		os.Exit(1)
	}
	fmt.Println("| buffer | read own | read other core's writes | write own | write over other core's lines | both cores reading own (each) | one core alone |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|")
	for _, n := range []int{256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20} {
		reps := max(4, (256<<20)/n)
		b := make([]float32, n/4)
		other := worker(1)
		var own, cross, wown, wcross time.Duration
		onCPU(0, func() {
			for range reps {
				fill(b, 1)
				own += timed(func() { sum(b) })
				fill(b, 2)
				cross += other(func() { sum(b) })
				other(func() { fill(b, 3) })
				wcross += timed(func() { fill(b, 4) })
				wown += timed(func() { fill(b, 5) })
			}
		})
		other(nil)
		// Both cores stream their own buffers at the same time.
		c := make([]float32, n/4)
		var both [2]time.Duration
		var wg sync.WaitGroup
		for i, buf := range [][]float32{b, c} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				onCPU(i, func() {
					fill(buf, 1)
					both[i] = timed(func() {
						for range reps {
							sum(buf)
						}
					})
				})
			}()
		}
		wg.Wait()
		var solo time.Duration
		onCPU(0, func() {
			solo = timed(func() {
				for range reps {
					sum(b)
				}
			})
		})
		gb := func(d time.Duration) string {
			return fmt.Sprintf("%.0f GB/s", float64(n)*float64(reps)/d.Seconds()/1e9)
		}
		fmt.Printf("| %d KiB | %s | %s | %s | %s | %s / %s | %s |\n", n>>10, gb(own), gb(cross), gb(wown), gb(wcross), gb(both[0]), gb(both[1]), gb(solo))
	}
}

func timed(f func()) time.Duration {
	t := time.Now()
	f()
	return time.Since(t)
}

// worker starts a goroutine pinned to cpu and returns a function that runs
// f there and returns how long it took (nil ends the goroutine).
func worker(cpu int) func(f func()) time.Duration {
	req, resp := make(chan func()), make(chan time.Duration)
	go onCPU(cpu, func() {
		for f := range req {
			resp <- timed(f)
		}
	})
	return func(f func()) time.Duration {
		if f == nil {
			close(req)
			return 0
		}
		req <- f
		return <-resp
	}
}

// onCPU runs f on the calling goroutine's thread pinned to cpu.
func onCPU(cpu int, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := pin(cpu); err != nil {
		fmt.Fprintln(os.Stderr, "crosscore: pinning to CPU", cpu, ":", err)
		os.Exit(1)
	}
	f()
}
