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

// The F(4×4, 3×3) passes: 6×6 transforms of 8 tiles a vector, their
// intermediate rows in a scratch of 36 vectors (more than the registers
// hold).

// BT6: Bᵀ of F(4×4) on int16 lanes, d0..d5 in Y0, Y1, Y4, Y5, Y2, Y3,
// r0..r5 into Y7, Y8, Y9, Y10, Y11, Y6 (Y12 a temporary):
// t0 = d4 − 4d2, t1 = d3 − 4d1: r1 = t0 + t1, r2 = t0 − t1;
// t2 = d4 − d2, t3 = 2(d3 − d1): r3 = t2 + t3, r4 = t2 − t3;
// r0 = 4(d0 − d2) + t2; r5 = 4(d1 − d3) + d5 − d3.
#define BT6 \
	VPSLLW $2, Y4, Y6; \
	VPSUBW Y6, Y2, Y6; \
	VPSLLW $2, Y1, Y7; \
	VPSUBW Y7, Y5, Y7; \
	VPADDW Y7, Y6, Y8; \
	VPSUBW Y7, Y6, Y9; \
	VPSUBW Y4, Y2, Y6; \
	VPSUBW Y1, Y5, Y7; \
	VPADDW Y7, Y7, Y7; \
	VPADDW Y7, Y6, Y10; \
	VPSUBW Y7, Y6, Y11; \
	VPSUBW Y4, Y0, Y7; \
	VPSLLW $2, Y7, Y7; \
	VPADDW Y6, Y7, Y7; \
	VPSUBW Y5, Y1, Y6; \
	VPSLLW $2, Y6, Y6; \
	VPSUBW Y5, Y3, Y12; \
	VPADDW Y12, Y6, Y6

// ROW6(A, B): one frame row of the 8 tiles (channel 2j's at A, 2j+1's at
// B; lane 0 tiles 0–3 from the row, lane 1 tiles 4–7 from half (DX)
// bytes on) as the pairs d0..d5 in BT6's registers: each lane's 16 bytes
// from column 0 and from column 4 (ROW6TAIL).
#define ROW6(A, B) \
	VMOVDQU (A), X0; \
	VINSERTI128 $1, (A)(DX*1), Y0, Y0; \
	VMOVDQU (B), X1; \
	VINSERTI128 $1, (B)(DX*1), Y1, Y1; \
	VMOVDQU 4(A), X2; \
	VINSERTI128 $1, 4(A)(DX*1), Y2, Y2; \
	VMOVDQU 4(B), X3; \
	VINSERTI128 $1, 4(B)(DX*1), Y3, Y3; \
	ROW6TAIL

// PIECES(A, off, X, Y): a pairs vector's 8 bytes at off of each of its
// four pieces, A, A + q1 (4 frame rows: 4·CX), A + half (DX) and
// A + half + q1, as Y's quarters (R10 clobbered).
#define PIECES(A, off, X, Y) \
	VMOVQ off(A), X; \
	VPINSRQ $1, off(A)(CX*4), X, X; \
	LEAQ (A)(DX*1), R10; \
	VMOVQ off(R10), X4; \
	VPINSRQ $1, off(R10)(CX*4), X4, X4; \
	VINSERTI128 $1, X4, Y, Y

// ROW6P is ROW6 for pairs vectors (two tiles a piece).
#define ROW6P(A, B) \
	PIECES(A, 0, X0, Y0); \
	PIECES(B, 0, X1, Y1); \
	PIECES(A, 4, X2, Y2); \
	PIECES(B, 4, X3, Y3); \
	ROW6TAIL

// ROW6TAIL: the loads' bytes 4t + k put k-major by VPSHUFB (Y14), the two
// channels' interleaved (byte pairs), then zero-extended against Y13.
#define ROW6TAIL \
	VPSHUFB Y14, Y0, Y0; \
	VPSHUFB Y14, Y1, Y1; \
	VPSHUFB Y14, Y2, Y2; \
	VPSHUFB Y14, Y3, Y3; \
	VPUNPCKHBW Y1, Y0, Y4; \
	VPUNPCKLBW Y1, Y0, Y0; \
	VPUNPCKLBW Y3, Y2, Y2; \
	VPUNPCKHBW Y13, Y0, Y1; \
	VPUNPCKLBW Y13, Y0, Y0; \
	VPUNPCKHBW Y13, Y4, Y5; \
	VPUNPCKLBW Y13, Y4, Y4; \
	VPUNPCKHBW Y13, Y2, Y3; \
	VPUNPCKLBW Y13, Y2, Y2

