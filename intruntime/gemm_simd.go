//go:build goexperiment.simd && amd64

package intruntime

import (
	"simd/archsimd"

	"github.com/qatgo/qatgo/internal/cpufeat"
)

// archsimdBuild reports whether this build has the archsimd kernels.
const archsimdBuild = true

// gemmArchsimd runs the archsimd kernel on weights packed for kernAVX512BW.
func gemmArchsimd(c []int32, ldc int, a *packedWeights, b []byte, ngroups int) {
	if a.lo == nil {
		gemmSIMD(c, ldc, a.w, a.mpad, a.k4, b, ngroups)
		return
	}
	gemmSIMDSplit(c, ldc, a.lo, a.hi, a.mpad, a.k4, b, ngroups)
}

// archsimdHelpers sets the archsimd helpers of im for a CPU with f.
func archsimdHelpers(im *impl, f cpufeat.Features) {
	if !f.AVX512 {
		return
	}
	im.requantRow = requantRowArchsimd
	im.packQuad = packQuadArchsimd
	im.maxPairs = maxPairsArchsimd
	im.maxRowPairs32 = maxRowPairs32Archsimd
	im.maxPairs32 = maxPairs32Archsimd
	if f.VBMI {
		im.packDirect = packDirectArchsimd
	}
}

// gemmSIMD is the micro-kernel loop for weights that cannot saturate
// VPMADDUBSW: 2 rows × 2 groups of 16 columns, 4 Int32x16 accumulators.
// (A 4×2 block with 8 accumulators measured slower: Go 1.26 spills.)
func gemmSIMD(c []int32, ldc int, w []int32, mpad, k4 int, b []byte, ngroups int) {
	ones := archsimd.BroadcastInt16x32(1)
	gs := k4 * blockSize
	for m0 := 0; m0 < mpad; m0 += mr {
		for g := 0; g < ngroups; g += nr {
			b0, b1 := b[g*gs:(g+1)*gs], b[(g+1)*gs:(g+2)*gs]
			for r := m0; r < m0+mr; r += 2 {
				w0, w1 := w[r*k4:(r+1)*k4], w[(r+1)*k4:(r+2)*k4]
				var c00, c01, c10, c11 archsimd.Int32x16
				for q := range k4 {
					x0 := archsimd.LoadUint8x64Slice(b0[q*blockSize:])
					x1 := archsimd.LoadUint8x64Slice(b1[q*blockSize:])
					v := archsimd.BroadcastInt32x16(w0[q]).AsInt8x64()
					c00 = c00.Add(x0.DotProductPairsSaturated(v).DotProductPairs(ones))
					c01 = c01.Add(x1.DotProductPairsSaturated(v).DotProductPairs(ones))
					v = archsimd.BroadcastInt32x16(w1[q]).AsInt8x64()
					c10 = c10.Add(x0.DotProductPairsSaturated(v).DotProductPairs(ones))
					c11 = c11.Add(x1.DotProductPairsSaturated(v).DotProductPairs(ones))
				}
				o := r*ldc + g*laneCols
				c00.StoreSlice(c[o:])
				c01.StoreSlice(c[o+laneCols:])
				o += ldc
				c10.StoreSlice(c[o:])
				c11.StoreSlice(c[o+laneCols:])
			}
		}
	}
}

