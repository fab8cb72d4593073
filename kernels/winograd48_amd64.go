package kernels

// The AVX2 F(4×4, 3×3) transforms (winograd48.go, winograd48_amd64.s).

//go:noescape
func wino48InAVX2(v, p *float32, a *wino48InArgs)

//go:noescape
func wino48OutAVX2(y, m *float32, a *wino48OutArgs)

//go:noescape
func wino48DyAVX2(v, p *float32, a *wino48InArgs)

func wino48DyAsm(v, p *float32, a *wino48InArgs) { wino48DyAVX2(v, p, a) }

func wino48InAsm(v, p *float32, a *wino48InArgs) { wino48InAVX2(v, p, a) }

func wino48OutAsm(y, m *float32, a *wino48OutArgs) { wino48OutAVX2(y, m, a) }