// STR6(off) stores BT6's r0..r5 at the scratch row off(SI).
#define STR6(off) \
	VMOVDQU Y7, off(SI); \
	VMOVDQU Y8, off+32(SI); \
	VMOVDQU Y9, off+64(SI); \
	VMOVDQU Y10, off+96(SI); \
	VMOVDQU Y11, off+128(SI); \
	VMOVDQU Y6, off+160(SI)

// COL6(k): column k of the scratch rows through BT6, stored as V's
// positions 6i + k (i = 0..5) at BX (DI + k·xs) and R9 (6 xs) apart; AX
// is clobbered.
#define COL6(k) \
	VMOVDQU k*32(SI), Y0; \
	VMOVDQU k*32+192(SI), Y1; \
	VMOVDQU k*32+384(SI), Y4; \
	VMOVDQU k*32+576(SI), Y5; \
	VMOVDQU k*32+768(SI), Y2; \
	VMOVDQU k*32+960(SI), Y3; \
	BT6; \
	LEAQ (BX)(R9*2), AX; \
	ADDQ R9, AX; \
	VMOVDQU Y7, (BX); \
	VMOVDQU Y8, (BX)(R9*1); \
	VMOVDQU Y9, (BX)(R9*2); \
	VMOVDQU Y10, (AX); \
	VMOVDQU Y11, (AX)(R9*1); \
	VMOVDQU Y6, (AX)(R9*2); \
	ADDQ R8, BX

// RSTEP(ROW, off): one frame row (BX, AX) loaded by ROW, through Bᵀ into
// the scratch row at off; BX and AX move a frame row on.
#define RSTEP(ROW, off) \
	ROW(BX, AX); \
	BT6; \
	STR6(off); \
	ADDQ CX, BX; \
	ADDQ CX, AX

// IN6VEC(ROW): one vector's input transform, its frame rows loaded by
// ROW (ROW6 or ROW6P): the six rows through Bᵀ into the scratch, then
// its six columns into V.
#define IN6VEC(ROW) \
	MOVLQSX (R13), AX; \
	LEAQ (R11)(AX*1), BX; \
	ADDQ R12, AX; \
	RSTEP(ROW, 0); \
	RSTEP(ROW, 192); \
	RSTEP(ROW, 384); \
	RSTEP(ROW, 576); \
	RSTEP(ROW, 768); \
	RSTEP(ROW, 960); \
	MOVQ DI, BX; \
	COL6(0); \
	COL6(1); \
	COL6(2); \
	COL6(3); \
	COL6(4); \
	COL6(5); \
	ADDQ $32, DI; \
	ADDQ $4, R13