// gemmSIMDSplit is gemmSIMD with each weight split into two safe halves:
// two VPMADDUBSW per product, widened to int32 separately before adding.
func gemmSIMDSplit(c []int32, ldc int, lo, hi []int32, mpad, k4 int, b []byte, ngroups int) {
	ones := archsimd.BroadcastInt16x32(1)
	gs := k4 * blockSize
	for m0 := 0; m0 < mpad; m0 += mr {
		for g := 0; g < ngroups; g += nr {
			b0, b1 := b[g*gs:(g+1)*gs], b[(g+1)*gs:(g+2)*gs]
			// Two rows at a time keeps the live vectors under Go's 15.
			for r := m0; r < m0+mr; r += 2 {
				l0, h0 := lo[r*k4:(r+1)*k4], hi[r*k4:(r+1)*k4]
				l1, h1 := lo[(r+1)*k4:(r+2)*k4], hi[(r+1)*k4:(r+2)*k4]
				var c00, c01, c10, c11 archsimd.Int32x16
				for q := range k4 {
					x0 := archsimd.LoadUint8x64Slice(b0[q*blockSize:])
					x1 := archsimd.LoadUint8x64Slice(b1[q*blockSize:])
					vl := archsimd.BroadcastInt32x16(l0[q]).AsInt8x64()
					vh := archsimd.BroadcastInt32x16(h0[q]).AsInt8x64()
					c00 = c00.Add(x0.DotProductPairsSaturated(vl).DotProductPairs(ones)).Add(x0.DotProductPairsSaturated(vh).DotProductPairs(ones))
					c01 = c01.Add(x1.DotProductPairsSaturated(vl).DotProductPairs(ones)).Add(x1.DotProductPairsSaturated(vh).DotProductPairs(ones))
					vl = archsimd.BroadcastInt32x16(l1[q]).AsInt8x64()
					vh = archsimd.BroadcastInt32x16(h1[q]).AsInt8x64()
					c10 = c10.Add(x0.DotProductPairsSaturated(vl).DotProductPairs(ones)).Add(x0.DotProductPairsSaturated(vh).DotProductPairs(ones))
					c11 = c11.Add(x1.DotProductPairsSaturated(vl).DotProductPairs(ones)).Add(x1.DotProductPairsSaturated(vh).DotProductPairs(ones))
				}
				o := r*ldc + g*laneCols
				c00.StoreSlice(c[o:])
				c01.StoreSlice(c[o+laneCols:])
				o += ldc
				c10.StoreSlice(c[o:])
				c11.StoreSlice(c[o+laneCols:])
			}
		}
	}
}

// requantRowArchsimd is requantRowScalar on 16 lanes at a time: the accumulators
// are widened to int64 (VPMOVSXDQ), multiplied by m0 (VPMULLQ) and rounded
// with the same branch-free shifts and masks, then narrowed to bytes.
func requantRowArchsimd(out []uint8, row []int32, bias int64, m0 int32, exp uint, zy, lo, hi int32) {
	n := len(row) &^ 15
	var (
		vb    = archsimd.BroadcastInt64x8(bias)
		vmin  = archsimd.BroadcastInt64x8(-1 << 31)
		vmax  = archsimd.BroadcastInt64x8(1<<31 - 1)
		vm    = archsimd.BroadcastInt64x8(int64(m0))
		v30   = archsimd.BroadcastInt64x8(1 << 30)
		v31   = archsimd.BroadcastInt64x8(1<<31 - 1)
		mask  = int64(1)<<exp - 1
		vmask = archsimd.BroadcastInt64x8(mask)
		vhalf = archsimd.BroadcastInt64x8(mask >> 1)
		vzy   = archsimd.BroadcastInt64x8(int64(zy))
		vlo   = archsimd.BroadcastInt64x8(int64(lo))
		vhi   = archsimd.BroadcastInt64x8(int64(hi))
	)
	one := func(x archsimd.Int64x8) archsimd.Int32x8 {
		v := x.Add(vb).Max(vmin).Min(vmax)
		p := v.Mul(vm)
		p = p.Add(v30).Sub(p.ShiftAllRight(63).And(v31))
		h := p.Add(p.ShiftAllRight(63).And(v31)).ShiftAllRight(31) // trunc(p / 2^31)
		th := vhalf.Sub(h.ShiftAllRight(63))
		y := h.ShiftAllRight(uint64(exp)).Sub(th.Sub(h.And(vmask)).ShiftAllRight(63))
		return y.Add(vzy).Max(vlo).Min(vhi).TruncateToInt32()
	}
	for j := 0; j < n; j += 16 {
		a := archsimd.LoadInt32x16Slice(row[j:])
		var r archsimd.Int32x16
		r = r.SetLo(one(a.GetLo().ExtendToInt64())).SetHi(one(a.GetHi().ExtendToInt64()))
		r.TruncateToInt8().AsUint8x16().StoreSlice(out[j:])
	}
	requantRowScalar(out[n:], row[n:], bias, m0, exp, zy, lo, hi)
}

