//go:build !amd64

package minmax

// Fast returns the min and max of x; ok is false when x holds a NaN or an
// infinity (then mn and mx are meaningless).
func Fast(x []float32) (mn, mx float32, ok bool) { return FastScalar(x) }

const useAVX512 = false

func acc512(*float32, int, *[3][16]float32) { panic("minmax: acc512 without amd64") }
