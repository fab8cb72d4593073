//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// vecDwKernels gives the depthwise convolution its AVX-512 loops, unless the
// CPU lacks AVX-512.
func vecDwKernels() (dwKernels[float32], bool) {
	return dwKernels[float32]{corrRows: corrRows16, dotsRows: dotsRows16, lanes: 16, axpy: axpy16, copyRow: copy16,
		deint2: deint16, inter2: inter16}, simdEnabled
}

// copy16 copies s into d, 16 floats per vector and a masked tail: the rows
// here are short (7 to 56 floats), where memmove's call costs more than the
// copy.
func copy16(d, s []float32) {
	d = d[:len(s)]
	for len(s) >= 16 {
		archsimd.LoadFloat32x16((*[16]float32)(s[:16])).Store((*[16]float32)(d[:16]))
		d, s = d[16:], s[16:]
	}
	if len(s) > 0 {
		archsimd.LoadFloat32x16SlicePart(s).StoreSlicePart(d)
	}
}

// corrRows16 is corrRowsGeneric 16 outputs of a row at a time (a masked
// vector for the row's tail), the sum kept in a register across the taps.
func corrRows16(out []float32, oh, ow int, in []float32, pitch int, offs []int, w []float32, init float32, add bool) {
	if len(offs) == 9 && !add {
		corrRows9(out, oh, ow, in, pitch, offs, w, init)
		return
	}
	w = w[:len(offs)]
	iv := archsimd.BroadcastFloat32x16(init)
	for oy := 0; oy < oh; oy++ {
		row, src := out[oy*ow:(oy+1)*ow], in[oy*pitch:]
		for k := 0; k < ow; k += 16 {
			e := min(k+16, ow)
			acc := iv
			if add {
				acc = archsimd.LoadFloat32x16SlicePart(row[k:e]).Add(iv)
			}
			for t, off := range offs {
				acc = archsimd.BroadcastFloat32x16(w[t]).MulAdd(archsimd.LoadFloat32x16SlicePart(src[off+k:off+e]), acc)
			}
			acc.StoreSlicePart(row[k:e])
		}
	}
}

// corrRows9 is corrRows16 for a 3×3 filter, its weights broadcast once into
// nine registers. After one bounds check of the whole range it addresses
// the planes by pointer: per tap, slicing cost more instructions than the
// load and multiply-add.
func corrRows9(out []float32, oh, ow int, in []float32, pitch int, offs []int, w []float32, init float32) {
	if oh <= 0 || ow <= 0 {
		return
	}
	o0, o1, o2, o3, o4, o5, o6, o7, o8 := offs[0], offs[1], offs[2], offs[3], offs[4], offs[5], offs[6], offs[7], offs[8]
	checkRange(len(out), oh*ow, len(in), (oh-1)*pitch+ow, offs)
	wv := (*[9]float32)(w[:9])
	w0, w1, w2 := archsimd.BroadcastFloat32x16(wv[0]), archsimd.BroadcastFloat32x16(wv[1]), archsimd.BroadcastFloat32x16(wv[2])
	w3, w4, w5 := archsimd.BroadcastFloat32x16(wv[3]), archsimd.BroadcastFloat32x16(wv[4]), archsimd.BroadcastFloat32x16(wv[5])
	w6, w7, w8 := archsimd.BroadcastFloat32x16(wv[6]), archsimd.BroadcastFloat32x16(wv[7]), archsimd.BroadcastFloat32x16(wv[8])
	iv := archsimd.BroadcastFloat32x16(init)
	m := tailMask(ow)
	ip, op := unsafe.Pointer(unsafe.SliceData(in)), unsafe.Pointer(unsafe.SliceData(out))
	for oy := 0; oy < oh; oy++ {
		r, ob := oy*pitch, oy*ow
		k := 0
		for ; k+16 <= ow; k += 16 {
			acc := w0.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o0+k)), iv)
			acc = w1.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o1+k)), acc)
			acc = w2.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o2+k)), acc)
			acc = w3.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o3+k)), acc)
			acc = w4.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o4+k)), acc)
			acc = w5.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o5+k)), acc)
			acc = w6.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o6+k)), acc)
			acc = w7.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o7+k)), acc)
			acc = w8.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o8+k)), acc)
			acc.Store(at16(op, ob+k))
		}
		if k < ow {
			acc := w0.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o0+k), m), iv)
			acc = w1.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o1+k), m), acc)
			acc = w2.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o2+k), m), acc)
			acc = w3.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o3+k), m), acc)
			acc = w4.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o4+k), m), acc)
			acc = w5.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o5+k), m), acc)
			acc = w6.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o6+k), m), acc)
			acc = w7.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o7+k), m), acc)
			acc = w8.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o8+k), m), acc)
			acc.StoreMasked(at16(op, ob+k), m)
		}
	}
}

