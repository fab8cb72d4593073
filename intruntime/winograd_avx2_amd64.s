#include "textflag.h"

// The AVX2 passes of the integer Winograd F(2×2, 3×3) (winograd.go): 8
// tiles a vector, each lane one tile's (channel 2j, channel 2j+1) int16
// pair for the input and the GEMM, one tile's int32 for the output.

// WGROW(off, acc0, acc1) adds row off/4's weight pair (broadcast) times
// the two vectors of V pairs in Y0/Y1 to its accumulators.
#define WGROW(off, acc0, acc1) \
	VPBROADCASTD off(BX), Y2; \
	VPMADDWD Y2, Y0, Y12; \
	VPMADDWD Y2, Y1, Y13; \
	VPADDD Y12, acc0, acc0; \
	VPADDD Y13, acc1, acc1

// WGFIRST is WGROW for the first pair: the products are the accumulators.
#define WGFIRST(off, acc0, acc1) \
	VPBROADCASTD off(BX), Y2; \
	VPMADDWD Y2, Y0, acc0; \
	VPMADDWD Y2, Y1, acc1

// WGROW1 and WGFIRST1 are WGROW and WGFIRST on one vector (Y0).
#define WGROW1(off, acc) \
	VPBROADCASTD off(BX), Y2; \
	VPMADDWD Y2, Y0, Y12; \
	VPADDD Y12, acc, acc

#define WGFIRST1(off, acc) \
	VPBROADCASTD off(BX), Y2; \
	VPMADDWD Y2, Y0, acc

// func wgGemmAVX2(mo *int32, ldm int, u *uint32, v *uint32, ldv, cp, nv, panels int)
// computes wgGemmGo panel by panel: 4 rows × 16 tiles a tile (Y4–Y11),
// then one vector of 8 (Y4–Y7) where nv is odd. cp ≥ 1, panels ≥ 1.
TEXT ·wgGemmAVX2(SB), NOSPLIT, $0-64
	MOVQ mo+0(FP), DI
	MOVQ ldm+8(FP), R10
	SHLQ $2, R10
	MOVQ u+16(FP), R11
	MOVQ ldv+32(FP), R8
	SHLQ $2, R8
	MOVQ cp+40(FP), R12
	MOVQ panels+56(FP), DX
	LEAQ (R10)(R10*2), R9 // 3 rows
wg_panel:
	MOVQ v+24(FP), SI
	MOVQ nv+48(FP), R13
wg2_tile:
	CMPQ R13, $2
	JLT  wg1
	MOVQ SI, AX
	MOVQ R11, BX
	MOVQ R12, CX
	VMOVDQU (AX), Y0
	VMOVDQU 32(AX), Y1
	WGFIRST(0, Y4, Y5)
	WGFIRST(4, Y6, Y7)
	WGFIRST(8, Y8, Y9)
	WGFIRST(12, Y10, Y11)
	ADDQ R8, AX
	ADDQ $16, BX
	DECQ CX
	JEQ  wg2_store
wg2_loop:
	VMOVDQU (AX), Y0
	VMOVDQU 32(AX), Y1
	WGROW(0, Y4, Y5)
	WGROW(4, Y6, Y7)
	WGROW(8, Y8, Y9)
	WGROW(12, Y10, Y11)
	ADDQ R8, AX
	ADDQ $16, BX
	DECQ CX
	JNE  wg2_loop
wg2_store:
	VMOVDQU Y4, (DI)
	VMOVDQU Y5, 32(DI)
	VMOVDQU Y6, (DI)(R10*1)
	VMOVDQU Y7, 32(DI)(R10*1)
	VMOVDQU Y8, (DI)(R10*2)
	VMOVDQU Y9, 32(DI)(R10*2)
	VMOVDQU Y10, (DI)(R9*1)
	VMOVDQU Y11, 32(DI)(R9*1)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $2, R13
	JMP  wg2_tile
wg1:
	TESTQ R13, R13
	JEQ   wg_next
	MOVQ  SI, AX
	MOVQ  R11, BX
	MOVQ  R12, CX
	VMOVDQU (AX), Y0
	WGFIRST1(0, Y4)
	WGFIRST1(4, Y5)
	WGFIRST1(8, Y6)
	WGFIRST1(12, Y7)
	ADDQ R8, AX
	ADDQ $16, BX
	DECQ CX
	JEQ  wg1_store
wg1_loop:
	VMOVDQU (AX), Y0
	WGROW1(0, Y4)
	WGROW1(4, Y5)
	WGROW1(8, Y6)
	WGROW1(12, Y7)
	ADDQ R8, AX
	ADDQ $16, BX
	DECQ CX
	JNE  wg1_loop
wg1_store:
	VMOVDQU Y4, (DI)
	VMOVDQU Y5, (DI)(R10*1)
	VMOVDQU Y6, (DI)(R10*2)
	VMOVDQU Y7, (DI)(R9*1)
	ADDQ    $32, DI