// func wg4InAVX2(v *uint32, xs int, f0, f1 *uint8, offs *int32, nv, half, q1, wf int, scratch *uint32)
// computes wgInputGo for r = 4: adjoining pieces (q1 = 8: a lane's 4
// tiles one 16-byte load) or pairs vectors (q1 = 4 frame rows).
TEXT ·wg4InAVX2(SB), NOSPLIT, $0-80
	MOVQ v+0(FP), DI
	MOVQ xs+8(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	ADDQ R9, R9 // 6 positions
	MOVQ f0+16(FP), R11
	MOVQ f1+24(FP), R12
	MOVQ offs+32(FP), R13
	MOVQ half+48(FP), DX
	MOVQ wf+64(FP), CX
	MOVQ scratch+72(FP), SI
	VPXOR Y13, Y13, Y13
	VBROADCASTI128 wg4Deint<>(SB), Y14
	CMPQ nv+40(FP), $0
	JEQ  wg4in_done
	CMPQ q1+56(FP), $8
	JNE  wg4in_pairs
wg4in_vec:
	IN6VEC(ROW6)
	DECQ nv+40(FP)
	JNE  wg4in_vec
	JMP  wg4in_done
wg4in_pairs:
	IN6VEC(ROW6P)
	DECQ nv+40(FP)
	JNE  wg4in_pairs
wg4in_done:
	VZEROUPPER
	RET

// wg4Deint puts a lane's bytes 4t + k at 4k + t.
DATA wg4Deint<>+0(SB)/8, $0x0d0905010c080400
DATA wg4Deint<>+8(SB)/8, $0x0f0b07030e0a0602
GLOBL wg4Deint<>(SB), RODATA|NOPTR, $16

// AT6: F(4×4)'s scaled Aᵀ (wgAT) on int32 lanes, m0..m5 in Y0..Y5,
// o0..o3 into Y6, Y11, Y10, Y7 (Y0, Y8, Y9 clobbered): p1 = m1 + m2,
// q1 = m1 − m2, p3 = m3 + m4, q3 = m3 − m4; o0 = 6m0 + 4p1 + p3,
// o1 = 4q1 + 2q3, o2 = 4(p1 + p3), o3 = 4q1 + 8q3 + 24m5.
#define AT6 \
	VPADDD Y2, Y1, Y6; \
	VPSUBD Y2, Y1, Y7; \
	VPADDD Y4, Y3, Y8; \
	VPSUBD Y4, Y3, Y9; \
	VPADDD Y8, Y6, Y10; \
	VPSLLD $2, Y10, Y10; \
	VPSLLD $2, Y6, Y6; \
	VPADDD Y0, Y0, Y11; \
	VPADDD Y11, Y6, Y6; \
	VPSLLD $2, Y0, Y0; \
	VPADDD Y0, Y6, Y6; \
	VPADDD Y8, Y6, Y6; \
	VPSLLD $2, Y7, Y7; \
	VPADDD Y9, Y9, Y8; \
	VPADDD Y8, Y7, Y11; \
	VPSLLD $2, Y8, Y8; \
	VPADDD Y8, Y7, Y7; \
	VPADDD Y5, Y5, Y8; \
	VPADDD Y5, Y8, Y8; \
	VPSLLD $3, Y8, Y8; \
	VPADDD Y8, Y7, Y7

// OROW6(q): M's positions 6i + q (i = 0..5; BX at the vector's position
// q, R9 six positions) through AT6 into the scratch's rows a·6 + q; AX
// is clobbered, BX moves to position q + 1.
#define OROW6(q) \
	LEAQ (BX)(R9*2), AX; \
	ADDQ R9, AX; \
	VMOVDQU (BX), Y0; \
	VMOVDQU (BX)(R9*1), Y1; \
	VMOVDQU (BX)(R9*2), Y2; \
	VMOVDQU (AX), Y3; \
	VMOVDQU (AX)(R9*1), Y4; \
	VMOVDQU (AX)(R9*2), Y5; \
	AT6; \
	VMOVDQU Y6, q*32(R10); \
	VMOVDQU Y11, q*32+192(R10); \
	VMOVDQU Y10, q*32+384(R10); \
	VMOVDQU Y7, q*32+576(R10); \
	ADDQ R8, BX

// OCOL6(a, STORE): the scratch's row a through AT6, times 9⁻¹ and
// shifted right by 6 (Y12: wgInv9), transposed into the 8 tiles' four
// outputs of their row a: tiles 0–1 in Y0, 2–3 in Y1, 4–5 in Y2, 6–7 in
// Y3, stored by STORE at R11; R11 moves a row on.
#define OCOL6(a, STORE) \
	VMOVDQU a*192(R10), Y0; \
	VMOVDQU a*192+32(R10), Y1; \
	VMOVDQU a*192+64(R10), Y2; \
	VMOVDQU a*192+96(R10), Y3; \
	VMOVDQU a*192+128(R10), Y4; \
	VMOVDQU a*192+160(R10), Y5; \
	AT6; \
	VPMULLD Y12, Y6, Y6; \
	VPMULLD Y12, Y11, Y11; \
	VPMULLD Y12, Y10, Y10; \
	VPMULLD Y12, Y7, Y7; \
	VPSRAD $6, Y6, Y6; \
	VPSRAD $6, Y11, Y11; \
	VPSRAD $6, Y10, Y10; \
	VPSRAD $6, Y7, Y7; \
	VPUNPCKLDQ Y11, Y6, Y0; \
	VPUNPCKHDQ Y11, Y6, Y1; \
	VPUNPCKLDQ Y7, Y10, Y2; \
	VPUNPCKHDQ Y7, Y10, Y3; \
	VPUNPCKLQDQ Y2, Y0, Y4; \
	VPUNPCKHQDQ Y2, Y0, Y5; \
	VPUNPCKLQDQ Y3, Y1, Y8; \
	VPUNPCKHQDQ Y3, Y1, Y9; \
	VPERM2I128 $0x20, Y5, Y4, Y0; \
	VPERM2I128 $0x20, Y9, Y8, Y1; \
	VPERM2I128 $0x31, Y5, Y4, Y2; \
	VPERM2I128 $0x31, Y9, Y8, Y3; \
	STORE; \
	ADDQ CX, R11

// OST: adjoining pieces: tiles 0–3 at R11, 4–7 half (DX) bytes on.
#define OST \
	VMOVDQU Y0, (R11); \
	VMOVDQU Y1, 32(R11); \
	VMOVDQU Y2, (R11)(DX*1); \
	VMOVDQU Y3, 32(R11)(DX*1)

// OSTP: pairs vectors: the pieces at R11, R11 + q1 (4 rows: 4·CX),
// + half (DX) and + half + q1 (R13 clobbered).
#define OSTP \
	LEAQ (R11)(DX*1), R13; \
	VMOVDQU Y0, (R11); \
	VMOVDQU Y1, (R11)(CX*4); \
	VMOVDQU Y2, (R13); \
	VMOVDQU Y3, (R13)(CX*4)

// OUT6VEC(STORE): one vector's output transform: M's rows through Aᵀ
// into the scratch, its four rows through Aᵀ into the plane by STORE.
#define OUT6VEC(STORE) \
	MOVQ SI, BX; \
	OROW6(0); \
	OROW6(1); \
	OROW6(2); \
	OROW6(3); \
	OROW6(4); \
	OROW6(5); \
	MOVLQSX (R12), AX; \
	LEAQ (DI)(AX*4), R11; \
	OCOL6(0, STORE); \
	OCOL6(1, STORE); \
	OCOL6(2, STORE); \
	OCOL6(3, STORE); \
	ADDQ $32, SI; \
	ADDQ $4, R12

// func wg4OutAVX2(acc, mrow *int32, xs int, offs *int32, nv, half, q1, ldp int, scratch *uint32)
// computes wgOutputGo for r = 4: adjoining pieces (q1 = 8) or pairs
// vectors (q1 = 4 rows).
TEXT ·wg4OutAVX2(SB), NOSPLIT, $0-72
	MOVQ acc+0(FP), DI
	MOVQ mrow+8(FP), SI
	MOVQ xs+16(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	ADDQ R9, R9 // 6 positions
	MOVQ offs+24(FP), R12
	MOVQ half+40(FP), DX
	SHLQ $2, DX
	MOVQ ldp+56(FP), CX
	SHLQ $2, CX
	MOVQ scratch+64(FP), R10
	MOVL $0x38e38e39, AX
	MOVQ AX, X12
	VPBROADCASTD X12, Y12
	CMPQ nv+32(FP), $0
	JEQ  wg4out_done
	CMPQ q1+48(FP), $8
	JNE  wg4out_pairs
wg4out_vec:
	OUT6VEC(OST)
	DECQ nv+32(FP)
	JNE  wg4out_vec
	JMP  wg4out_done
wg4out_pairs:
	OUT6VEC(OSTP)
	DECQ nv+32(FP)
	JNE  wg4out_pairs
wg4out_done:
	VZEROUPPER
	RET
