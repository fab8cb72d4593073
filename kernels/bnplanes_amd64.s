#include "textflag.h"
#include "clamp_amd64.h"
#include "fq_amd64.h"

// The batch norm's per-plane loops (sumsY, gradSumsY, gradSumsRecY,
// affineY + clampY, affine2Y, affine2RecY) over count adjacent planes of
// inner floats (the channels of one image) in one call, each plane with its
// own channel's parameters: each plane runs the same instructions in the
// same order as its own call would — the vector loop over inner &^ 7
// floats, then the tail as the Go loops do it (sums: one float at a time,
// unfused; elementwise: the Go expression, unfused, on a masked vector;
// affineY's a·x + b fused in its tail too, which takes this kernel's) —
// so the bits are the same.

// HSUM8 sets the low float of X to sum8 of Y's 8 lanes:
// ((p0+p4) + (p1+p5)) + ((p2+p6) + (p3+p7)). T scratch.
#define HSUM8(Y, X, T) \
	VEXTRACTF128 $1, Y, T; \
	VADDPS T, X, X; \
	VHADDPS X, X, X; \
	VHADDPS X, X, X

// ADDSUMS adds a plane's two sums to out[0:2] (DI): the tail's float32
// sums S1, S2 converted to float64 plus, when the plane has vector steps
// (CX ≠ 0), sum8 of Y0 and Y1 converted, tail second — sumsY's and
// gradSumsY's order. NOVEC names the label it jumps to without vector
// steps. X0–X2 scratch.
#define ADDSUMS(S1, S2, NOVEC) \
	VCVTSS2SD S1, S1, S1; \
	VCVTSS2SD S2, S2, S2; \
	TESTQ CX, CX; \
	JEQ NOVEC; \
	HSUM8(Y0, X0, X2); \
	HSUM8(Y1, X1, X2); \
	VCVTSS2SD X0, X0, X0; \
	VCVTSS2SD X1, X1, X1; \
	VADDSD S1, X0, S1; \
	VADDSD S2, X1, S2; \
NOVEC: \
	VADDSD (DI), S1, S1; \
	VADDSD 8(DI), S2, S2; \
	VMOVSD S1, (DI); \
	VMOVSD S2, 8(DI)

// func sumsPlanesAVX2(x *float32, inner, count int, k *float32, out *float64)
// For plane p: out[2p] += s1 and out[2p+1] += s2 of sumsY(plane, k[p]).
TEXT ·sumsPlanesAVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), AX
	MOVQ inner+8(FP), CX
	MOVQ count+16(FP), BX
	MOVQ k+24(FP), R11
	MOVQ out+32(FP), DI
	MOVQ CX, R10
	ANDQ $7, R10
	SHRQ $3, CX
sp_plane:
	VBROADCASTSS (R11), Y13
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ CX, DX
	TESTQ DX, DX
	JEQ sp_tail
sp_vec:
	VMOVUPS (AX), Y2
	VSUBPS Y13, Y2, Y2
	VADDPS Y2, Y0, Y0
	VFMADD231PS Y2, Y2, Y1
	ADDQ $32, AX
	DECQ DX
	JNE sp_vec
sp_tail:
	VXORPS X4, X4, X4
	VXORPS X5, X5, X5
	MOVQ R10, DX
	TESTQ DX, DX
	JEQ sp_add
sp_tailloop:
	VMOVSS (AX), X2
	VSUBSS X13, X2, X2
	VADDSS X2, X4, X4
	VMULSS X2, X2, X3
	VADDSS X3, X5, X5
	ADDQ $4, AX
	DECQ DX
	JNE sp_tailloop
sp_add:
	ADDSUMS(X4, X5, sp_acc)
	ADDQ $4, R11
	ADDQ $16, DI
	DECQ BX
	JNE sp_plane
	VZEROUPPER
	RET

