#include "textflag.h"

// The AMX int8 GEMM (see gemm_amx_amd64.go). Go's assembler does not know
// the tile instructions, so they are spelled as bytes (encodings checked
// with GNU as 2.40), each naming the registers the code below keeps them in.
// Every tile is 16 rows × 64 bytes (amxTileConfig): C tiles tmm0–tmm3
// (16 rows × 16 int32), the A tile tmm4 (16 weight rows × 16 k-quads),
// B tiles tmm6 and tmm7 (16 k-quads × 16 columns' 4 codes: one packed
// group's 16 blocks, as laid out by the packers).

#define LDTILECFG_AX BYTE $0xc4; BYTE $0xe2; BYTE $0x78; BYTE $0x49; BYTE $0x00
#define TILERELEASE BYTE $0xc4; BYTE $0xe2; BYTE $0x78; BYTE $0x49; BYTE $0xc0
#define TILEZERO_T0 BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x49; BYTE $0xc0
#define TILEZERO_T1 BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x49; BYTE $0xc8
#define TILEZERO_T2 BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x49; BYTE $0xd0
#define TILEZERO_T3 BYTE $0xc4; BYTE $0xe2; BYTE $0x7b; BYTE $0x49; BYTE $0xd8
// tileloadd tmm4, [rax + r12*1]: the A tile, rows lda bytes apart
#define LOAD_A_T4 BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0x24; BYTE $0x20
// tileloadd tmm6/tmm7, [rbx + r9*1]: a B tile, rows 64 bytes apart
#define LOAD_B_T6 BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0x34; BYTE $0x0b
#define LOAD_B_T7 BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0x3c; BYTE $0x0b
// tdpbsud tmmC, tmm4, tmmB: C += A (signed weights) · B (unsigned codes)
#define DP_T0_T4_T6 BYTE $0xc4; BYTE $0xe2; BYTE $0x4a; BYTE $0x5e; BYTE $0xc4
#define DP_T1_T4_T7 BYTE $0xc4; BYTE $0xe2; BYTE $0x42; BYTE $0x5e; BYTE $0xcc
#define DP_T2_T4_T6 BYTE $0xc4; BYTE $0xe2; BYTE $0x4a; BYTE $0x5e; BYTE $0xd4
#define DP_T3_T4_T7 BYTE $0xc4; BYTE $0xe2; BYTE $0x42; BYTE $0x5e; BYTE $0xdc
// tilestored [r13 + r10*1 + d], tmmC: C rows ldc·4 bytes apart
#define STORE_T0 BYTE $0xc4; BYTE $0x82; BYTE $0x7a; BYTE $0x4b; BYTE $0x44; BYTE $0x15; BYTE $0x00
#define STORE_T1 BYTE $0xc4; BYTE $0x82; BYTE $0x7a; BYTE $0x4b; BYTE $0x4c; BYTE $0x15; BYTE $0x40
#define STORE_T2 BYTE $0xc4; BYTE $0x82; BYTE $0x7a; BYTE $0x4b; BYTE $0x94; BYTE $0x15; BYTE $0x80; BYTE $0x00; BYTE $0x00; BYTE $0x00
#define STORE_T3 BYTE $0xc4; BYTE $0x82; BYTE $0x7a; BYTE $0x4b; BYTE $0x9c; BYTE $0x15; BYTE $0xc0; BYTE $0x00; BYTE $0x00; BYTE $0x00

// NEXT_MTILE moves the A pointer (DX, rows R12 bytes apart) and the C
// pointer (R13, rows R10 bytes apart) 16 rows on.
#define NEXT_MTILE \
	MOVQ R12, AX; \
	SHLQ $4, AX; \
	ADDQ AX, DX; \
	MOVQ R10, AX; \
	SHLQ $4, AX; \
	ADDQ AX, R13

// func amxGemm(c *int32, ldc int, w *int32, lda int, b *byte, gs, kc, mt, n4, n1 int, cfg *[64]byte)
// computes mt 16-row tiles of C for n4 blocks of four groups, then n1 single
// groups: kc chunks of 16 k-quads each, the A rows lda bytes apart, the
// B groups gs bytes apart.
TEXT ·amxGemm(SB), NOSPLIT, $24-88
	MOVQ cfg+80(FP), AX
	LDTILECFG_AX
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R10
	SHLQ $2, R10
	MOVQ w+16(FP), R11
	MOVQ lda+24(FP), R12
	MOVQ b+32(FP), SI
	MOVQ gs+40(FP), R8
	MOVQ $64, R9
	// back takes B's pointer from the fourth group of a chunk to the
	// first group of the next chunk.
	LEAQ (R8)(R8*2), AX
	SUBQ $1024, AX
	MOVQ AX, back-8(SP)
	MOVQ n4+64(FP), AX
	TESTQ AX, AX
	JEQ amx_singles
	MOVQ AX, left-16(SP)
amx_quad:
	MOVQ R11, DX
	MOVQ DI, R13
	MOVQ mt+56(FP), CX
	MOVQ CX, mleft-24(SP)
amx_mtile:
	TILEZERO_T0
	TILEZERO_T1
	TILEZERO_T2
	TILEZERO_T3
	MOVQ DX, AX
	MOVQ SI, BX
	MOVQ kc+48(FP), CX
