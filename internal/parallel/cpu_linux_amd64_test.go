package parallel

import (
	"syscall"
	"testing"
	"unsafe"
)

// sysGetcpu is getcpu(2)'s number on linux/amd64 (package syscall lacks it).
const sysGetcpu = 309

// TestCPUIDIsGetcpu: RDTSCP's TSC_AUX gives the CPU the getcpu system call
// reports (read before and after, skipping a migration in between), and
// home stays in [0, k).
func TestCPUIDIsGetcpu(t *testing.T) {
	if !haveRDTSCP {
		t.Skip("no RDTSCP")
	}
	getcpu := func() int {
		var cpu, node uint32
		if _, _, e := syscall.RawSyscall(sysGetcpu, uintptr(unsafe.Pointer(&cpu)), uintptr(unsafe.Pointer(&node)), 0); e != 0 {
			t.Skip("getcpu:", e)
		}
		return int(cpu)
	}
	checked := 0
	for range 1000 {
		a := getcpu()
		c := cpuID()
		if b := getcpu(); a != b {
			continue
		}
		if c != a {
			t.Fatalf("cpuID %d, getcpu %d", c, a)
		}
		checked++
		for k := 1; k <= 3; k++ {
			if h := home(k); h < 0 || h >= k {
				t.Fatalf("home(%d) = %d", k, h)
			}
		}
	}
	if checked == 0 {
		t.Fatal("the thread moved between every pair of getcpu calls")
	}
}
