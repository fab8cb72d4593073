//go:build !unix

package intruntime

func cpuSeconds() float64 { return 0 }
