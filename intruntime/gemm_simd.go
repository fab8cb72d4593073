//go:build goexperiment.simd && amd64

package intruntime

import "simd/archsimd"

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
