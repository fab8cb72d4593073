//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// Microkernel tile of the AVX-512 build: 4 rows × 32 columns is 8 Float32x16
// accumulators, which with 2 B vectors and a broadcast A value fits Go's 15
// allocatable vector registers without spilling.
const (
	mr = 4
	nr = 32
)

// simdEnabled reports whether the AVX-512 microkernel is in use; on a CPU
// without AVX-512 the portable kernel runs with the same packing.
var simdEnabled = archsimd.X86.AVX512()

func kernelTile(kc int, a, b []float32, tile *[mr * nr]float32) {
	if !simdEnabled {
		kernelTileGeneric(kc, a, b, tile)
		return
	}
	c00, c01, c10, c11, c20, c21, c30, c31 := kernelLoop(kc, a, b)
	c00.Store((*[16]float32)(tile[0:16]))
	c01.Store((*[16]float32)(tile[16:32]))
	c10.Store((*[16]float32)(tile[32:48]))
	c11.Store((*[16]float32)(tile[48:64]))
	c20.Store((*[16]float32)(tile[64:80]))
	c21.Store((*[16]float32)(tile[80:96]))
	c30.Store((*[16]float32)(tile[96:112]))
	c31.Store((*[16]float32)(tile[112:128]))
}

//go:noinline
func kernelLoop(kc int, a, b []float32) (c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x16) {
	a = a[:kc*mr]
	b = b[:kc*nr]
	// Walking a and b by re-slicing from the front lets the compiler drop
	// the bounds checks of the array-pointer conversions.
	for len(a) >= mr && len(b) >= nr {
		ap := (*[mr]float32)(a)
		b0 := archsimd.LoadFloat32x16((*[16]float32)(b[0:16]))
		b1 := archsimd.LoadFloat32x16((*[16]float32)(b[16:32]))
		// A fresh broadcast per FMA: MulAdd compiles to VFMADD213PS, which
		// overwrites its receiver, so a shared broadcast or accumulator as
		// receiver costs a register move per FMA and more at the loop end
		// (measured 29 GFLOP/s against 107 for this form).
		c00 = archsimd.BroadcastFloat32x16(ap[0]).MulAdd(b0, c00)
		c01 = archsimd.BroadcastFloat32x16(ap[0]).MulAdd(b1, c01)
		c10 = archsimd.BroadcastFloat32x16(ap[1]).MulAdd(b0, c10)
		c11 = archsimd.BroadcastFloat32x16(ap[1]).MulAdd(b1, c11)
		c20 = archsimd.BroadcastFloat32x16(ap[2]).MulAdd(b0, c20)
		c21 = archsimd.BroadcastFloat32x16(ap[2]).MulAdd(b1, c21)
		c30 = archsimd.BroadcastFloat32x16(ap[3]).MulAdd(b0, c30)
		c31 = archsimd.BroadcastFloat32x16(ap[3]).MulAdd(b1, c31)
		a = a[mr:]
		b = b[nr:]
	}
	return
}

// kernelFull computes a full tile into C (row stride ldc): C += alpha·A·B when
// acc, else C = alpha·A·B.
func kernelFull(kc int, a, b, c []float32, ldc int, alpha float32, acc bool) {
	if !simdEnabled {
		var tile [mr * nr]float32
		kernelTileGeneric(kc, a, b, &tile)
		storeTile(c, ldc, 1, mr, nr, &tile, alpha, 0, !acc)
		return
	}
	c00, c01, c10, c11, c20, c21, c30, c31 := kernelLoop(kc, a, b)
	al := archsimd.BroadcastFloat32x16(alpha)
	storeRow(c[0*ldc:], c00, c01, al, acc)
	storeRow(c[1*ldc:], c10, c11, al, acc)
	storeRow(c[2*ldc:], c20, c21, al, acc)
	storeRow(c[3*ldc:], c30, c31, al, acc)
}

func storeRow(c []float32, v0, v1, alpha archsimd.Float32x16, acc bool) {
	p0 := (*[16]float32)(c[0:16])
	p1 := (*[16]float32)(c[16:32])
	if acc {
		v0 = v0.MulAdd(alpha, archsimd.LoadFloat32x16(p0))
		v1 = v1.MulAdd(alpha, archsimd.LoadFloat32x16(p1))
	} else {
		v0 = v0.Mul(alpha)
		v1 = v1.Mul(alpha)
	}
	v0.Store(p0)
	v1.Store(p1)
}
