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

// transIdx holds, for each bit b of a lane index, the two VPERMI2PS index
// vectors that swap bit b between the row and the lane (column) of a 16×16
// block held as 16 vectors: for rows r (bit b clear) and r+2^b,
//
//	new[r][c]     = c_b == 0 ? old[r][c]     : old[r+2^b][c-2^b]
//	new[r+2^b][c] = c_b == 0 ? old[r][c+2^b] : old[r+2^b][c]
//
// (lane indices 16–31 select from the second vector). Swapping all four bits
// transposes the block. Computed once, never written after.
var transIdx = func() (t [8][16]uint32) {
	for b := 0; b < 4; b++ {
		h := uint32(1) << b
		for c := uint32(0); c < 16; c++ {
			if c&h == 0 {
				t[2*b][c], t[2*b+1][c] = c, c+h
			} else {
				t[2*b][c], t[2*b+1][c] = 16+c-h, 16+c
			}
		}
	}
	return t
}()

// transpose16 writes panel[p*w + r] = x[(r0+r)*ld + pc+p] for r < rows and
// p < kc, both multiples of 16, 16×16 blocks at a time in registers: the
// transposed packing of B for dW = dy·colᵀ and a linear layer's x·Wᵀ, which
// as a scalar scatter was a fifth of a LeNet-5 step.
func transpose16(panel, x []float32, ld, r0, rows, pc, kc, w int) {
	var idx [8]archsimd.Uint32x16
	for i := range idx {
		idx[i] = archsimd.LoadUint32x16(&transIdx[i])
	}
	var v [16]archsimd.Float32x16
	for rb := 0; rb < rows; rb += 16 {
		for pb := 0; pb < kc; pb += 16 {
			for i := range v {
				off := (r0+rb+i)*ld + pc + pb
				v[i] = archsimd.LoadFloat32x16((*[16]float32)(x[off : off+16]))
			}
			for b := 0; b < 4; b++ {
				h := 1 << b
				lo, hi := idx[2*b], idx[2*b+1]
				for r := 0; r < 16; r++ {
					if r&h != 0 {
						continue
					}
					a, c := v[r], v[r+h]
					v[r] = a.ConcatPermute(c, lo)
					v[r+h] = a.ConcatPermute(c, hi)
				}
			}
			for j := range v {
				off := (pb+j)*w + rb
				v[j].Store((*[16]float32)(panel[off : off+16]))
			}
		}
	}
}
