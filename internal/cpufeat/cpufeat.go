// Package cpufeat says which SIMD instruction sets the kernels of qatgo may
// use on this CPU, once, at start-up. Each kernel family (float GEMM, int8
// GEMM, requantization, ...) picks its implementation from a Features value
// in one place; tests run every implementation that Host.Variants offers.
//
// The environment variable QATGO_CPU lowers what is used, for testing and
// for comparing paths on one machine: "avxvnni" masks AVX-512 (what a CPU
// with AVX2 and AVX-VNNI but no AVX-512 runs, such as Intel's client cores
// since Alder Lake), "avx2" masks AVX-512 and AVX-VNNI (the AVX2+FMA kernels
// of Haswell-class CPUs run), "generic" masks every SIMD path (the portable
// Go code runs).
// Unset or any other value uses everything the CPU has.
package cpufeat

import (
	"os"
	"runtime"

	"golang.org/x/sys/cpu"
)

// EnvVar is the name of the environment variable read by Detect.
const EnvVar = "QATGO_CPU"

// Features lists the instruction sets the kernels use. Every flag implies
// the OS saves the registers it needs (x/sys/cpu checks XCR0).
type Features struct {
	// amd64
	AVX2    bool // AVX2 and FMA3
	AVXVNNI bool // AVX-VNNI: VEX-encoded VPDPBUSD on ymm (implies AVX2)
	AVX512  bool // AVX-512 F, BW, DQ and VL (implies AVX2)
	VNNI    bool // AVX512-VNNI: VPDPBUSD (implies AVX512)
	VBMI    bool // AVX512-VBMI: VPERMI2B (implies AVX512)
	VBMI2   bool // AVX512-VBMI2: VPEXPANDB (implies AVX512)
	// AMX-TILE and AMX-INT8 (implies VNNI), and Linux has granted this
	// process the tile data state (arch_prctl ARCH_REQ_XCOMP_PERM), without
	// which the first tile instruction faults.
	AMX bool
	// arm64
	NEON    bool // Advanced SIMD (always on arm64)
	DotProd bool // SDOT/UDOT (implies NEON)
}

// Host is what this process uses: the CPU's features lowered by QATGO_CPU.
// It is computed once at start-up and never written after.
var Host = Detect(os.Getenv(EnvVar))

// Detect returns the CPU's features lowered by mask, a value of QATGO_CPU.
func Detect(mask string) Features {
	var f Features
	switch runtime.GOARCH {
	case "amd64":
		x := &cpu.X86
		f.AVX2 = x.HasAVX2 && x.HasFMA
		f.AVXVNNI = f.AVX2 && x.HasAVXVNNI
		f.AVX512 = f.AVX2 && x.HasAVX512F && x.HasAVX512BW && x.HasAVX512DQ && x.HasAVX512VL
		f.VNNI = f.AVX512 && x.HasAVX512VNNI
		f.VBMI = f.AVX512 && x.HasAVX512VBMI
		f.VBMI2 = f.AVX512 && x.HasAVX512VBMI2
		f.AMX = f.VNNI && x.HasAMXTile && x.HasAMXInt8 && amxGranted()
	case "arm64":
		f.NEON = cpu.ARM64.HasASIMD
		f.DotProd = f.NEON && cpu.ARM64.HasASIMDDP
	}
	return f.Mask(mask)
}

// Mask returns f lowered by a QATGO_CPU value: "noamx" drops AMX,
// "avxvnni" drops AVX-512 (and AMX), "avx2" drops AVX-512 and AVX-VNNI,
// "generic" (or "portable") drops every SIMD set; "neon" drops DotProd.
func (f Features) Mask(mask string) Features {
	switch mask {
	case "generic", "portable":
		return Features{}
	case "avxvnni":
		f.AVX512, f.VNNI, f.VBMI, f.VBMI2, f.AMX = false, false, false, false, false
	case "avx2":
		f.AVX512, f.VNNI, f.VBMI, f.VBMI2, f.AVXVNNI, f.AMX = false, false, false, false, false, false
	case "noamx":
		f.AMX = false
	case "neon":
		f.DotProd = false
	}
	return f
}

// Variant is one lowered set of features with its name, for tests.
type Variant struct {
	Name string
	Features
}

// Variants returns f and each distinct lowering of it (AVX-512 VNNI
// without AMX, AVX-512 without VNNI/VBMI/VBMI2, AVX2 with AVX-VNNI, AVX2 only,
// NEON without DotProd, generic), so that a test can run every
// implementation this CPU can execute against the portable one.
func (f Features) Variants() []Variant {
	vs := []Variant{{"host", f}}
	add := func(name string, g Features) {
		for _, v := range vs {
			if v.Features == g {
				return
			}
		}
		vs = append(vs, Variant{name, g})
	}
	add("noamx", f.Mask("noamx"))
	if f.AVX512 {
		g := f
		g.VNNI, g.VBMI, g.VBMI2, g.AMX = false, false, false, false
		add("avx512", g)
	}
	add("avxvnni", f.Mask("avxvnni"))
	add("avx2", f.Mask("avx2"))
	add("neon", f.Mask("neon"))
	add("generic", Features{})
	return vs
}

// String names the widest path f enables.
func (f Features) String() string {
	switch {
	case f.AMX:
		return "amx"
	case f.VNNI:
		return "avx512vnni"
	case f.AVX512:
		return "avx512"
	case f.AVXVNNI:
		return "avxvnni"
	case f.AVX2:
		return "avx2"
	case f.DotProd:
		return "neon+dotprod"
	case f.NEON:
		return "neon"
	}
	return "generic"
}
