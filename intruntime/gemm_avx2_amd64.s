#include "textflag.h"

// The AVX2 int8 micro-kernels (see gemm_amd64.go). avx2x5, for weights
// that cannot saturate VPMADDUBSW (safeForPairs): one 5-row weight panel
// (w[q·5 + r], as for VNNI) times single 16-column groups of B, each
// 64-byte block as two ymm halves of 8 columns. Per row and half:
// VPMADDUBSW (u8·s8 pairs summed to int16), VPMADDWD with ones (pairs
// to int32), VPADDD into the accumulator. 10 accumulators Y4–Y13, B in
// Y0/Y1, the weight broadcast in Y2, Y3 a temporary, Y14 ones.

// MAC1(w, acc0, acc1) adds to the accumulators acc0/acc1 one row's k-quad
// at w times B's block in Y0/Y1 (two halves of 8 columns).
#define MAC1(w, acc0, acc1) \
	VPBROADCASTD w, Y2; \
	VPMADDUBSW Y2, Y0, Y3; \
	VPMADDWD Y14, Y3, Y3; \
	VPADDD Y3, acc0, acc0; \
	VPMADDUBSW Y2, Y1, Y3; \
	VPMADDWD Y14, Y3, Y3; \
	VPADDD Y3, acc1, acc1

// MAC5(wreg) is MAC1 for the five rows' quads at wreg into the 10
// accumulators.
#define MAC5(wreg) \
	MAC1(0(wreg), Y4, Y5); \
	MAC1(4(wreg), Y6, Y7); \
	MAC1(8(wreg), Y8, Y9); \
	MAC1(12(wreg), Y10, Y11); \
	MAC1(16(wreg), Y12, Y13)

// ZERO10 clears the accumulators Y4–Y13.
#define ZERO10 \
	VPXOR Y4, Y4, Y4; \
	VPXOR Y5, Y5, Y5; \
	VPXOR Y6, Y6, Y6; \
	VPXOR Y7, Y7, Y7; \
	VPXOR Y8, Y8, Y8; \
	VPXOR Y9, Y9, Y9; \
	VPXOR Y10, Y10, Y10; \
	VPXOR Y11, Y11, Y11; \
	VPXOR Y12, Y12, Y12; \
	VPXOR Y13, Y13, Y13

// STORE10 stores the five rows' accumulators at DI, R10 bytes apart (DX
// is clobbered).
#define STORE10 \
	MOVQ DI, DX; \
	VMOVDQU Y4, 0(DX); \
	VMOVDQU Y5, 32(DX); \
	ADDQ R10, DX; \
	VMOVDQU Y6, 0(DX); \
	VMOVDQU Y7, 32(DX); \
	ADDQ R10, DX; \
	VMOVDQU Y8, 0(DX); \
	VMOVDQU Y9, 32(DX); \
	ADDQ R10, DX; \
	VMOVDQU Y10, 0(DX); \
	VMOVDQU Y11, 32(DX); \
	ADDQ R10, DX; \
	VMOVDQU Y12, 0(DX); \
	VMOVDQU Y13, 32(DX)

// func avx2x5(c *int32, ldc int, w *int32, b *byte, k4, gs, n int)
// computes n single groups, gs bytes of B and 64 bytes of C apart.
TEXT ·avx2x5(SB), NOSPLIT, $0-56
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R10
	SHLQ $2, R10
	MOVQ w+16(FP), R11
	MOVQ b+24(FP), SI
	MOVQ k4+32(FP), R12
	MOVQ gs+40(FP), R8
	MOVQ n+48(FP), R13
	MOVL $0x00010001, AX
	VMOVQ AX, X14
	VPBROADCASTD X14, Y14 // int16 ones
	TESTQ R13, R13
	JEQ avx2x5_done
avx2x5_tile:
	ZERO10
	MOVQ SI, AX
	MOVQ R11, BX
	MOVQ R12, CX
avx2x5_loop:
	VMOVDQU (AX), Y0
	VMOVDQU 32(AX), Y1
	MAC5(BX)
	ADDQ $64, AX
	ADDQ $20, BX
	DECQ CX
	JNE avx2x5_loop
	STORE10
	ADDQ $64, DI
	ADDQ R8, SI
	DECQ R13
	JNE avx2x5_tile
avx2x5_done:
	VZEROUPPER
	RET

// The exact AVX2 kernel for weights that could saturate VPMADDUBSW: the
// weights sign-extended to int16 (packed once), the codes zero-extended by
// VPUNPCKL/HBW against zero, VPMADDWD's int32 pair sums (exact: |u0·w0 +
// u1·w1| ≤ 2·255·128). One tile is 4 rows × 8 columns (half a group): a
// 32-byte half block is 8 columns' quads; its low unpack holds columns
// 0, 1 | 4, 5 as int16 quads, its high unpack 2, 3 | 6, 7, so that each
// row's two accumulators hold a column's two pair sums side by side and one
// VPHADDD at the end leaves columns 0–7 in order. Y0 zero, Y1/Y2 the
// unpacked codes, Y3 the weight broadcast, Y4–Y11 the accumulators, Y12/Y13
// products.

// W16ROW(w, acc0, acc1) adds a row's quad of int16 weights at w times the
// unpacked codes in Y1/Y2 to its accumulators.
#define W16ROW(w, acc0, acc1) \
	VPBROADCASTQ w, Y3; \
	VPMADDWD Y3, Y1, Y12; \
	VPMADDWD Y3, Y2, Y13; \
	VPADDD Y12, acc0, acc0; \
	VPADDD Y13, acc1, acc1

// W16FIRST(w, acc0, acc1) is W16ROW for a tile's first quad: its
// products are the accumulators.
#define W16FIRST(w, acc0, acc1) \
	VPBROADCASTQ w, Y3; \
	VPMADDWD Y3, Y1, acc0; \
	VPMADDWD Y3, Y2, acc1

