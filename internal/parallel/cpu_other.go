//go:build !(linux && amd64)

package parallel

// cpuID returns −1: the CPU a thread runs on is not read on this platform.
func cpuID() int { return -1 }
