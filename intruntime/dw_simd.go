//go:build goexperiment.simd && amd64

package intruntime

import (
	"simd/archsimd"

	"github.com/qatgo/qatgo/internal/cpufeat"
)

// dwFlat3x3 is dwFlat3x3Scalar 16 outputs at a time: each of the nine
// taps is 16 input bytes zero-extended to int32 lanes (VPMOVZXBD),
// multiplied by the broadcast weight (VPMULLD) and added.
func dwFlat3x3(acc []int32, frame []uint8, w *[9]int32, Wp int) {
	n := len(acc) &^ 15
	if !cpufeat.Host.AVX512 {
		n = 0
	}
	if n > 0 {
		w0, w1, w2 := archsimd.BroadcastInt32x16(w[0]), archsimd.BroadcastInt32x16(w[1]), archsimd.BroadcastInt32x16(w[2])
		w3, w4, w5 := archsimd.BroadcastInt32x16(w[3]), archsimd.BroadcastInt32x16(w[4]), archsimd.BroadcastInt32x16(w[5])
		w6, w7, w8 := archsimd.BroadcastInt32x16(w[6]), archsimd.BroadcastInt32x16(w[7]), archsimd.BroadcastInt32x16(w[8])
		tap := func(i int) archsimd.Int32x16 {
			return archsimd.LoadUint8x16Slice(frame[i:]).ExtendToUint32().AsInt32x16()
		}
		for p := 0; p < n; p += 16 {
			r1, r2 := p+Wp, p+2*Wp
			s := tap(p).Mul(w0).Add(tap(p + 1).Mul(w1)).Add(tap(p + 2).Mul(w2))
			s = s.Add(tap(r1).Mul(w3)).Add(tap(r1 + 1).Mul(w4)).Add(tap(r1 + 2).Mul(w5))
			s = s.Add(tap(r2).Mul(w6)).Add(tap(r2 + 1).Mul(w7)).Add(tap(r2 + 2).Mul(w8))
			s.StoreSlice(acc[p:])
		}
	}
	dwFlat3x3Scalar(acc[n:], frame[n:], w, Wp)
}
