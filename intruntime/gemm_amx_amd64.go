package intruntime

// The AMX GEMM: on a CPU with AMX-INT8 (Intel Xeon since Sapphire Rapids)
// one TDPBSUD multiplies a 16×64 tile of signed weight bytes by a tile of
// 16 k-quads × 16 columns of unsigned codes into 16×16 int32 sums — 16,384
// multiply-adds, where VPDPBUSD does 64. The packed B layout (gemm.go) is
// already the B tile's: a group's blocks are its rows, 64 bytes apart. The
// weights are copied once into rows of whole tiles (packedWeights.wt), M
// padded to 16 and K to 64 with zeros; a group's last chunk of 16 quads
// then reads up to 15 blocks past the group, which the zero weights
// cancel (hence tileSlack). Integer sums: the same bits as every kernel.

// amxTileConfig is the operand of LDTILECFG: palette 1, all eight tiles
// 16 rows × 64 bytes.
var amxTileConfig = func() (cfg [64]byte) {
	cfg[0] = 1
	for t := range 8 {
		cfg[16+2*t] = 64
		cfg[48+t] = amxRows
	}
	return cfg
}()

//go:noescape
func amxGemm(c *int32, ldc int, w *int32, lda int, b *byte, gs, kc, mt, n4, n1 int, cfg *[64]byte)

// gemmAMX computes C = A·B (see gemm.go) in 16×16 tiles of C, four groups
// at a time. It panics (a programmer error) if c or b is too short for the
// call.
func gemmAMX(c []int32, ldc int, a *packedWeights, b []byte, ngroups int) {
	if ngroups == 0 {
		return
	}
	gs := a.k4 * blockSize
	k4a := ceilDiv(a.k4, amxQuads) * amxQuads
	_ = b[(ngroups-1)*gs+k4a*blockSize-1]
	_ = c[(a.mpad-1)*ldc+ngroups*laneCols-1]
	if ldc < ngroups*laneCols || a.mpad%amxRows != 0 || len(a.wt) != a.mpad*k4a || a.k4 == 0 {
		panic("intruntime: gemmAMX: bad operands")
	}
	amxGemm(&c[0], ldc, &a.wt[0], k4a*4, &b[0], gs, k4a/amxQuads, a.mpad/amxRows, ngroups/4, ngroups%4, &amxTileConfig)
}

//go:noescape
func amxTapConv(c *int32, ldc int, w *byte, q *uint32, qs, cs int, offs *int32, ntaps, nchunks, mt, nb4 int, cfg *[64]byte)

// tapGemmAMX is tapGemmPortable by AMX tiles (see tapconv.go). It panics
// (a programmer error) if acc or q is too short for the plan.
func tapGemmAMX(acc []int32, ldc int, p *tapPlan, q []uint32) {
	_, _ = acc[(p.mt*amxRows-1)*ldc+p.ldc()-1], q[p.qlen-1]
	if ldc < p.ldc() || len(p.w) != p.mt*p.kh*p.chunks*1024 || p.rpc > amxQuads || p.group != tapGroup {
		panic("intruntime: tapGemmAMX: bad operands")
	}
	amxTapConv(&acc[0], ldc, &p.w[0], &q[0], 4*p.plane, 4*p.rpc*p.plane, &p.offs[0], p.kh, p.chunks, p.mt, p.nb, &p.cfg)
}