// dotsRows9 is dotsRows16 for a 3×3 filter: nine accumulators, so that each
// dy vector is loaded once for all taps, and pointer addressing after one
// bounds check, as corrRows9.
func dotsRows9(acc, dy []float32, oh, ow int, in []float32, pitch int, offs []int) {
	if oh <= 0 || ow <= 0 {
		return
	}
	o0, o1, o2, o3, o4, o5, o6, o7, o8 := offs[0], offs[1], offs[2], offs[3], offs[4], offs[5], offs[6], offs[7], offs[8]
	checkRange(len(dy), oh*ow, len(in), (oh-1)*pitch+ow, offs)
	ap := (*[9 * 16]float32)(acc[:9*16])
	a0, a1, a2 := archsimd.LoadFloat32x16((*[16]float32)(ap[0:16])), archsimd.LoadFloat32x16((*[16]float32)(ap[16:32])), archsimd.LoadFloat32x16((*[16]float32)(ap[32:48]))
	a3, a4, a5 := archsimd.LoadFloat32x16((*[16]float32)(ap[48:64])), archsimd.LoadFloat32x16((*[16]float32)(ap[64:80])), archsimd.LoadFloat32x16((*[16]float32)(ap[80:96]))
	a6, a7, a8 := archsimd.LoadFloat32x16((*[16]float32)(ap[96:112])), archsimd.LoadFloat32x16((*[16]float32)(ap[112:128])), archsimd.LoadFloat32x16((*[16]float32)(ap[128:144]))
	m := tailMask(ow)
	ip, dp := unsafe.Pointer(unsafe.SliceData(in)), unsafe.Pointer(unsafe.SliceData(dy))
	for oy := 0; oy < oh; oy++ {
		r, db := oy*pitch, oy*ow
		k := 0
		for ; k+16 <= ow; k += 16 {
			d := archsimd.LoadFloat32x16(at16(dp, db+k))
			a0 = d.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o0+k)), a0)
			a1 = d.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o1+k)), a1)
			a2 = d.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o2+k)), a2)
			a3 = d.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o3+k)), a3)
			a4 = d.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o4+k)), a4)
			a5 = d.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o5+k)), a5)
			a6 = d.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o6+k)), a6)
			a7 = d.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o7+k)), a7)
			a8 = d.MulAdd(archsimd.LoadFloat32x16(at16(ip, r+o8+k)), a8)
		}
		if k < ow {
			// The masked-off lanes of d are 0.
			d := archsimd.LoadMaskedFloat32x16(at16(dp, db+k), m)
			a0 = d.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o0+k), m), a0)
			a1 = d.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o1+k), m), a1)
			a2 = d.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o2+k), m), a2)
			a3 = d.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o3+k), m), a3)
			a4 = d.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o4+k), m), a4)
			a5 = d.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o5+k), m), a5)
			a6 = d.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o6+k), m), a6)
			a7 = d.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o7+k), m), a7)
			a8 = d.MulAdd(archsimd.LoadMaskedFloat32x16(at16(ip, r+o8+k), m), a8)
		}
	}
	a0.Store((*[16]float32)(ap[0:16]))
	a1.Store((*[16]float32)(ap[16:32]))
	a2.Store((*[16]float32)(ap[32:48]))
	a3.Store((*[16]float32)(ap[48:64]))
	a4.Store((*[16]float32)(ap[64:80]))
	a5.Store((*[16]float32)(ap[80:96]))
	a6.Store((*[16]float32)(ap[96:112]))
	a7.Store((*[16]float32)(ap[112:128]))
	a8.Store((*[16]float32)(ap[128:144]))
}

// at16 points at element i of the float32 array at base.
func at16(base unsafe.Pointer, i int) *[16]float32 {
	return (*[16]float32)(unsafe.Add(base, 4*i))
}

