package kernels

import (
	"testing"
	"unsafe"
)

// TestWinograd8ArgsLayout pins the AVX2 transforms' argument structs'
// field offsets, which their assembly reads as constants.
func TestWinograd8ArgsLayout(t *testing.T) {
	var a wino8InArgs
	var b wino8OutArgs
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"in.plane", unsafe.Offsetof(a.plane), 8}, {"in.cs", unsafe.Offsetof(a.cs), 16}, {"in.ldx", unsafe.Offsetof(a.ldx), 24},
		{"in.wp4", unsafe.Offsetof(a.wp4), 32}, {"in.keep", unsafe.Offsetof(a.keep), 40},
		{"out.ycs", unsafe.Offsetof(b.ycs), 8}, {"out.mcs", unsafe.Offsetof(b.mcs), 16}, {"out.ldx", unsafe.Offsetof(b.ldx), 24},
		{"out.ow4", unsafe.Offsetof(b.ow4), 32}, {"out.row1", unsafe.Offsetof(b.row1), 40}, {"out.bias", unsafe.Offsetof(b.bias), 48},
		{"out.keep", unsafe.Offsetof(b.keep), 56}, {"out.chs", unsafe.Offsetof(b.chs), 64},
	} {
		if c.got != c.want {
			t.Errorf("%s at offset %d, the assembly reads %d", c.name, c.got, c.want)
		}
	}
}
