// Package minmax finds the min and max of float32 slices fast: the range
// scan of the observers and of ops that report their output's range.
package minmax

import "math"

var (
	posInf = float32(math.Inf(1))
	negInf = float32(math.Inf(-1))
)

// FastScalar is the portable Fast: ok is false when x holds a
// non-finite value (then mn and mx are meaningless).
func FastScalar(x []float32) (mn, mx float32, ok bool) {
	mn0, mn1 := posInf, posInf
	mx0, mx1 := negInf, negInf
	var g float32
	for len(x) >= 2 {
		a, b := x[0], x[1]
		if a < mn0 {
			mn0 = a
		}
		if a > mx0 {
			mx0 = a
		}
		if b < mn1 {
			mn1 = b
		}
		if b > mx1 {
			mx1 = b
		}
		g += (a - a) + (b - b)
		x = x[2:]
	}
	for _, v := range x {
		if v < mn0 {
			mn0 = v
		}
		if v > mx0 {
			mx0 = v
		}
		g += v - v
	}
	return min(mn0, mn1), max(mx0, mx1), g == 0
}
