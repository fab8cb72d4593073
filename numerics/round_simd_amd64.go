//go:build goexperiment.simd && amd64

package numerics

import (
	"simd/archsimd"

	"github.com/qatgo/qatgo/internal/cpufeat"
)

// The AVX-512 twins of roundWideScalar and roundNarrowScalar: the same bit
// operations on 16 lanes, with the selects done by masked merges. The float
// add/subtract of the subnormal path rounds to nearest even as the scalar
// one does (Go never sets flush-to-zero). A tail shorter than 16 goes to
// the scalar code. Only GOEXPERIMENT=simd builds have them (the default
// build rounds with the scalar code).

// useAVX512 reports whether the vector loops run; set once at start-up
// (QATGO_CPU can mask it).
var useAVX512 = cpufeat.Host.AVX512

func roundWide(dst, src []float32, shift uint32) {
	if !useAVX512 || len(src) < 16 {
		roundWideScalar(dst, src, shift)
		return
	}
	s := uint64(shift & 31)
	signBit := archsimd.BroadcastUint32x16(0x80000000)
	half := archsimd.BroadcastUint32x16(uint32(1)<<s>>1 - 1)
	mask := archsimd.BroadcastUint32x16(uint32(1)<<s - 1)
	one := archsimd.BroadcastUint32x16(1)
	inf := archsimd.BroadcastUint32x16(0x7F800000)
	quiet := archsimd.BroadcastUint32x16(0x00400000)
	dst = dst[:len(src)]
	i := 0
	for ; i+16 <= len(src); i += 16 {
		b := archsimd.LoadFloat32x16Slice(src[i:]).AsUint32x16()
		sign := b.And(signBit)
		a := b.Xor(sign)
		n := a.Add(half).Add(a.ShiftAllRight(s).And(one)).AndNot(mask)
		nan := a.Or(quiet).AndNot(mask)
		n = nan.Merge(n, a.Greater(inf)) // NaN ? nan : n
		n.Or(sign).AsFloat32x16().StoreSlice(dst[i:])
	}
	roundWideScalar(dst[i:], src[i:], shift)
}

func roundNarrow(dst, src []float32, r *rounder) {
	if !useAVX512 || len(src) < 16 {
		roundNarrowScalar(dst, src, r)
		return
	}
	s := uint64(r.shift & 31)
	signBit := archsimd.BroadcastUint32x16(0x80000000)
	half := archsimd.BroadcastUint32x16(uint32(1)<<s>>1 - 1)
	mask := archsimd.BroadcastUint32x16(uint32(1)<<s - 1)
	one := archsimd.BroadcastUint32x16(1)
	inf := archsimd.BroadcastUint32x16(0x7F800000)
	quiet := archsimd.BroadcastUint32x16(0x00400000)
	minNormal := archsimd.BroadcastUint32x16(r.minNormal)
	maxBits := archsimd.BroadcastUint32x16(r.maxBits)
	ovf := archsimd.BroadcastUint32x16(r.ovf)
	magic := archsimd.BroadcastFloat32x16(r.magic)
	dst = dst[:len(src)]
	i := 0
	for ; i+16 <= len(src); i += 16 {
		b := archsimd.LoadFloat32x16Slice(src[i:]).AsUint32x16()
		sign := b.And(signBit)
		a := b.Xor(sign)
		n := a.Add(half).Add(a.ShiftAllRight(s).And(one)).AndNot(mask)
		sub := a.AsFloat32x16().Add(magic).Sub(magic).AsUint32x16()
		n = sub.Merge(n, a.Less(minNormal))
		n = ovf.Merge(n, n.Greater(maxBits))
		nan := a.Or(quiet).AndNot(mask)
		n = nan.Merge(n, a.Greater(inf))
		n.Or(sign).AsFloat32x16().StoreSlice(dst[i:])
	}
	roundNarrowScalar(dst[i:], src[i:], r)
}