wg_next:
	// The next panel: 4 rows on from this one's start, its weights after
	// this one's (cp pairs of 4 rows).
	MOVQ nv+48(FP), AX
	SHLQ $5, AX
	SUBQ AX, DI
	LEAQ (DI)(R10*4), DI
	MOVQ R12, AX
	SHLQ $4, AX
	ADDQ AX, R11
	DECQ DX
	JNE  wg_panel
	VZEROUPPER
	RET

// ZLD(A, off, X, Y): 8 frame bytes at off(A) and 8 at off(A) + half (DX)
// zero-extended to 16 int16s in Y: lane i (an int32) holds the codes of
// columns 2i and 2i+1 of tile i's frame rows.
#define ZLD(A, off, X, Y) \
	VMOVQ off(A), X; \
	VPINSRQ $1, off(A)(DX*1), X, X; \
	VPMOVZXBW X, Y

// ROWT(A, B, R0, R1, R2, R3): one frame row of the 8 tiles, channel 2j's
// at A and 2j+1's at B, as the pairs d0..d3 (tile columns 0–3; low half
// channel 2j) and their Bᵀ along the row: R0 = d0 − d2, R1 = d1 + d2,
// R2 = d2 − d1, R3 = d1 − d3 (int16). Y0–Y5 are clobbered.
#define ROWT(A, B, R0, R1, R2, R3) \
	ZLD(A, 0, X0, Y0); \
	ZLD(B, 0, X1, Y1); \
	ZLD(A, 2, X2, Y2); \
	ZLD(B, 2, X3, Y3); \
	VPSLLD $16, Y1, Y4; \
	VPBLENDW $0xAA, Y4, Y0, Y4; \
	VPSRLD $16, Y0, Y0; \
	VPBLENDW $0xAA, Y1, Y0, Y5; \
	VPSLLD $16, Y3, Y0; \
	VPBLENDW $0xAA, Y0, Y2, Y0; \
	VPSRLD $16, Y2, Y2; \
	VPBLENDW $0xAA, Y3, Y2, Y1; \
	VPSUBW Y0, Y4, R0; \
	VPADDW Y0, Y5, R1; \
	VPSUBW Y5, Y0, R2; \
	VPSUBW Y1, Y5, R3

// ST4(op, a0..a3, b0..b3) stores op(a, b) for the four columns at SI,
// xs (R8) bytes apart (the positions ξ = 4i..4i+3 of row group i).
#define ST4(op, a0, a1, a2, a3, b0, b1, b2, b3) \
	op b0, a0, Y0; \
	VMOVDQU Y0, (SI); \
	op b1, a1, Y0; \
	VMOVDQU Y0, (SI)(R8*1); \
	op b2, a2, Y0; \
	VMOVDQU Y0, (SI)(R8*2); \
	op b3, a3, Y0; \
	VMOVDQU Y0, (SI)(R9*1)

