#include "textflag.h"

// The AVX-VNNI int8 micro-kernel (see gemm_amd64.go): the AVX2 kernel's
// layout (a 5-row weight panel times single 16-column groups of B, each
// 64-byte block as two ymm halves of 8 columns) with VPDPBUSD, which sums
// four u8·s8 products into int32 without the int16 saturation of
// VPMADDUBSW: one instruction per 32 multiply-adds, exact for any weights.
// 10 accumulators Y4–Y13, B in Y0/Y1, the weight broadcast in Y2.
//
// Go's assembler encodes VPDPBUSD with EVEX only (AVX512-VNNI + VL), which
// a CPU with AVX-VNNI but no AVX-512 cannot run, so the VEX form
// (VEX.256.66.0F38.W0 50 /r) is written as bytes: C4, then R̄X̄B̄ and map
// 0F38 (0xE2 for a destination Y0–Y7, 0x62 for Y8–Y15), then W=0, the
// inverted first source (B), L=1, pp=66, then the opcode and ModRM
// (11, destination, second source Y2).
#define VPDPBUSD_VEX(b1, b2, modrm) BYTE $0xC4; BYTE b1; BYTE b2; BYTE $0x50; BYTE modrm

// func avxvnni5(c *int32, ldc int, w *int32, b *byte, k4, gs, n int)
// computes n single groups, gs bytes of B and 64 bytes of C apart.
TEXT ·avxvnni5(SB), NOSPLIT, $0-56
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R10
	SHLQ $2, R10
	MOVQ w+16(FP), R11
	MOVQ b+24(FP), SI
	MOVQ k4+32(FP), R12
	MOVQ gs+40(FP), R8
	MOVQ n+48(FP), R13
	TESTQ R13, R13
	JEQ avxvnni5_done
avxvnni5_tile:
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	VPXOR Y10, Y10, Y10
	VPXOR Y11, Y11, Y11
	VPXOR Y12, Y12, Y12
	VPXOR Y13, Y13, Y13
	MOVQ SI, AX
	MOVQ R11, BX
	MOVQ R12, CX
avxvnni5_loop:
	VMOVDQU (AX), Y0
	VMOVDQU 32(AX), Y1
	VPBROADCASTD 0(BX), Y2
	VPDPBUSD_VEX($0xe2, $0x7d, $0xe2) // VPDPBUSD Y2, Y0, Y4
	VPDPBUSD_VEX($0xe2, $0x75, $0xea) // VPDPBUSD Y2, Y1, Y5
	VPBROADCASTD 4(BX), Y2
	VPDPBUSD_VEX($0xe2, $0x7d, $0xf2) // VPDPBUSD Y2, Y0, Y6
	VPDPBUSD_VEX($0xe2, $0x75, $0xfa) // VPDPBUSD Y2, Y1, Y7
	VPBROADCASTD 8(BX), Y2
	VPDPBUSD_VEX($0x62, $0x7d, $0xc2) // VPDPBUSD Y2, Y0, Y8
	VPDPBUSD_VEX($0x62, $0x75, $0xca) // VPDPBUSD Y2, Y1, Y9
	VPBROADCASTD 12(BX), Y2
	VPDPBUSD_VEX($0x62, $0x7d, $0xd2) // VPDPBUSD Y2, Y0, Y10
	VPDPBUSD_VEX($0x62, $0x75, $0xda) // VPDPBUSD Y2, Y1, Y11
	VPBROADCASTD 16(BX), Y2
	VPDPBUSD_VEX($0x62, $0x7d, $0xe2) // VPDPBUSD Y2, Y0, Y12
	VPDPBUSD_VEX($0x62, $0x75, $0xea) // VPDPBUSD Y2, Y1, Y13
	ADDQ $64, AX
	ADDQ $20, BX
	DECQ CX
	JNE avxvnni5_loop
	MOVQ DI, DX
	VMOVDQU Y4, 0(DX)
	VMOVDQU Y5, 32(DX)
	ADDQ R10, DX
	VMOVDQU Y6, 0(DX)
	VMOVDQU Y7, 32(DX)
	ADDQ R10, DX
	VMOVDQU Y8, 0(DX)
	VMOVDQU Y9, 32(DX)
	ADDQ R10, DX
	VMOVDQU Y10, 0(DX)
	VMOVDQU Y11, 32(DX)
	ADDQ R10, DX
	VMOVDQU Y12, 0(DX)
	VMOVDQU Y13, 32(DX)
	ADDQ $64, DI
	ADDQ R8, SI
	DECQ R13
	JNE avxvnni5_tile
avxvnni5_done:
	VZEROUPPER
	RET
