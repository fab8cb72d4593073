package intruntime

//go:noescape
func wgGemmAVX2(mo *int32, ldm int, u *uint32, v *uint32, ldv, cp, nv, panels int)

//go:noescape
func wgInAVX2(v *uint32, xs int, f0, f1 *uint8, offs *int32, nv, half, wf int)

//go:noescape
func wgOutAVX2(acc, mrow *int32, xs int, offs *int32, nv, half, ldp int)

// wgAVX2Kernels are the Winograd passes in AVX2 assembly, which makes no
// bounds checks: each wrapper checks the furthest element its call
// reads or writes and panics (a programmer error) on short operands.
var wgAVX2Kernels = wgKernels{input: wgInputY, gemm: wgGemmY, output: wgOutputY, input4: wg4InputY, output4: wg4OutputY}

func wgGemmY(mo []int32, ldm int, u, v []uint32, ldv, cp, nv, panels int) {
	if nv == 0 || panels == 0 {
		return
	}
	if cp < 1 || ldm < 8*nv || ldv < 8*nv {
		panic("intruntime: wgGemmY: bad operands")
	}
	_, _, _ = mo[(4*panels-1)*ldm+8*nv-1], u[4*cp*panels-1], v[(cp-1)*ldv+8*nv-1]
	wgGemmAVX2(&mo[0], ldm, &u[0], &v[0], ldv, cp, nv, panels)
}

func wgInputY(v []uint32, xs int, f0, f1 []uint8, offs []int32, half, wf int) {
	nv := len(offs)
	if nv == 0 {
		return
	}
	_ = v[15*xs+8*nv-1]
	// The furthest byte: a vector's four rows from its offset, its second
	// half, and the 8-byte loads at +2.
	wgCheckOffs("wgInputY", offs, 3*wf+half+9, min(len(f0), len(f1)))
	wgInAVX2(&v[0], xs, &f0[0], &f1[0], &offs[0], nv, half, wf)
}

func wgOutputY(acc, mrow []int32, xs int, offs []int32, half, ldp int) {
	nv := len(offs)
	if nv == 0 {
		return
	}
	_ = mrow[15*xs+8*nv-1]
	wgCheckOffs("wgOutputY", offs, ldp+half+7, len(acc))
	wgOutAVX2(&acc[0], &mrow[0], xs, &offs[0], nv, half, ldp)
}

//go:noescape
func wg4InAVX2(v *uint32, xs int, f0, f1 *uint8, offs *int32, nv, half, q1, wf int, scratch *uint32)

//go:noescape
func wg4OutAVX2(acc, mrow *int32, xs int, offs *int32, nv, half, q1, ldp int, scratch *uint32)

func wg4InputY(v []uint32, xs int, f0, f1 []uint8, offs []int32, half, q1, wf int, scratch []uint32) {
	nv := len(offs)
	if nv == 0 {
		return
	}
	if q1 != 8 && q1 != 4*wf {
		panic("intruntime: wg4InputY: pieces neither adjoining nor a tile row apart")
	}
	_, _ = v[35*xs+8*nv-1], scratch[wgScratch-1]
	// The furthest byte: a vector's six rows from its offset, its last
	// piece, the 16-byte (adjoining) or 8-byte loads at +4.
	last := 5*wf + half + 19
	if q1 != 8 {
		last = 5*wf + half + q1 + 11
	}
	wgCheckOffs("wg4InputY", offs, last, min(len(f0), len(f1)))
	wg4InAVX2(&v[0], xs, &f0[0], &f1[0], &offs[0], nv, half, q1, wf, &scratch[0])
}

func wg4OutputY(acc, mrow []int32, xs int, offs []int32, half, q1, ldp int, scratch []uint32) {
	nv := len(offs)
	if nv == 0 {
		return
	}
	if q1 != 8 && q1 != 4*ldp {
		panic("intruntime: wg4OutputY: pieces neither adjoining nor a tile row apart")
	}
	_, _ = mrow[35*xs+8*nv-1], scratch[wgScratch-1]
	wgCheckOffs("wg4OutputY", offs, 3*ldp+half+q1+7, len(acc))
	wg4OutAVX2(&acc[0], &mrow[0], xs, &offs[0], nv, half, q1, ldp, &scratch[0])
}

// wgCheckOffs panics (a programmer error) unless every vector's offset o
// in offs leaves o + last inside a buffer of n elements: the assembly
// passes make no bounds checks.
func wgCheckOffs(name string, offs []int32, last, n int) {
	for _, o := range offs {
		if o < 0 || int(o)+last >= n {
			panic("intruntime: " + name + ": buffer too short for the vectors' offsets")
		}
	}
}
