#include "textflag.h"
#include "clamp_amd64.h"

// The max pool's gradient for 2×2 windows of stride 2 (poolback_amd64.go).

// POOLSEL selects, for one chunk of a row pair of dx, each position's dy
// where am names it, else 0: X0 holds the maxima's indices and X1 dy of up
// to 4 outputs, Y8 the indices of the chunk's row-0 positions, Y6 the row
// width in every lane; row 0's values end in Y2, row 1's in Y3.
#define POOLSEL \
	VPERMD Y0, Y12, Y0; \
	VPERMPS Y1, Y12, Y1; \
	VPCMPEQD Y8, Y0, Y2; \
	VPADDD Y6, Y8, Y3; \
	VPCMPEQD Y3, Y0, Y3; \
	VANDPS Y1, Y2, Y2; \
	VANDPS Y1, Y3, Y3

// POOLWIN masks Y2 and Y3 by the quantizer's window of pre (Y4 row 0, Y0
// row 1) and adds +0, so that −0 becomes what poolBackward's clear-then-add
// gives.
#define POOLWIN \
	WINDOW(Y2, Y4, Y14, Y13, Y1, Y2); \
	WINDOW(Y3, Y0, Y14, Y13, Y1, Y3)

// func pool2BackAVX2(dx, dy *float32, am *int32, pre *float32, rows, ow int, base int, lo, hi float32, masked int, idx *[4][8]int32)
// rows row pairs of dx (2·ow wide) from rows rows of dy and am (ow wide);
// base is the index am gives dx[0]. idx: the duplicating permutation
// (0,0,1,1,…), the lanes 0–7, the mask of the last chunk's 2·(ow mod 4)
// dx lanes and of its ow mod 4 am/dy lanes.
TEXT ·pool2BackAVX2(SB), NOSPLIT, $0-80
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ am+16(FP), R8
	MOVQ pre+24(FP), R9
	MOVQ rows+32(FP), BX
	MOVQ ow+40(FP), R13
	MOVQ masked+64(FP), R12
	MOVQ idx+72(FP), AX
	VMOVDQU (AX), Y12
	VMOVDQU 32(AX), Y11
	VMOVDQU 64(AX), Y10
	VMOVDQU 96(AX), Y9
	VBROADCASTSS lo+56(FP), Y14
	VBROADCASTSS hi+60(FP), Y13
	VXORPS Y5, Y5, Y5
	// No moves from general registers into vector ones (legacy SSE
	// encodings: with the upper halves dirty they cost ~100 ns each here):
	// the int32 lanes come from the arguments in memory.
	VPBROADCASTD ow+40(FP), Y6
	VPADDD Y6, Y6, Y6      // w in every lane
	VPCMPEQD Y7, Y7, Y7
	VPSRLD $31, Y7, Y7
	VPSLLD $3, Y7, Y7      // 8
	VPBROADCASTD base+48(FP), Y15
	VPADDD Y11, Y15, Y15   // row 0's positions of the first row pair
	LEAQ (R13)(R13*1), DX  // w = 2·ow
	SHLQ $2, DX            // a dx row in bytes
	TESTQ BX, BX
	JEQ pool2Back_done
pool2Back_row:
	VMOVDQU Y15, Y8
	VPADDD Y6, Y15, Y15
	VPADDD Y6, Y15, Y15
	MOVQ R13, CX
	SHRQ $2, CX
	JEQ pool2Back_tail
pool2Back_chunk:
	VMOVDQU (R8), X0
	VMOVUPS (SI), X1
	POOLSEL
	TESTQ R12, R12
	JEQ pool2Back_chunkstore
	VMOVUPS (R9), Y4
	VMOVUPS (R9)(DX*1), Y0
	POOLWIN
pool2Back_chunkstore:
	VADDPS Y5, Y2, Y2
	VADDPS Y5, Y3, Y3
	VMOVUPS Y2, (DI)
	VMOVUPS Y3, (DI)(DX*1)
	ADDQ $16, R8
	ADDQ $16, SI
	ADDQ $32, DI
	ADDQ $32, R9
	VPADDD Y7, Y8, Y8
	DECQ CX
	JNE pool2Back_chunk
pool2Back_tail:
	MOVQ R13, CX
	ANDQ $3, CX
	JEQ pool2Back_next
	VPMASKMOVD (R8), X9, X0
	VMASKMOVPS (SI), X9, X1
	POOLSEL
	TESTQ R12, R12
	JEQ pool2Back_tailstore
	VMASKMOVPS (R9), Y10, Y4
	VMASKMOVPS (R9)(DX*1), Y10, Y0
	POOLWIN
pool2Back_tailstore:
	VADDPS Y5, Y2, Y2
	VADDPS Y5, Y3, Y3
	VMASKMOVPS Y2, Y10, (DI)
	VMASKMOVPS Y3, Y10, (DI)(DX*1)
	LEAQ (R8)(CX*4), R8
	LEAQ (SI)(CX*4), SI
	LEAQ (DI)(CX*8), DI
	LEAQ (R9)(CX*8), R9
pool2Back_next:
	// DI and R9 are at row 1: skip it
	ADDQ DX, DI
	ADDQ DX, R9
	DECQ BX
	JNE pool2Back_row
pool2Back_done:
	VZEROUPPER
	RET
