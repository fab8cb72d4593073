#include "textflag.h"

// The AVX2 int8 micro-kernels (see gemm_amd64.go): one 5-row weight panel
// (w[q·5 + r], as for VNNI) times single 16-column groups of B, each
// 64-byte block as two ymm halves of 8 columns. Per row and half:
// VPMADDUBSW (u8·s8 pairs summed to int16, saturating: the weights are
// split when that could happen, see gemm.go), VPMADDWD with ones (pairs
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

// HIROW(r, acc0, acc1, loop, done) runs row r's remainder quads (see
// avx2x5sparse): hs[r] to hs[r+1] of hq (quad indices) and hw (quads).
#define HIROW(r, acc0, acc1, loop, done) \
	MOVQ hs+72(FP), R9; \
	MOVLQSX (4*r)(R9), BX; \
	MOVLQSX (4*r+4)(R9), CX; \
	SUBQ BX, CX; \
	JEQ done; \
	MOVQ hq+64(FP), DX; \
	LEAQ (DX)(BX*4), DX; \
	MOVQ hw+56(FP), R9; \
	LEAQ (R9)(BX*4), BX; \
loop: \
	MOVLQSX (DX), AX; \
	SHLQ $6, AX; \
	ADDQ SI, AX; \
	VMOVDQU (AX), Y0; \
	VMOVDQU 32(AX), Y1; \
	MAC1((BX), acc0, acc1); \
	ADDQ $4, BX; \
	ADDQ $4, DX; \
	DECQ CX; \
	JNE loop; \
done:

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

// func avx2x5sparse(c *int32, ldc int, lo *int32, b *byte, k4, gs, n int, hw, hq, hs *int32)
// is avx2x5 on the split weights' lo (a panel, every pair safe) plus, for
// each of the panel's rows r, its quads hq[i] with a non-zero hi, i in
// [hs[r], hs[r+1]), times the hi quads hw[i] (see splitPairs): the second
// pass costs only where a row has weight pairs that could saturate.
TEXT ·avx2x5sparse(SB), NOSPLIT, $0-80
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R10
	SHLQ $2, R10
	MOVQ lo+16(FP), R11
	MOVQ b+24(FP), SI
	MOVQ k4+32(FP), R12
	MOVQ gs+40(FP), R8
	MOVQ n+48(FP), R13
	MOVL $0x00010001, AX
	VMOVQ AX, X14
	VPBROADCASTD X14, Y14 // int16 ones
	TESTQ R13, R13
	JEQ avx2x5sparse_done
avx2x5sparse_tile:
	ZERO10
	MOVQ SI, AX
	MOVQ R11, BX
	MOVQ R12, CX
avx2x5sparse_loop:
	VMOVDQU (AX), Y0
	VMOVDQU 32(AX), Y1
	MAC5(BX)
	ADDQ $64, AX
	ADDQ $20, BX
	DECQ CX
	JNE avx2x5sparse_loop
	HIROW(0, Y4, Y5, avx2x5sparse_row0, avx2x5sparse_row0done)
	HIROW(1, Y6, Y7, avx2x5sparse_row1, avx2x5sparse_row1done)
	HIROW(2, Y8, Y9, avx2x5sparse_row2, avx2x5sparse_row2done)
	HIROW(3, Y10, Y11, avx2x5sparse_row3, avx2x5sparse_row3done)
	HIROW(4, Y12, Y13, avx2x5sparse_row4, avx2x5sparse_row4done)
	STORE10
	ADDQ $64, DI
	ADDQ R8, SI
	DECQ R13
	JNE avx2x5sparse_tile
avx2x5sparse_done:
	VZEROUPPER
	RET