// func gradSumsPlanesAVX2(dy, x *float32, inner, count int, k *float32, out *float64)
// For plane p: out[2p] += sdy and out[2p+1] += sdyx of gradSumsY(dy, x,
// k[p]). (Masked by the output's window: gradSumsRecPlanesAVX2.)
TEXT ·gradSumsPlanesAVX2(SB), NOSPLIT, $0-48
	MOVQ dy+0(FP), DX
	MOVQ x+8(FP), SI
	MOVQ inner+16(FP), CX
	MOVQ count+24(FP), BX
	MOVQ k+32(FP), R11
	MOVQ out+40(FP), DI
	MOVQ CX, R10
	ANDQ $7, R10
	SHRQ $3, CX
gp_plane:
	VBROADCASTSS (R11), Y13
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ CX, AX
	TESTQ AX, AX
	JEQ gp_tail
gp_vec:
	VMOVUPS (DX), Y2
	VMOVUPS (SI), Y3
	VSUBPS Y13, Y3, Y3
	VADDPS Y2, Y0, Y0
	VFMADD231PS Y3, Y2, Y1
	ADDQ $32, DX
	ADDQ $32, SI
	DECQ AX
	JNE gp_vec
gp_tail:
	VXORPS X6, X6, X6
	VXORPS X7, X7, X7
	MOVQ R10, AX
	TESTQ AX, AX
	JEQ gp_add
gp_tailloop:
	VMOVSS (DX), X2
	VADDSS X2, X6, X6
	VMOVSS (SI), X3
	VSUBSS X13, X3, X3
	VMULSS X3, X2, X3
	VADDSS X3, X7, X7
	ADDQ $4, DX
	ADDQ $4, SI
	DECQ AX
	JNE gp_tailloop
gp_add:
	ADDSUMS(X6, X7, gp_acc)
	ADDQ $4, R11
	ADDQ $16, DI
	DECQ BX
	JNE gp_plane
	VZEROUPPER
	RET

// func affineActPlanesAVX2(y, x *float32, inner, count int, a, b *float32, hi float32, clamp int, tail *[8]int32, rng *[3][8]float32)
// For plane p: affineY(y, x, a[p], b[p]), then clampY(y, y, hi) when
// clamp ≠ 0; tail has −1 in the first inner mod 8 lanes. When rng is not
// nil, every value written is also folded into its lanes' min (rng[0]),
// max (rng[1]) and guard (rng[2]: Σ y − y, 0 unless a value is NaN or
// infinite), as minmax.Acc keeps them: a folded quantizer then takes the
// output's range without scanning it. A nil y writes nothing (the range
// alone: a Handoff's convolution computes the output).
TEXT ·affineActPlanesAVX2(SB), NOSPLIT, $0-80
	MOVQ y+0(FP), DI
	MOVQ DI, R13
	MOVQ x+8(FP), SI
	MOVQ inner+16(FP), CX
	MOVQ count+24(FP), BX
	MOVQ a+32(FP), R11
	MOVQ b+40(FP), R12
	VBROADCASTSS hi+48(FP), Y13
	VXORPS Y14, Y14, Y14
	MOVQ clamp+56(FP), R8
	MOVQ tail+64(FP), AX
	VMOVDQU (AX), Y15
	MOVQ rng+72(FP), R9
	TESTQ R9, R9
	JEQ ap_start
	VMOVUPS (R9), Y5
	VMOVUPS 32(R9), Y6
	VMOVUPS 64(R9), Y7
ap_start:
	MOVQ CX, R10
	ANDQ $7, R10
	SHRQ $3, CX
ap_plane:
	VBROADCASTSS (R11), Y11
	VBROADCASTSS (R12), Y12
	MOVQ CX, AX
	TESTQ AX, AX
	JEQ ap_tail
ap_vec:
	VMOVUPS (SI), Y0
	VFMADD213PS Y12, Y11, Y0
	TESTQ R8, R8
	JEQ ap_vecstore
	CLAMP(Y0, Y14, Y13, Y1, Y2)
ap_vecstore:
	TESTQ R13, R13
	JEQ ap_vecrange
	VMOVUPS Y0, (DI)
