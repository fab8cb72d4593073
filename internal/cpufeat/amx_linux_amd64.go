//go:build linux && amd64

package cpufeat

import (
	"sync"

	"golang.org/x/sys/unix"
)

// amxGranted asks Linux, once per process, for the AMX tile data state:
// since Linux 5.16 a process must request it (arch_prctl
// ARCH_REQ_XCOMP_PERM) before its first tile instruction, which otherwise
// faults. The grant holds for every thread of the process. It fails on
// older kernels and where the kernel has the state disabled.
var amxGranted = sync.OnceValue(func() bool {
	const (
		archReqXcompPerm  = 0x1023
		xfeatureXtiledata = 18
	)
	_, _, errno := unix.Syscall(unix.SYS_ARCH_PRCTL, archReqXcompPerm, xfeatureXtiledata, 0)
	return errno == 0
})
