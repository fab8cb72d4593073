//go:build !unix

package kernels

import "time"

// cpuTime is 0 where getrusage is missing: the benchmarks' cpu-ms/op reads
// 0 there.
func cpuTime() time.Duration { return 0 }