// dotsRows16 is dotsRowsGeneric with 16-lane partial sums, four taps per
// pass over dy so that each dy vector is loaded once for four products.
func dotsRows16(acc, dy []float32, oh, ow int, in []float32, pitch int, offs []int) {
	if len(offs) == 9 {
		dotsRows9(acc, dy, oh, ow, in, pitch, offs)
		return
	}
	acc = acc[:16*len(offs)]
	m := tailMask(ow)
	t := 0
	for ; t+4 <= len(offs); t += 4 {
		o0, o1, o2, o3 := offs[t], offs[t+1], offs[t+2], offs[t+3]
		ap := acc[16*t : 16*t+64]
		a0 := archsimd.LoadFloat32x16((*[16]float32)(ap[0:16]))
		a1 := archsimd.LoadFloat32x16((*[16]float32)(ap[16:32]))
		a2 := archsimd.LoadFloat32x16((*[16]float32)(ap[32:48]))
		a3 := archsimd.LoadFloat32x16((*[16]float32)(ap[48:64]))
		for oy := 0; oy < oh; oy++ {
			dr, src := dy[oy*ow:(oy+1)*ow], in[oy*pitch:]
			k := 0
			for ; k+16 <= ow; k += 16 {
				d := archsimd.LoadFloat32x16Slice(dr[k:])
				a0 = d.MulAdd(archsimd.LoadFloat32x16Slice(src[o0+k:]), a0)
				a1 = d.MulAdd(archsimd.LoadFloat32x16Slice(src[o1+k:]), a1)
				a2 = d.MulAdd(archsimd.LoadFloat32x16Slice(src[o2+k:]), a2)
				a3 = d.MulAdd(archsimd.LoadFloat32x16Slice(src[o3+k:]), a3)
			}
			if k < ow {
				d := archsimd.LoadMaskedFloat32x16(part16(dr[k:]), m)
				a0 = d.MulAdd(archsimd.LoadMaskedFloat32x16(part16(src[o0+k:]), m), a0)
				a1 = d.MulAdd(archsimd.LoadMaskedFloat32x16(part16(src[o1+k:]), m), a1)
				a2 = d.MulAdd(archsimd.LoadMaskedFloat32x16(part16(src[o2+k:]), m), a2)
				a3 = d.MulAdd(archsimd.LoadMaskedFloat32x16(part16(src[o3+k:]), m), a3)
			}
		}
		a0.Store((*[16]float32)(ap[0:16]))
		a1.Store((*[16]float32)(ap[16:32]))
		a2.Store((*[16]float32)(ap[32:48]))
		a3.Store((*[16]float32)(ap[48:64]))
	}
	for ; t < len(offs); t++ {
		off := offs[t]
		ap := (*[16]float32)(acc[16*t : 16*t+16])
		a := archsimd.LoadFloat32x16(ap)
		for oy := 0; oy < oh; oy++ {
			dr, src := dy[oy*ow:(oy+1)*ow], in[oy*pitch:]
			for k := 0; k < ow; k += 16 {
				e := min(k+16, ow)
				a = archsimd.LoadFloat32x16SlicePart(dr[k:e]).MulAdd(archsimd.LoadFloat32x16SlicePart(src[off+k:off+e]), a)
			}
		}
		a.Store(ap)
	}
}

// axpy16 adds a·src into dst, 16 floats per vector.
func axpy16(dst, src []float32, a float32) {
	dst = dst[:len(src)]
	av := archsimd.BroadcastFloat32x16(a)
	for len(src) >= 16 {
		dp := (*[16]float32)(dst[:16])
		av.MulAdd(archsimd.LoadFloat32x16((*[16]float32)(src[:16])), archsimd.LoadFloat32x16(dp)).Store(dp)
		dst, src = dst[16:], src[16:]
	}
	if len(src) > 0 {
		av.MulAdd(archsimd.LoadFloat32x16SlicePart(src), archsimd.LoadFloat32x16SlicePart(dst)).StoreSlicePart(dst)
	}
}

// tailMask is the mask of the n mod 16 lanes of a row's last, partial
// vector.
func tailMask(n int) archsimd.Mask32x16 {
	return archsimd.Mask32x16FromBits(uint16(1)<<(n%16) - 1)
}