ap_vecrange:
	TESTQ R9, R9
	JEQ ap_vecnext
	VMINPS Y5, Y0, Y5
	VMAXPS Y6, Y0, Y6
	VSUBPS Y0, Y0, Y8
	VADDPS Y8, Y7, Y7
ap_vecnext:
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ AX
	JNE ap_vec
ap_tail:
	TESTQ R10, R10
	JEQ ap_next
	VMASKMOVPS (SI), Y15, Y0
	VFMADD213PS Y12, Y11, Y0
	TESTQ R8, R8
	JEQ ap_tailstore
	CLAMP(Y0, Y14, Y13, Y1, Y2)
ap_tailstore:
	TESTQ R13, R13
	JEQ ap_tailrange
	VMASKMOVPS Y0, Y15, (DI)
ap_tailrange:
	TESTQ R9, R9
	JEQ ap_tailnext
	// the lanes past the plane take lane 0's value (it is in the plane)
	VBROADCASTSS X0, Y9
	VBLENDVPS Y15, Y0, Y9, Y9
	VMINPS Y5, Y9, Y5
	VMAXPS Y6, Y9, Y6
	VSUBPS Y9, Y9, Y8
	VADDPS Y8, Y7, Y7
ap_tailnext:
	LEAQ (SI)(R10*4), SI
	LEAQ (DI)(R10*4), DI
ap_next:
	ADDQ $4, R11
	ADDQ $4, R12
	DECQ BX
	JNE ap_plane
	TESTQ R9, R9
	JEQ ap_done
	VMOVUPS Y5, (R9)
	VMOVUPS Y6, 32(R9)
	VMOVUPS Y7, 64(R9)
ap_done:
	VZEROUPPER
	RET

// func affine2PlanesAVX2(dx, dy, x *float32, inner, count int, abc *float32, tail *[8]int32)
// For plane p: affine2Y(dx, dy, x, a, b, c) with (a, b, c) =
// abc[3p:3p+3]; tail as in affineActPlanesAVX2. (Masked by the output's
// window: affine2RecPlanesAVX2.)
TEXT ·affine2PlanesAVX2(SB), NOSPLIT, $0-56
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ inner+24(FP), CX
	MOVQ count+32(FP), BX
	MOVQ abc+40(FP), R12
	MOVQ tail+48(FP), AX
	VMOVDQU (AX), Y15
	MOVQ CX, R10
	ANDQ $7, R10
	SHRQ $3, CX
a2_plane:
	VBROADCASTSS (R12), Y13
	VBROADCASTSS 4(R12), Y12
	VBROADCASTSS 8(R12), Y11
	MOVQ CX, AX
	TESTQ AX, AX
	JEQ a2_tail
a2_vec:
	VMOVUPS (SI), Y0
	VFMADD213PS Y11, Y12, Y0  // b·x + c
	VMOVUPS (DX), Y2
	VFMADD231PS Y13, Y2, Y0   // + a·dy
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ AX
	JNE a2_vec
a2_tail:
	TESTQ R10, R10
	JEQ a2_next
	VMASKMOVPS (DX), Y15, Y2
	VMULPS Y13, Y2, Y2        // a·g
	VMASKMOVPS (SI), Y15, Y0
	VMULPS Y12, Y0, Y0        // b·x
	VADDPS Y0, Y2, Y2         // a·g + b·x
	VADDPS Y11, Y2, Y2        // + c
	VMASKMOVPS Y2, Y15, (DI)
	LEAQ (SI)(R10*4), SI
	LEAQ (DX)(R10*4), DX
	LEAQ (DI)(R10*4), DI
a2_next:
	ADDQ $12, R12
	DECQ BX
	JNE a2_plane
	VZEROUPPER
	RET

