//go:build goexperiment.simd && amd64

package observers

import "simd/archsimd"

// scanFast is scanFastScalar with AVX2: eight lanes of min, max and the v-v
// guard, two vectors per iteration.
func scanFast(x []float32) (mn, mx float32, ok bool) {
	if len(x) < 64 || !archsimd.X86.AVX2() {
		return scanFastScalar(x)
	}
	mn0 := archsimd.BroadcastFloat32x8(posInf)
	mx0 := archsimd.BroadcastFloat32x8(negInf)
	mn1, mx1 := mn0, mx0
	g0 := archsimd.BroadcastFloat32x8(0)
	g1 := g0
	y := x
	for len(y) >= 16 {
		a := archsimd.LoadFloat32x8Slice(y)
		b := archsimd.LoadFloat32x8Slice(y[8:])
		mn0, mx0 = mn0.Min(a), mx0.Max(a)
		mn1, mx1 = mn1.Min(b), mx1.Max(b)
		g0 = g0.Add(a.Sub(a))
		g1 = g1.Add(b.Sub(b))
		y = y[16:]
	}
	var lo, hi, g [8]float32
	mn0.Min(mn1).Store(&lo)
	mx0.Max(mx1).Store(&hi)
	g0.Add(g1).Store(&g)
	tmn, tmx, tok := scanFastScalar(y)
	mn, mx, ok = tmn, tmx, tok
	for i := range lo {
		mn = min(mn, lo[i])
		mx = max(mx, hi[i])
		ok = ok && g[i] == 0
	}
	return mn, mx, ok
}