// part16 points at s[0] as a 16-float array for a masked load or store of
// fewer lanes, as archsimd's SlicePart functions do, but with a mask made
// once per call instead of once per vector: the masked-off lanes are
// neither read nor written (AVX-512 suppresses their faults).
func part16(s []float32) *[16]float32 {
	return (*[16]float32)(unsafe.Pointer(unsafe.SliceData(s)))
}

// interIdx holds the VPERMI2PS indices that interleave two vectors e, o
// into e0 o0 e1 o1 … (low half, then high half).
var interIdx = func() (t [2][16]uint32) {
	for i := uint32(0); i < 16; i++ {
		t[0][i] = i/2 + 16*(i%2)
		t[1][i] = 8 + i/2 + 16*(i%2)
	}
	return t
}()

// deint16 is deint2 32 elements of src at a time, with masked vectors for
// the tail (a row of 14 is one masked load and two masked stores).
func deint16(e, o, src []float32) {
	n := len(src)
	e, o = e[:(n+1)/2], o[:n/2]
	even := archsimd.LoadUint32x16(&pairIdx[0])
	odd := archsimd.LoadUint32x16(&pairIdx[1])
	sp := unsafe.Pointer(unsafe.SliceData(src))
	ep, op := unsafe.Pointer(unsafe.SliceData(e)), unsafe.Pointer(unsafe.SliceData(o))
	i := 0
	for ; i+32 <= n; i += 32 {
		a := archsimd.LoadFloat32x16((*[16]float32)(src[i : i+16]))
		b := archsimd.LoadFloat32x16((*[16]float32)(src[i+16 : i+32]))
		a.ConcatPermute(b, even).Store((*[16]float32)(e[i/2 : i/2+16]))
		a.ConcatPermute(b, odd).Store((*[16]float32)(o[i/2 : i/2+16]))
	}
	if r := n - i; r > 0 {
		var a, b archsimd.Float32x16
		a = archsimd.LoadMaskedFloat32x16(at16(sp, i), lanes(min(r, 16)))
		if r > 16 {
			b = archsimd.LoadMaskedFloat32x16(at16(sp, i+16), lanes(r-16))
		}
		a.ConcatPermute(b, even).StoreMasked(at16(ep, i/2), lanes((r+1)/2))
		if r > 1 {
			a.ConcatPermute(b, odd).StoreMasked(at16(op, i/2), lanes(r/2))
		}
	}
}

// inter16 is inter2 32 elements of dst at a time, with masked vectors for
// the tail.
func inter16(dst, e, o []float32) {
	n := len(dst)
	e, o = e[:(n+1)/2], o[:n/2]
	lo := archsimd.LoadUint32x16(&interIdx[0])
	hi := archsimd.LoadUint32x16(&interIdx[1])
	dp := unsafe.Pointer(unsafe.SliceData(dst))
	ep, op := unsafe.Pointer(unsafe.SliceData(e)), unsafe.Pointer(unsafe.SliceData(o))
	i := 0
	for ; i+32 <= n; i += 32 {
		ev := archsimd.LoadFloat32x16((*[16]float32)(e[i/2 : i/2+16]))
		ov := archsimd.LoadFloat32x16((*[16]float32)(o[i/2 : i/2+16]))
		ev.ConcatPermute(ov, lo).Store((*[16]float32)(dst[i : i+16]))
		ev.ConcatPermute(ov, hi).Store((*[16]float32)(dst[i+16 : i+32]))
	}
	if r := n - i; r > 0 {
		ev := archsimd.LoadMaskedFloat32x16(at16(ep, i/2), lanes((r+1)/2))
		var ov archsimd.Float32x16
		if r > 1 {
			ov = archsimd.LoadMaskedFloat32x16(at16(op, i/2), lanes(r/2))
		}
		ev.ConcatPermute(ov, lo).StoreMasked(at16(dp, i), lanes(min(r, 16)))
		if r > 16 {
			ev.ConcatPermute(ov, hi).StoreMasked(at16(dp, i+16), lanes(r-16))
		}
	}
}

// lanes is the mask of the first n lanes, 1 ≤ n ≤ 16.
func lanes(n int) archsimd.Mask32x16 {
	return archsimd.Mask32x16FromBits(uint16(uint32(1)<<n - 1))
}