// func gradSumsRecPlanesAVX2(dy, x *float32, inner, count int, ya, yb *float32, chi float32, clamp int, k *float32, lo, hi float32, out *float64)
// gradSumsPlanesAVX2 of dy masked by WINDOW (lo, hi) on plane p's output,
// recomputed from x as affineActPlanesAVX2 computes it (ya[p]·x + yb[p] by
// one FMA, clamped to [0, chi] as CLAMP when clamp ≠ 0): a batch norm's
// backward under a clamp or a folded quantizer, the output never read.
TEXT ·gradSumsRecPlanesAVX2(SB), NOSPLIT, $0-88
	MOVQ dy+0(FP), DX
	MOVQ x+8(FP), SI
	MOVQ inner+16(FP), CX
	MOVQ count+24(FP), BX
	MOVQ ya+32(FP), R8
	MOVQ yb+40(FP), R12
	VBROADCASTSS chi+48(FP), Y11
	MOVQ clamp+56(FP), R9
	MOVQ k+64(FP), R11
	VBROADCASTSS lo+72(FP), Y14
	VBROADCASTSS hi+76(FP), Y10
	MOVQ out+80(FP), DI
	VXORPS Y12, Y12, Y12
	MOVQ CX, R10
	ANDQ $7, R10
	SHRQ $3, CX
grp_plane:
	VBROADCASTSS (R11), Y13
	VBROADCASTSS (R8), Y8
	VBROADCASTSS (R12), Y9
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ CX, AX
	TESTQ AX, AX
	JEQ grp_tail
grp_vec:
	VMOVUPS (DX), Y2
	VMOVUPS (SI), Y3
	VMOVAPS Y3, Y4
	VFMADD213PS Y9, Y8, Y4
	TESTQ R9, R9
	JEQ grp_vecwin
	CLAMP(Y4, Y12, Y11, Y5, Y15)
grp_vecwin:
	WINDOW(Y2, Y4, Y14, Y10, Y5, Y2)
	VSUBPS Y13, Y3, Y3
	VADDPS Y2, Y0, Y0
	VFMADD231PS Y3, Y2, Y1
	ADDQ $32, DX
	ADDQ $32, SI
	DECQ AX
	JNE grp_vec
grp_tail:
	VXORPS X6, X6, X6
	VXORPS X7, X7, X7
	MOVQ R10, AX
	TESTQ AX, AX
	JEQ grp_add
grp_tailloop:
	VMOVSS (DX), X2
	VMOVSS (SI), X3
	VMOVAPS X3, X4
	VFMADD213SS X9, X8, X4
	TESTQ R9, R9
	JEQ grp_tailwin
	CLAMP(X4, X12, X11, X5, X15)
grp_tailwin:
	VCMPSS $0x1e, X14, X4, X5
	VCMPSS $0x19, X10, X4, X4
	VANDPS X4, X5, X5
	VANDPS X2, X5, X2
	VADDSS X2, X6, X6
	VSUBSS X13, X3, X3
	VMULSS X3, X2, X3
	VADDSS X3, X7, X7
	ADDQ $4, DX
	ADDQ $4, SI
	DECQ AX
	JNE grp_tailloop
grp_add:
	ADDSUMS(X6, X7, grp_acc)
	ADDQ $4, R11
	ADDQ $4, R8
	ADDQ $4, R12
	ADDQ $16, DI
	DECQ BX
	JNE grp_plane
	VZEROUPPER
	RET

// func affine2RecPlanesAVX2(dx, dy, x *float32, inner, count int, ya, yb *float32, chi float32, clamp int, abc *float32, lo, hi float32, tail *[8]int32)
// affine2PlanesAVX2 of dy masked as in gradSumsRecPlanesAVX2.
TEXT ·affine2RecPlanesAVX2(SB), NOSPLIT, $0-96
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ inner+24(FP), CX
	MOVQ count+32(FP), BX
	MOVQ ya+40(FP), R11
	MOVQ yb+48(FP), R8
	VBROADCASTSS chi+56(FP), Y1
	MOVQ clamp+64(FP), R9
	MOVQ abc+72(FP), R12
	VBROADCASTSS lo+80(FP), Y14
	VBROADCASTSS hi+84(FP), Y10
	MOVQ tail+88(FP), AX
	VMOVDQU (AX), Y15
	VXORPS Y3, Y3, Y3
	MOVQ CX, R10
	ANDQ $7, R10
	SHRQ $3, CX