// packQuadArchsimd packs groups [0, full) of one row quad: each row's 16 bytes
// are zero-extended to 32-bit lanes (VPMOVZXBD) and shifted into place, so
// lane l holds the four rows' bytes of column l — one 64-byte block.
func packQuadArchsimd(dst []byte, k4, q int, r0, r1, r2, r3 []uint8, full int) {
	for g := range full {
		lo := g * laneCols
		e := archsimd.LoadUint8x16Slice(r0[lo:]).ExtendToUint32()
		e = e.Or(archsimd.LoadUint8x16Slice(r1[lo:]).ExtendToUint32().ShiftAllLeft(8))
		e = e.Or(archsimd.LoadUint8x16Slice(r2[lo:]).ExtendToUint32().ShiftAllLeft(16))
		e = e.Or(archsimd.LoadUint8x16Slice(r3[lo:]).ExtendToUint32().ShiftAllLeft(24))
		e.AsUint8x64().StoreSlice(dst[(g*k4+q)*blockSize:])
	}
}

// maxPairsArchsimd writes dst[i] = max(src[2i], src[2i+1]) 32 outputs at a time:
// each byte pair is one uint16 lane, max(low byte, high byte) is taken in
// 16 bits and narrowed back (VPMOVWB).
func maxPairsArchsimd(dst, src []uint8) {
	n := len(dst) &^ 31
	if n > 0 {
		low := archsimd.BroadcastUint16x32(0xff)
		for i := 0; i < n; i += 32 {
			x := archsimd.LoadUint8x64Slice(src[2*i:]).AsUint16x32()
			x.And(low).Max(x.ShiftAllRight(8)).TruncateToUint8().StoreSlice(dst[i:])
		}
	}
	maxPairsScalar(dst[n:], src[2*n:])
}

// packDirectArchsimd builds each B block of images [b0, b0+nb) as one VPERMI2B of
// two 64-byte loads, as planned by directPlan (see conv.go).
func packDirectArchsimd(dst []byte, src []uint8, plan []packEntry, k4, G, hw, n, b0, nb int) {
	for bi := range nb {
		b := b0 + bi
		d := dst[bi*G*k4*blockSize:]
		for i := range plan[:G*k4] {
			e := &plan[i]
			x0 := archsimd.LoadUint8x64Slice(src[(int(e.c[0])*n+b)*hw+int(e.off[0]):])
			x1 := archsimd.LoadUint8x64Slice(src[(int(e.c[1])*n+b)*hw+int(e.off[1]):])
			idx := archsimd.LoadUint8x64Slice(e.idx[:])
			x0.ConcatPermute(x1, idx).StoreSlice(d[i*blockSize:])
		}
	}
}

// maxRowPairs32Archsimd writes dst[r·w + x] = max(src[2r·w + x], src[(2r+1)·w + x])
// 16 or 8 lanes at a time (VPMAXSD).
func maxRowPairs32Archsimd(dst, src []int32, w int) {
	for r := range len(dst) / w {
		a, b, o := src[2*r*w:][:w], src[(2*r+1)*w:][:w], dst[r*w:][:w]
		x := 0
		for ; x+16 <= w; x += 16 {
			archsimd.LoadInt32x16Slice(a[x:]).Max(archsimd.LoadInt32x16Slice(b[x:])).StoreSlice(o[x:])
		}
		for ; x+8 <= w; x += 8 {
			archsimd.LoadInt32x8Slice(a[x:]).Max(archsimd.LoadInt32x8Slice(b[x:])).StoreSlice(o[x:])
		}
		for ; x < w; x++ {
			o[x] = max(a[x], b[x])
		}
	}
}

// maxPairs32Archsimd writes dst[i] = max(src[2i], src[2i+1]) 8 at a time: each
// pair is one int64 lane, its halves sign-extended by arithmetic shifts,
// maximized (VPMAXSQ) and narrowed back (VPMOVQD).
func maxPairs32Archsimd(dst, src []int32) {
	n := len(dst) &^ 7
	for i := 0; i < n; i += 8 {
		v := archsimd.LoadInt32x16Slice(src[2*i:]).AsInt64x8()
		v.ShiftAllLeft(32).ShiftAllRight(32).Max(v.ShiftAllRight(32)).TruncateToInt32().StoreSlice(dst[i:])
	}
	maxPairs32Scalar(dst[n:], src[2*n:])
}
