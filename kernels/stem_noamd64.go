//go:build !amd64

package kernels

// stemCPU: the stem loops have no assembly here.
func stemCPU(floatKernel) bool { return false }

func stemConv([]float32, []float32, []float32, []float32, *stemArgs) {
	panic("kernels: stem assembly on a CPU without it")
}

func stemGradW([]float32, []float32, []float32, *stemArgs) {
	panic("kernels: stem assembly on a CPU without it")
}