a2r_plane:
	VBROADCASTSS (R12), Y13
	VBROADCASTSS 4(R12), Y12
	VBROADCASTSS 8(R12), Y11
	VBROADCASTSS (R11), Y8
	VBROADCASTSS (R8), Y9
	MOVQ CX, AX
	TESTQ AX, AX
	JEQ a2r_tail
a2r_vec:
	VMOVUPS (SI), Y0
	VMOVAPS Y0, Y4
	VFMADD213PS Y9, Y8, Y4
	TESTQ R9, R9
	JEQ a2r_vecwin
	CLAMP(Y4, Y3, Y1, Y6, Y7)
a2r_vecwin:
	VFMADD213PS Y11, Y12, Y0  // b·x + c
	VMOVUPS (DX), Y2
	WINDOW(Y2, Y4, Y14, Y10, Y5, Y2)
	VFMADD231PS Y13, Y2, Y0   // + a·dy
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ AX
	JNE a2r_vec
a2r_tail:
	TESTQ R10, R10
	JEQ a2r_next
	VMASKMOVPS (DX), Y15, Y2
	VMASKMOVPS (SI), Y15, Y0
	VMOVAPS Y0, Y4
	VFMADD213PS Y9, Y8, Y4
	TESTQ R9, R9
	JEQ a2r_tailwin
	CLAMP(Y4, Y3, Y1, Y6, Y7)
a2r_tailwin:
	WINDOW(Y2, Y4, Y14, Y10, Y5, Y2)
	VMULPS Y13, Y2, Y2        // a·g
	VMULPS Y12, Y0, Y0        // b·x
	VADDPS Y0, Y2, Y2         // a·g + b·x
	VADDPS Y11, Y2, Y2        // + c
	VMASKMOVPS Y2, Y15, (DI)
	LEAQ (SI)(R10*4), SI
	LEAQ (DX)(R10*4), DX
	LEAQ (DI)(R10*4), DI
a2r_next:
	ADDQ $12, R12
	ADDQ $4, R11
	ADDQ $4, R8
	DECQ BX
	JNE a2r_plane
	VZEROUPPER
	RET

// func affineAddActPlanesAVX2(y, x, r *float32, inner, count int, a, b *float32, hi float32, clamp int, tail *[8]int32)
// For plane p: y = a[p]·x + b[p] by one FMA (affineActPlanesAVX2's), plus
// r (addAVX2's sum), clamped to [0, hi] as CLAMP when clamp ≠ 0
// (addClampAVX2's): BatchNormAddAct's output loop, the same bits as the
// batch norm's loop then the residual sum's; tail as in
// affineActPlanesAVX2.
TEXT ·affineAddActPlanesAVX2(SB), NOSPLIT, $0-80
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ r+16(FP), DX
	MOVQ inner+24(FP), CX
	MOVQ count+32(FP), BX
	MOVQ a+40(FP), R11
	MOVQ b+48(FP), R12
	VBROADCASTSS hi+56(FP), Y13
	VXORPS Y14, Y14, Y14
	MOVQ clamp+64(FP), R8
	MOVQ tail+72(FP), AX
	VMOVDQU (AX), Y15
	MOVQ CX, R10
	ANDQ $7, R10
	SHRQ $3, CX
aa_plane:
	VBROADCASTSS (R11), Y11
	VBROADCASTSS (R12), Y12
	MOVQ CX, AX
	TESTQ AX, AX
	JEQ aa_tail
aa_vec:
	VMOVUPS (SI), Y0
	VFMADD213PS Y12, Y11, Y0
	VADDPS (DX), Y0, Y0
	TESTQ R8, R8
	JEQ aa_vecstore
	CLAMP(Y0, Y14, Y13, Y1, Y2)
aa_vecstore:
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ AX
	JNE aa_vec
aa_tail:
	TESTQ R10, R10
	JEQ aa_next
	VMASKMOVPS (SI), Y15, Y0
	VFMADD213PS Y12, Y11, Y0
	VMASKMOVPS (DX), Y15, Y3
	VADDPS Y3, Y0, Y0
	TESTQ R8, R8
	JEQ aa_tailstore
	CLAMP(Y0, Y14, Y13, Y1, Y2)
