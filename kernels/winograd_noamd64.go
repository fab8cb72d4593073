//go:build !amd64

package kernels

// winogradCPU: the transforms have no assembly here, and in Go they cost
// what the fewer multiplies save.
func winogradCPU(floatKernel) bool { return false }

func winoTransformAsm(bool, []float32, []float32, *winoInArgs) {
	panic("kernels: Winograd transform assembly on a CPU without it")
}

func winoOutAsm([]float32, []float32, winoGeom, *winoOutArgs) {
	panic("kernels: Winograd transform assembly on a CPU without it")
}

func padRows(_ floatKernel, dst, src []float32, nc, rows, w, sp, dp, dr int) {
	padRowsGo(dst, src, nc, rows, w, sp, dp, dr)
}

func padRowsMap(_ floatKernel, dst, src []float32, nc, rows, w, sp, dp, dr int, m *inMap) {
	padRowsMapGo(dst, src, nc, rows, w, sp, dp, dr, m)
}

func winoGemmAsm(floatKernel, []float32, int, int, []float32, int, []float32, int) bool { return false }

func winoDotAsm(floatKernel, []float32, []float32, int, int, []float32, int, int, bool) bool {
	return false
}

func wino4InAsm(bool, bool, bool, []float32, []float32, *wino4InArgs) {
	panic("kernels: Winograd transform assembly on a CPU without it")
}

func wino4OutAsm(bool, bool, int, []float32, []float32, *wino4OutArgs) {
	panic("kernels: Winograd transform assembly on a CPU without it")
}

func wino4WeightsPackedAsm(floatKernel, []float32, int, []float32, int, int, bool, int, int) bool {
	return false
}
func wino512(floatKernel) bool { return false }

func winoTransform8(bool, []float32, int, int, int, int, []float32, winoGeom) {
	panic("kernels: Winograd transform assembly on a CPU without it")
}

func winoOutput8([]float32, []float32, int, int, []float32, *wino8Post, winoGeom) {
	panic("kernels: Winograd transform assembly on a CPU without it")
}

func wino48InAsm(*float32, *float32, *wino48InArgs) {
	panic("kernels: Winograd transform assembly on a CPU without it")
}

func wino48OutAsm(*float32, *float32, *wino48OutArgs) {
	panic("kernels: Winograd transform assembly on a CPU without it")
}

func wino48DyAsm(*float32, *float32, *wino48InArgs) {
	panic("kernels: Winograd transform assembly on a CPU without it")
}
