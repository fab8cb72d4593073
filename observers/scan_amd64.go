package observers

import "github.com/qatgo/qatgo/internal/cpufeat"

// useAVX2 reports whether scanFast runs the assembly loop; set once at
// start-up (QATGO_CPU=generic masks it).
var useAVX2 = cpufeat.Host.AVX2

//go:noescape
func scanAVX2(x *float32, n int, out *[3][8]float32)

// scanFast is scanFastScalar with AVX2 (scan_amd64.s): eight lanes of
// min, max and the v−v guard, two vectors per step.
func scanFast(x []float32) (mn, mx float32, ok bool) {
	if len(x) < 64 || !useAVX2 {
		return scanFastScalar(x)
	}
	n := len(x) &^ 15
	var lanes [3][8]float32
	scanAVX2(&x[0], n, &lanes)
	mn, mx, ok = scanFastScalar(x[n:])
	for i := range 8 {
		mn = min(mn, lanes[0][i])
		mx = max(mx, lanes[1][i])
		ok = ok && lanes[2][i] == 0
	}
	return mn, mx, ok
}