aa_tailstore:
	VMASKMOVPS Y0, Y15, (DI)
	LEAQ (SI)(R10*4), SI
	LEAQ (DX)(R10*4), DX
	LEAQ (DI)(R10*4), DI
aa_next:
	ADDQ $4, R11
	ADDQ $4, R12
	DECQ BX
	JNE aa_plane
	VZEROUPPER
	RET

// func affineFQAddPlanesAVX2(y, x, r *float32, inner, count int, a, b *float32, hi float32, tail *[8]int32, fq *[7][8]float32, rng *[3][8]float32)
// For plane p: y = a[p]·x + b[p] by one FMA (affineActPlanesAVX2's),
// fake-quantized as FQMEM with the constants at fq (none when fq is nil),
// plus r (addAVX2's sum), clamped to [0, hi] as CLAMP (addClampAVX2's):
// BatchNormQuantAddAct's output loop, the same bits as the batch norm's
// loop, its folded quantizer's and AddAct's in turn. Every value written
// is folded into rng's lanes as affineActPlanesAVX2 folds them; tail as
// there.
TEXT ·affineFQAddPlanesAVX2(SB), NOSPLIT, $0-88
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ r+16(FP), DX
	MOVQ inner+24(FP), CX
	MOVQ count+32(FP), BX
	MOVQ a+40(FP), R11
	MOVQ b+48(FP), R12
	VBROADCASTSS hi+56(FP), Y13
	VXORPS Y14, Y14, Y14
	MOVQ tail+64(FP), AX
	VMOVDQU (AX), Y15
	MOVQ fq+72(FP), R8
	MOVQ rng+80(FP), R9
	VMOVUPS (R9), Y5
	VMOVUPS 32(R9), Y6
	VMOVUPS 64(R9), Y7
	MOVQ CX, R10
	ANDQ $7, R10
	SHRQ $3, CX
fa_plane:
	VBROADCASTSS (R11), Y11
	VBROADCASTSS (R12), Y12
	MOVQ CX, AX
	TESTQ AX, AX
	JEQ fa_tail
fa_vec:
	VMOVUPS (SI), Y0
	VFMADD213PS Y12, Y11, Y0
	TESTQ R8, R8
	JEQ fa_vecadd
	FQMEM(Y0, R8)
fa_vecadd:
	VADDPS (DX), Y0, Y0
	CLAMP(Y0, Y14, Y13, Y1, Y2)
	VMOVUPS Y0, (DI)
	VMINPS Y5, Y0, Y5
	VMAXPS Y6, Y0, Y6
	VSUBPS Y0, Y0, Y8
	VADDPS Y8, Y7, Y7
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ AX
	JNE fa_vec
fa_tail:
	TESTQ R10, R10
	JEQ fa_next
	VMASKMOVPS (SI), Y15, Y0
	VFMADD213PS Y12, Y11, Y0
	TESTQ R8, R8
	JEQ fa_tailadd
	FQMEM(Y0, R8)
fa_tailadd:
	VMASKMOVPS (DX), Y15, Y3
	VADDPS Y3, Y0, Y0
	CLAMP(Y0, Y14, Y13, Y1, Y2)
	VMASKMOVPS Y0, Y15, (DI)
	// the lanes past the plane take lane 0's value (it is in the plane)
	VBROADCASTSS X0, Y9
	VBLENDVPS Y15, Y0, Y9, Y9
	VMINPS Y5, Y9, Y5
	VMAXPS Y6, Y9, Y6
	VSUBPS Y9, Y9, Y8
	VADDPS Y8, Y7, Y7
	LEAQ (SI)(R10*4), SI
	LEAQ (DX)(R10*4), DX
	LEAQ (DI)(R10*4), DI
fa_next:
	ADDQ $4, R11
	ADDQ $4, R12
	DECQ BX
	JNE fa_plane
	VMOVUPS Y5, (R9)
	VMOVUPS Y6, 32(R9)
	VMOVUPS Y7, 64(R9)
	VZEROUPPER
	RET

