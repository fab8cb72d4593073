#include "textflag.h"

// The int8 GEMM micro-kernel for arm64 with the dot-product extension (see
// gemm_arm64.go). SDOT multiplies signed bytes, and the activation codes
// are unsigned: each code x is flipped to x−128 (EOR 0x80) and the
// accumulators start at 128·Σ_k w (corr), so C = Σ w·(x−128) + 128·Σ w
// exactly, in int32. One 5-row panel (w[q·5 + r], as the amd64 kernels)
// times single 16-column groups: 20 accumulators V10–V29 (row r, columns
// 4j..4j+3 in V(10+4r+j)), B in V0–V3, the weight quad broadcast in V4.
// SDOT Vd.4S, Vn.16B, V4.16B adds to each int32 lane the four products of
// its bytes (Go's assembler lacks it: WORD encodings).

// func dot5x1(c *int32, ldc int, w *int32, corr *int32, b *byte, k4, gs, n int)
TEXT ·dot5x1(SB), NOSPLIT, $0-64
	MOVD c+0(FP), R0
	MOVD ldc+8(FP), R1
	LSL $2, R1, R1
	MOVD w+16(FP), R2
	MOVD corr+24(FP), R3
	MOVD b+32(FP), R4
	MOVD k4+40(FP), R5
	MOVD gs+48(FP), R6
	MOVD n+56(FP), R7
	VMOVI $128, V31.B16
	CBZ R7, dot_done
dot_tile:
	ADD $0, R3, R8
	VLD1R (R8), [V10.S4]
	VLD1R (R8), [V11.S4]
	VLD1R (R8), [V12.S4]
	VLD1R (R8), [V13.S4]
	ADD $4, R3, R8
	VLD1R (R8), [V14.S4]
	VLD1R (R8), [V15.S4]
	VLD1R (R8), [V16.S4]
	VLD1R (R8), [V17.S4]
	ADD $8, R3, R8
	VLD1R (R8), [V18.S4]
	VLD1R (R8), [V19.S4]
	VLD1R (R8), [V20.S4]
	VLD1R (R8), [V21.S4]
	ADD $12, R3, R8
	VLD1R (R8), [V22.S4]
	VLD1R (R8), [V23.S4]
	VLD1R (R8), [V24.S4]
	VLD1R (R8), [V25.S4]
	ADD $16, R3, R8
	VLD1R (R8), [V26.S4]
	VLD1R (R8), [V27.S4]
	VLD1R (R8), [V28.S4]
	VLD1R (R8), [V29.S4]
	MOVD R4, R9
	MOVD R2, R10
	MOVD R5, R11
dot_loop:
	VLD1.P 64(R9), [V0.B16, V1.B16, V2.B16, V3.B16]
	VEOR V31.B16, V0.B16, V0.B16
	VEOR V31.B16, V1.B16, V1.B16
	VEOR V31.B16, V2.B16, V2.B16
	VEOR V31.B16, V3.B16, V3.B16
	VLD1R.P 4(R10), [V4.S4]
	WORD $0x4e84940a // SDOT V10.4S, V0.16B, V4.16B
	WORD $0x4e84942b // SDOT V11.4S, V1.16B, V4.16B
	WORD $0x4e84944c // SDOT V12.4S, V2.16B, V4.16B
	WORD $0x4e84946d // SDOT V13.4S, V3.16B, V4.16B
	VLD1R.P 4(R10), [V4.S4]
	WORD $0x4e84940e // SDOT V14.4S, V0.16B, V4.16B
	WORD $0x4e84942f // SDOT V15.4S, V1.16B, V4.16B
	WORD $0x4e849450 // SDOT V16.4S, V2.16B, V4.16B
	WORD $0x4e849471 // SDOT V17.4S, V3.16B, V4.16B
	VLD1R.P 4(R10), [V4.S4]
	WORD $0x4e849412 // SDOT V18.4S, V0.16B, V4.16B
	WORD $0x4e849433 // SDOT V19.4S, V1.16B, V4.16B
	WORD $0x4e849454 // SDOT V20.4S, V2.16B, V4.16B
	WORD $0x4e849475 // SDOT V21.4S, V3.16B, V4.16B
	VLD1R.P 4(R10), [V4.S4]
	WORD $0x4e849416 // SDOT V22.4S, V0.16B, V4.16B
	WORD $0x4e849437 // SDOT V23.4S, V1.16B, V4.16B
	WORD $0x4e849458 // SDOT V24.4S, V2.16B, V4.16B
	WORD $0x4e849479 // SDOT V25.4S, V3.16B, V4.16B
	VLD1R.P 4(R10), [V4.S4]
	WORD $0x4e84941a // SDOT V26.4S, V0.16B, V4.16B
	WORD $0x4e84943b // SDOT V27.4S, V1.16B, V4.16B
	WORD $0x4e84945c // SDOT V28.4S, V2.16B, V4.16B
	WORD $0x4e84947d // SDOT V29.4S, V3.16B, V4.16B
	SUBS $1, R11, R11
	BNE dot_loop
	MOVD R0, R12
	VST1 [V10.S4, V11.S4, V12.S4, V13.S4], (R12)
	ADD R1, R12, R12
	VST1 [V14.S4, V15.S4, V16.S4, V17.S4], (R12)
	ADD R1, R12, R12
	VST1 [V18.S4, V19.S4, V20.S4, V21.S4], (R12)
	ADD R1, R12, R12
	VST1 [V22.S4, V23.S4, V24.S4, V25.S4], (R12)
	ADD R1, R12, R12
	VST1 [V26.S4, V27.S4, V28.S4, V29.S4], (R12)
	ADD $64, R0, R0
	ADD R6, R4, R4
	SUBS $1, R7, R7
	BNE dot_tile
dot_done:
	RET