// W16QUAD(ROW, src) is one k-quad of a 4×8 tile: the 32 bytes at src (8
// columns' quads) unpacked to int16 into Y1/Y2, then ROW (W16ROW, or
// W16FIRST for a tile's first quad) for the four rows' weights at BX.
#define W16QUAD(ROW, src) \
	VMOVDQU src, Y1; \
	VPUNPCKHBW Y0, Y1, Y2; \
	VPUNPCKLBW Y0, Y1, Y1; \
	ROW(0(BX), Y4, Y5); \
	ROW(8(BX), Y6, Y7); \
	ROW(16(BX), Y8, Y9); \
	ROW(24(BX), Y10, Y11)

// HSTORE(acc0, acc1) stores a row's 8 column sums at DX and moves DX to
// the next row (R10 bytes on).
#define HSTORE(acc0, acc1) \
	VPHADDD acc1, acc0, acc0; \
	VMOVDQU acc0, (DX); \
	ADDQ R10, DX

// HSTORE4 stores the tile's four rows from DX on (DX clobbered).
#define HSTORE4 \
	HSTORE(Y4, Y5); \
	HSTORE(Y6, Y7); \
	HSTORE(Y8, Y9); \
	HSTORE(Y10, Y11)

// func avx2w16x4(c *int32, ldc int, w *uint64, b *byte, k4, gs, n, panels int)
// computes panels 4-row panels (panel p's quad q of row r at
// w[(p·k4 + q)·4 + r], four int16) times n groups of B, gs bytes of B and
// 64 bytes of C apart: group by group, so that a group's B stays in L1
// while the panels' weights pass (half the L2 reads of panels outermost
// at resnet20's 64×576 layers: 1.13x), a half group at a time (R9: the
// half's byte offset in B's blocks and in C's rows, 0 or 32). R11 and R12
// are the panel's weights and C.
TEXT ·avx2w16x4(SB), NOSPLIT, $8-64
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R10
	SHLQ $2, R10
	MOVQ b+24(FP), SI
	MOVQ gs+40(FP), R8
	MOVQ n+48(FP), R13
	MOVQ k4+32(FP), AX
	SHLQ $5, AX
	IMULQ panels+56(FP), AX
	ADDQ w+16(FP), AX
	MOVQ AX, wend-8(SP) // past the last panel's weights
	TESTQ R13, R13
	JEQ avx2w16x4_done
	VPXOR Y0, Y0, Y0
avx2w16x4_group:
	MOVQ w+16(FP), R11
	MOVQ DI, R12
avx2w16x4_panel:
	XORQ R9, R9
avx2w16x4_half:
	LEAQ (SI)(R9*1), AX
	MOVQ R11, BX
	MOVQ k4+32(FP), CX
	// The first quad's products are the accumulators (no clear, no add:
	// a sixth of a tile's work on 4-quad layers).
	W16QUAD(W16FIRST, (AX))
	ADDQ $64, AX
	ADDQ $32, BX
	DECQ CX
	JEQ avx2w16x4_store
avx2w16x4_loop:
	W16QUAD(W16ROW, (AX))
	ADDQ $64, AX
	ADDQ $32, BX
	DECQ CX
	JNE avx2w16x4_loop
avx2w16x4_store:
	LEAQ (R12)(R9*1), DX
	HSTORE4
	ADDQ $32, R9
	CMPQ R9, $64
	JNE avx2w16x4_half
	MOVQ BX, R11 // the next panel's weights follow
	LEAQ (R12)(R10*4), R12
	CMPQ R11, wend-8(SP)
	JNE avx2w16x4_panel
	ADDQ $64, DI
	ADDQ R8, SI
	DECQ R13
	JNE avx2w16x4_group
avx2w16x4_done:
	VZEROUPPER
	RET

// func tapAVX2x4(acc *int32, ldc int, w *uint64, q *uint32, offs *int32, nk, n int)
// is the tap GEMM (tapconv.go) for a 4-row panel of int16 weights
// (w[k·4 + r]: row r's weights of the k-th (tap, channel quad) pair) on
// quad planes, pair k read at byte offset offs[k] from each vector's
// first position (tapPlan.offs16: one list, one loop): n vectors of 8
// flat positions, each as avx2w16x4's tile with the positions as its
// columns and the nk pairs as its k-quads.
TEXT ·tapAVX2x4(SB), NOSPLIT, $0-56
	MOVQ acc+0(FP), DI
	MOVQ ldc+8(FP), R10
	SHLQ $2, R10
	MOVQ w+16(FP), R11
	MOVQ q+24(FP), SI
	MOVQ offs+32(FP), R12
	MOVQ nk+40(FP), R8
	MOVQ n+48(FP), R13
	TESTQ R13, R13
	JEQ tapAVX2x4_done
	VPXOR Y0, Y0, Y0
tapAVX2x4_vec:
	MOVQ R11, BX
	MOVQ R12, DX
	MOVQ R8, CX
	MOVLQSX (DX), AX
	W16QUAD(W16FIRST, (SI)(AX*1))
	ADDQ $4, DX
	ADDQ $32, BX
	DECQ CX
	JEQ tapAVX2x4_store
tapAVX2x4_k:
	MOVLQSX (DX), AX
	W16QUAD(W16ROW, (SI)(AX*1))
	ADDQ $4, DX
	ADDQ $32, BX
	DECQ CX
	JNE tapAVX2x4_k
tapAVX2x4_store:
	MOVQ DI, DX
	HSTORE4
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ R13
	JNE tapAVX2x4_vec
tapAVX2x4_done:
	VZEROUPPER
	RET