// HMINMAX reduces Y6 to its lanes' min and Y7 to their max in the low
// floats of X6 and X7. X8 scratch.
#define HMINMAX \
	VEXTRACTF128 $1, Y6, X8; \
	VMINPS X8, X6, X6; \
	VPERMILPS $0x4e, X6, X8; \
	VMINPS X8, X6, X6; \
	VPERMILPS $0xb1, X6, X8; \
	VMINPS X8, X6, X6; \
	VEXTRACTF128 $1, Y7, X8; \
	VMAXPS X8, X7, X7; \
	VPERMILPS $0x4e, X7, X8; \
	VMAXPS X8, X7, X7; \
	VPERMILPS $0xb1, X7, X8; \
	VMAXPS X8, X7, X7

// func sumsExtPlanesAVX2(x *float32, inner, count int, k *float32, out *float64, ext *float32)
// sumsPlanesAVX2 (the same instructions on the sums' registers), and for
// plane p ext[2p] = min(ext[2p], the plane's min), ext[2p+1] = max(ext[2p+1],
// its max): the extremes of x per channel, from which a folded quantizer's
// range of the batch norm's output follows without a pass over it. (NaN
// aside: a plane with one has NaN sums, and its extremes are not used.)
TEXT ·sumsExtPlanesAVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), AX
	MOVQ inner+8(FP), CX
	MOVQ count+16(FP), BX
	MOVQ k+24(FP), R11
	MOVQ out+32(FP), DI
	MOVQ ext+40(FP), R12
	MOVQ CX, R10
	ANDQ $7, R10
	SHRQ $3, CX
se_plane:
	VBROADCASTSS (R11), Y13
	VBROADCASTSS (R12), Y6
	VBROADCASTSS 4(R12), Y7
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ CX, DX
	TESTQ DX, DX
	JEQ se_tail
se_vec:
	VMOVUPS (AX), Y2
	VMINPS Y2, Y6, Y6
	VMAXPS Y2, Y7, Y7
	VSUBPS Y13, Y2, Y2
	VADDPS Y2, Y0, Y0
	VFMADD231PS Y2, Y2, Y1
	ADDQ $32, AX
	DECQ DX
	JNE se_vec
se_tail:
	HMINMAX
	VXORPS X4, X4, X4
	VXORPS X5, X5, X5
	MOVQ R10, DX
	TESTQ DX, DX
	JEQ se_add
se_tailloop:
	VMOVSS (AX), X2
	VMINSS X2, X6, X6
	VMAXSS X2, X7, X7
	VSUBSS X13, X2, X2
	VADDSS X2, X4, X4
	VMULSS X2, X2, X3
	VADDSS X3, X5, X5
	ADDQ $4, AX
	DECQ DX
	JNE se_tailloop
se_add:
	VMOVSS X6, (R12)
	VMOVSS X7, 4(R12)
	ADDSUMS(X4, X5, se_acc)
	ADDQ $4, R11
	ADDQ $8, R12
	ADDQ $16, DI
	DECQ BX
	JNE se_plane
	VZEROUPPER
	RET

// CLAMP512 sets T to CLAMP's min(max(X, 0), HI) of X (NaN lanes put back
// from X), 16 lanes at a time. K2 scratch.
#define CLAMP512(X, ZERO, HI, T) \
	VMAXPS ZERO, X, T; \
	VMINPS HI, T, T; \
	VCMPPS $3, X, X, K2; \
	VMOVAPS X, K2, T

// FQADD512 is one step of affineFQAddPlanesAVX512 on the lanes of K1
// (zeroing loads, masked store and range).
#define FQADD512(FQSTEP) \
	VMOVUPS.Z (SI), K1, Z0; \
	VFMADD213PS Z12, Z11, Z0; \
	FQSTEP; \
	VMOVUPS.Z (DX), K1, Z3; \
	VADDPS Z3, Z0, Z0; \
	CLAMP512(Z0, Z14, Z13, Z1); \
	VMOVUPS Z1, K1, (DI); \
	VMINPS Z1, Z5, K1, Z5; \
	VMAXPS Z1, Z6, K1, Z6; \
	VSUBPS Z1, Z1, Z8; \
	VADDPS Z8, Z7, K1, Z7

