//go:build unix

package kernels

import (
	"syscall"
	"time"
)

// cpuTime is the process's user + system CPU time: on a shared machine the
// benchmarks report it per op (cpu-ms/op) next to the wall clock, since it
// depends far less on other load.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
