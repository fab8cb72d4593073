package minmax

import "github.com/qatgo/qatgo/internal/cpufeat"

// useAVX2 reports whether Fast runs the assembly loop; set once at
// start-up (QATGO_CPU=generic masks it).
var useAVX2 = cpufeat.Host.AVX2

// useAVX512 reports whether Acc.Add runs acc512.
var useAVX512 = cpufeat.Host.AVX512

//go:noescape
func acc512(x *float32, n int, lanes *[3][16]float32)

//go:noescape
func scanAVX2(x *float32, n int, out *[3][8]float32)

// Fast returns the min and max of x; ok is false when x holds a NaN or an
// infinity (then mn and mx are meaningless). It is FastScalar by
// minmax_amd64.s: acc512 with AVX-512, else (or where acc512's guard
// overflowed) scanAVX2's eight lanes of min, max and the v−v guard, two
// vectors per step.
func Fast(x []float32) (mn, mx float32, ok bool) {
	if len(x) < 64 || !useAVX2 {
		return FastScalar(x)
	}
	if useAVX512 {
		// acc512 runs four independent chains of 16 lanes (scanAVX2 is
		// bound by the latency of its two 8-lane chains); its guard, the
		// sum, may overflow where no value is infinite: then the exact
		// guard decides.
		var a Acc
		a.Reset()
		a.Add(x)
		if mn, mx, ok := a.Result(); ok {
			return mn, mx, true
		}
	}
	n := len(x) &^ 15
	var lanes [3][8]float32
	scanAVX2(&x[0], n, &lanes)
	mn, mx, ok = FastScalar(x[n:])
	for i := range 8 {
		mn = min(mn, lanes[0][i])
		mx = max(mx, lanes[1][i])
		ok = ok && lanes[2][i] == 0
	}
	return mn, mx, ok
}