// func wgInAVX2(v *uint32, xs int, f0, f1 *uint8, offs *int32, nv, half, wf int)
// computes wgInputGo. Rows in the order 0, 2, 1, 3 keep two rows'
// transforms live (Y6–Y13): Bᵀ down the columns is v0 = R0 − R2, v1 =
// R1 + R2, v2 = R2 − R1, v3 = R1 − R3.
TEXT ·wgInAVX2(SB), NOSPLIT, $0-64
	MOVQ v+0(FP), DI
	MOVQ xs+8(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	MOVQ f0+16(FP), R10
	MOVQ f1+24(FP), R11
	MOVQ offs+32(FP), R12
	MOVQ nv+40(FP), R13
	MOVQ half+48(FP), DX
	MOVQ wf+56(FP), CX
	TESTQ R13, R13
	JEQ   wgin_done
wgin_vec:
	MOVLQSX (R12), AX
	LEAQ (R10)(AX*1), BX // channel 2j's rows start at BX
	ADDQ R11, AX         // channel 2j+1's at AX
	// Row 0 into Y6–Y9, row 2 into Y10–Y13.
	ROWT(BX, AX, Y6, Y7, Y8, Y9)
	LEAQ (BX)(CX*2), BX
	LEAQ (AX)(CX*2), AX
	ROWT(BX, AX, Y10, Y11, Y12, Y13)
	MOVQ DI, SI
	ST4(VPSUBW, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13)
	// Row 1 into Y6–Y9.
	SUBQ CX, BX
	SUBQ CX, AX
	ROWT(BX, AX, Y6, Y7, Y8, Y9)
	LEAQ (SI)(R8*4), SI
	ST4(VPADDW, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13)
	LEAQ (SI)(R8*4), SI
	ST4(VPSUBW, Y10, Y11, Y12, Y13, Y6, Y7, Y8, Y9)
	// Row 3 into Y10–Y13.
	LEAQ (BX)(CX*2), BX
	LEAQ (AX)(CX*2), AX
	ROWT(BX, AX, Y10, Y11, Y12, Y13)
	LEAQ (SI)(R8*4), SI
	ST4(VPSUBW, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13)
	ADDQ $32, DI
	ADDQ $4, R12
	DECQ R13
	JNE  wgin_vec
wgin_done:
	VZEROUPPER
	RET

// OUTROW(y0, y1, off) stores the output row of the 8 tiles whose
// columns 2x are in y0 and 2x+1 in y1 at off(DI) (tiles 0–3) and
// off(DI)(DX*1) (tiles 4–7). Y0/Y1 are clobbered.
#define OUTROW(y0, y1, off) \
	VPUNPCKLDQ y1, y0, Y0; \
	VPUNPCKHDQ y1, y0, Y1; \
	VPERM2I128 $0x20, Y1, Y0, y0; \
	VPERM2I128 $0x31, Y1, Y0, y1; \
	VMOVDQU y0, off(DI); \
	VMOVDQU y1, off(DI)(DX*1)

// func wgOutAVX2(acc, mrow *int32, xs int, offs *int32, nv, half, ldp int)
// computes wgOutputGo: per vector Aᵀ along the rows (s0 = m0 + m1 + m2,
// s1 = m1 − m2 − m3 per column, Y6–Y13), then along the columns, the
// results shifted right by 2 and interleaved into the plane's two rows.
TEXT ·wgOutAVX2(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), R10
	MOVQ mrow+8(FP), SI
	MOVQ xs+16(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	MOVQ offs+24(FP), R12
	MOVQ nv+32(FP), R13
	MOVQ half+40(FP), DX
	SHLQ $2, DX
	MOVQ ldp+48(FP), CX
	SHLQ $2, CX
	TESTQ R13, R13
	JEQ   wgout_done
wgout_vec:
	// Row group 0: s0 = m0.
	VMOVDQU (SI), Y6
	VMOVDQU (SI)(R8*1), Y7
	VMOVDQU (SI)(R8*2), Y8
	VMOVDQU (SI)(R9*1), Y9
	// Row group 1: s1 = m1, s0 += m1.
	LEAQ (SI)(R8*4), AX
	VMOVDQU (AX), Y10
	VMOVDQU (AX)(R8*1), Y11
	VMOVDQU (AX)(R8*2), Y12
	VMOVDQU (AX)(R9*1), Y13
	VPADDD Y10, Y6, Y6
	VPADDD Y11, Y7, Y7
	VPADDD Y12, Y8, Y8
	VPADDD Y13, Y9, Y9
	// Row group 2: s0 += m2, s1 −= m2.
	LEAQ (AX)(R8*4), AX
	VMOVDQU (AX), Y0
	VPADDD Y0, Y6, Y6
	VPSUBD Y0, Y10, Y10
	VMOVDQU (AX)(R8*1), Y0
	VPADDD Y0, Y7, Y7
	VPSUBD Y0, Y11, Y11
	VMOVDQU (AX)(R8*2), Y0
	VPADDD Y0, Y8, Y8
	VPSUBD Y0, Y12, Y12
	VMOVDQU (AX)(R9*1), Y0
	VPADDD Y0, Y9, Y9
	VPSUBD Y0, Y13, Y13
	// Row group 3: s1 −= m3.
	LEAQ (AX)(R8*4), AX
	VPSUBD (AX), Y10, Y10
	VPSUBD (AX)(R8*1), Y11, Y11
	VPSUBD (AX)(R8*2), Y12, Y12
	VPSUBD (AX)(R9*1), Y13, Y13
	// Columns: y0 = s_0 + s_1 + s_2 (Y6, Y10), y1 = s_1 − s_2 − s_3 (Y7, Y11).
	VPADDD Y7, Y6, Y6
	VPADDD Y8, Y6, Y6
	VPSUBD Y8, Y7, Y7
	VPSUBD Y9, Y7, Y7
	VPADDD Y11, Y10, Y10
	VPADDD Y12, Y10, Y10
	VPSUBD Y12, Y11, Y11
	VPSUBD Y13, Y11, Y11
	VPSRAD $2, Y6, Y6
	VPSRAD $2, Y7, Y7
	VPSRAD $2, Y10, Y10
	VPSRAD $2, Y11, Y11
	MOVLQSX (R12), AX
	LEAQ (R10)(AX*4), DI
	OUTROW(Y6, Y7, 0)
	ADDQ CX, DI
	OUTROW(Y10, Y11, 0)
	ADDQ $32, SI
	ADDQ $4, R12
	DECQ R13
	JNE  wgout_vec
wgout_done:
	VZEROUPPER
	RET