amx_kloop:
	LOAD_A_T4
	LOAD_B_T6
	DP_T0_T4_T6
	ADDQ R8, BX
	LOAD_B_T7
	DP_T1_T4_T7
	ADDQ R8, BX
	LOAD_B_T6
	DP_T2_T4_T6
	ADDQ R8, BX
	LOAD_B_T7
	DP_T3_T4_T7
	SUBQ back-8(SP), BX
	ADDQ $64, AX
	DECQ CX
	JNE amx_kloop
	STORE_T0
	STORE_T1
	STORE_T2
	STORE_T3
	NEXT_MTILE
	DECQ mleft-24(SP)
	JNE amx_mtile
	ADDQ $256, DI
	LEAQ (SI)(R8*4), SI
	DECQ left-16(SP)
	JNE amx_quad
amx_singles:
	MOVQ n1+72(FP), AX
	TESTQ AX, AX
	JEQ amx_done
	MOVQ AX, left-16(SP)
amx_single:
	MOVQ R11, DX
	MOVQ DI, R13
	MOVQ mt+56(FP), CX
	MOVQ CX, mleft-24(SP)
amx_smtile:
	TILEZERO_T0
	MOVQ DX, AX
	MOVQ SI, BX
	MOVQ kc+48(FP), CX
amx_skloop:
	LOAD_A_T4
	LOAD_B_T6
	DP_T0_T4_T6
	ADDQ $1024, BX
	ADDQ $64, AX
	DECQ CX
	JNE amx_skloop
	STORE_T0
	NEXT_MTILE
	DECQ mleft-24(SP)
	JNE amx_smtile
	ADDQ $64, DI
	ADDQ R8, SI
	DECQ left-16(SP)
	JNE amx_single
amx_done:
	TILERELEASE
	RET

// tileloadd tmm4, [rdx + r12*1]: a tap's A tile, rows 64 bytes apart
#define LOAD_A_T4_DX BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0x24; BYTE $0x22
// tileloadd tmm6/tmm7, [rbx + r9*1 + d]: four consecutive B tiles, rows
// (quad planes) r9 bytes apart
#define LOAD_B0_T6 BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0x34; BYTE $0x0b
#define LOAD_B1_T7 BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0x7c; BYTE $0x0b; BYTE $0x40
#define LOAD_B2_T6 BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0xb4; BYTE $0x0b; BYTE $0x80; BYTE $0x00; BYTE $0x00; BYTE $0x00
#define LOAD_B3_T7 BYTE $0xc4; BYTE $0xa2; BYTE $0x7b; BYTE $0x4b; BYTE $0xbc; BYTE $0x0b; BYTE $0xc0; BYTE $0x00; BYTE $0x00; BYTE $0x00

// func amxTapConv(c *int32, ldc int, w *byte, q *uint32, qs, cs int, offs *int32, ntaps, nchunks, mt, nb4 int, cfg *[64]byte)
// computes a stride-1 convolution of one image as a sum over its kernel
// rows (see tapconv.go): for each of nb4 groups of 64 flat output
// positions and each of mt 16-row tiles of C, Σ over taps t and chunks h
// of A(m, t, h) · B, the B tiles read straight from the planes at q (rows
// qs bytes apart, chunks cs bytes apart) at the group's positions +
// offs[t]. The A tiles are 1 KiB each at w, in (m, t, h) order.
TEXT ·amxTapConv(SB), NOSPLIT, $40-96
	MOVQ cfg+88(FP), AX
	LDTILECFG_AX
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R10
	SHLQ $2, R10
	MOVQ q+24(FP), SI
	MOVQ qs+32(FP), R9
	MOVQ $64, R12
	// chunk: from one chunk's planes to the next
	MOVQ cs+40(FP), AX
	MOVQ AX, chunk-8(SP)
	MOVQ nb4+80(FP), AX
	TESTQ AX, AX
	JEQ tap_done
	MOVQ AX, groups-16(SP)
tap_group:
	MOVQ w+16(FP), DX
	MOVQ DI, R13
	MOVQ mt+72(FP), AX
	MOVQ AX, mleft-24(SP)
tap_mtile:
	TILEZERO_T0
	TILEZERO_T1
	TILEZERO_T2
	TILEZERO_T3
	MOVQ offs+48(FP), R8
	MOVQ ntaps+56(FP), AX
	MOVQ AX, tleft-32(SP)
tap_tap:
	MOVLQSX (R8), BX
	SHLQ $2, BX
	ADDQ SI, BX
	MOVQ nchunks+64(FP), CX
tap_chunk:
	LOAD_A_T4_DX
	LOAD_B0_T6
	DP_T0_T4_T6
	LOAD_B1_T7
	DP_T1_T4_T7
	LOAD_B2_T6
	DP_T2_T4_T6
	LOAD_B3_T7
	DP_T3_T4_T7
	ADDQ $1024, DX
	ADDQ chunk-8(SP), BX
	DECQ CX
	JNE tap_chunk
	ADDQ $4, R8
	DECQ tleft-32(SP)
	JNE tap_tap
	STORE_T0
	STORE_T1
	STORE_T2
	STORE_T3
	MOVQ R10, AX
	SHLQ $4, AX
	ADDQ AX, R13
	DECQ mleft-24(SP)
	JNE tap_mtile
	ADDQ $256, DI
	ADDQ $256, SI
	DECQ groups-16(SP)
	JNE tap_group
tap_done:
	TILERELEASE
	RET
