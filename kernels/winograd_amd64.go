package kernels

//go:noescape
func winoInAVX512(v, p *float32, a *winoInArgs)

//go:noescape
func winoDyAVX512(v, p *float32, a *winoInArgs)

//go:noescape
func winoOutAVX512(y, m *float32, a *winoOutArgs)

// winogradCPU reports whether kernel fk's CPU runs Winograd convolutions:
// the transforms are AVX-512 assembly, the GEMMs the AVX-512 microkernel.
func winogradCPU(fk floatKernel) bool { return fk == fkAVX512 }

// winoInAsm runs the input transform's assembly over one image's planes p
// (geometry g) into v, after checking that every access is in bounds.
func winoInAsm(v, p []float32, g winoGeom, a *winoInArgs) {
	_ = p[g.c*g.plane-1]
	last := (a.t0 + g.tiles() - 1)
	_ = v[(15*a.ldx+(g.c-1)*a.cs+(last>>5)*a.ps)/4+last&31]
	winoInAVX512(&v[0], &p[0], a)
}

// winoOutAsm runs the output transform's assembly from m into one image's
// planes y (geometry g), after checking that every access is in bounds.
func winoOutAsm(y, m []float32, g winoGeom, a *winoOutArgs) {
	_ = y[g.o*g.oh*g.ow-1]
	_ = m[(15*a.ldx+(g.o-1)*a.mcs)/4+g.tiles()-1]
	winoOutAVX512(&y[0], &m[0], a)
}

// winoDyAsm runs the output-gradient transform's assembly over one image's
// padded dy planes p (geometry g) into v, after checking every access.
func winoDyAsm(v, p []float32, g winoGeom, a *winoInArgs) {
	_ = p[g.o*g.dplane-1]
	last := (a.t0 + g.tiles() - 1)
	_ = v[(15*a.ldx+(g.o-1)*a.cs+(last>>5)*a.ps)/4+last&31]
	winoDyAVX512(&v[0], &p[0], a)
}
