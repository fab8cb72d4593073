//go:build goexperiment.simd && amd64

package fakequant

import "simd/archsimd"

// lsqChunk is how many elements the vector loop sums in float32 lanes
// before adding them to the float64 totals (16 lanes × 256 terms each), so
// that the float32 rounding of the partial sums stays small.
const lsqChunk = 4096

// lsqSums32 is the fused LSQ backward of one run (see lsqSums32Generic):
// 16 lanes per step, dx bit-identical to the scalar loop, the sums equal up
// to the float32 summation of each chunk.
func lsqSums32(dx, x, g []float32, c seg32) (sumS, sumOut float64) {
	n := len(x) &^ 15
	if !useAVX512 || n == 0 {
		return lsqSums32Generic(dx, x, g, c)
	}
	dx, g = dx[:len(x)], g[:len(x)]
	inv := archsimd.BroadcastFloat32x16(c.inv)
	lo := archsimd.BroadcastFloat32x16(c.lo)
	hi := archsimd.BroadcastFloat32x16(c.hi)
	rlo := archsimd.BroadcastFloat32x16(c.rlo)
	rhi := archsimd.BroadcastFloat32x16(c.rhi)
	magic := archsimd.BroadcastFloat32x16(magic32)
	var lane [16]float32
	for start := 0; start < n; start += lsqChunk {
		end := min(start+lsqChunk, n)
		accS := archsimd.BroadcastFloat32x16(0)
		accO := archsimd.BroadcastFloat32x16(0)
		for i := start; i < end; i += 16 {
			y := archsimd.LoadFloat32x16((*[16]float32)(x[i : i+16])).Mul(inv)
			y = y.Merge(lo, y.GreaterEqual(lo)).Min(hi)
			r := y.Add(magic).Sub(magic)
			in := r.GreaterEqual(rlo).And(r.LessEqual(rhi))
			gv := archsimd.LoadFloat32x16((*[16]float32)(g[i : i+16]))
			gin := gv.Masked(in)
			gin.Store((*[16]float32)(dx[i : i+16]))
			term := r.Max(rlo).Min(rhi).Sub(y.Masked(in))
			accS = gv.MulAdd(term, accS)
			accO = accO.Add(gv.Sub(gin))
		}
		accS.Store(&lane)
		for _, v := range lane {
			sumS += float64(v)
		}
		accO.Store(&lane)
		for _, v := range lane {
			sumOut += float64(v)
		}
	}
	s, o := lsqSums32Generic(dx[n:], x[n:], g[n:], c)
	return sumS + s, sumOut + o
}
