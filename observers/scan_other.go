//go:build !amd64

package observers

func scanFast(x []float32) (mn, mx float32, ok bool) { return scanFastScalar(x) }