#define FQSTEP_ON FQ(Z0, Z16, Z17, Z18, Z19, Z20, Z21, Z22)
#define FQSTEP_OFF

// func affineFQAddPlanesAVX512(y, x, r *float32, inner, count int, a, b *float32, hi float32, fq *[6]float32, rng *[3][8]float32)
// affineFQAddPlanesAVX2 16 lanes at a time, the same bits: the constants
// (s, 1/s, lo, hi, rlo, rhi) at fq (nil: not quantized) in registers, the
// tail under a mask; the range lanes' 16 folded into rng's 8 at the end.
TEXT ·affineFQAddPlanesAVX512(SB), NOSPLIT, $0-80
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ r+16(FP), DX
	MOVQ inner+24(FP), CX
	MOVQ count+32(FP), BX
	MOVQ a+40(FP), R11
	MOVQ b+48(FP), R12
	VBROADCASTSS hi+56(FP), Z13
	VXORPS Z14, Z14, Z14
	MOVQ fq+64(FP), R8
	MOVQ rng+72(FP), R9
	MOVL $0x7f800000, AX
	VPBROADCASTD AX, Z5
	MOVL $0xff800000, AX
	VPBROADCASTD AX, Z6
	VXORPS Z7, Z7, Z7
	MOVQ CX, R10
	ANDQ $15, R10
	SHRQ $4, CX
	MOVL $1, AX
	SHLXL R10, AX, AX
	DECL AX
	KMOVW AX, K3
	MOVL $0xffff, AX
	KMOVW AX, K4
	TESTQ R8, R8
	JEQ fz_plane
	FQCONSTS(R8, AX, Z16, Z17, Z18, Z19, Z20, Z21, Z22)
fq_plane:
	VBROADCASTSS (R11), Z11
	VBROADCASTSS (R12), Z12
	MOVQ CX, AX
	KMOVW K4, K1
	TESTQ AX, AX
	JEQ fq_tail
fq_vec:
	FQADD512(FQSTEP_ON)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ AX
	JNE fq_vec
fq_tail:
	KMOVW K3, K1
	TESTQ R10, R10
	JEQ fq_next
	FQADD512(FQSTEP_ON)
	LEAQ (SI)(R10*4), SI
	LEAQ (DX)(R10*4), DX
	LEAQ (DI)(R10*4), DI
fq_next:
	ADDQ $4, R11
	ADDQ $4, R12
	DECQ BX
	JNE fq_plane
	JMP fq_done
fz_plane:
	VBROADCASTSS (R11), Z11
	VBROADCASTSS (R12), Z12
	MOVQ CX, AX
	KMOVW K4, K1
	TESTQ AX, AX
	JEQ fz_tail
fz_vec:
	FQADD512(FQSTEP_OFF)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ AX
	JNE fz_vec
fz_tail:
	KMOVW K3, K1
	TESTQ R10, R10
	JEQ fz_next
	FQADD512(FQSTEP_OFF)
	LEAQ (SI)(R10*4), SI
	LEAQ (DX)(R10*4), DX
	LEAQ (DI)(R10*4), DI
fz_next:
	ADDQ $4, R11
	ADDQ $4, R12
	DECQ BX
	JNE fz_plane
fq_done:
	VEXTRACTF64X4 $1, Z5, Y8
	VMINPS Y8, Y5, Y5
	VMINPS (R9), Y5, Y5
	VMOVUPS Y5, (R9)
	VEXTRACTF64X4 $1, Z6, Y8
	VMAXPS Y8, Y6, Y6
	VMAXPS 32(R9), Y6, Y6
	VMOVUPS Y6, 32(R9)
	VEXTRACTF64X4 $1, Z7, Y8
	VADDPS Y8, Y7, Y7
	VADDPS 64(R9), Y7, Y7
	VMOVUPS Y7, 64(R9)
	VZEROUPPER
	RET
