#include "textflag.h"
#include "requant_amd64.h"

// AVX-512 (F, BW, DQ, VL; VBMI for packDirect512) helpers of the integer
// runtime, each the exact twin of a scalar function (see helpers_amd64.go).
// Z15 is left alone (Go's ABIInternal zero register).

// REQUANT16 requantizes the 16 int32 lanes of Z0 in place (see
// requantScalars.set for the formula): clamp for the exact saturating bias
// add (Z16, Z17), ·M0 (Z19) on even and odd lanes into 64 bits, + the
// channel's constant (Z27: the bias times M0 and both roundings' nudges),
// − 2^31 (Z29) where the doubling high product would be negative (below
// Z28), one arithmetic shift by 31 + exp (X30) for both roundings, the
// low halves gathered back into dwords (Z31's index), + Z_Y (Z22), clamp
// to [lo, hi] (Z23, Z24).
#define REQUANT16 \
	VPMINSD Z16, Z0, Z0; \
	VPMAXSD Z17, Z0, Z0; \
	REQUANT16_CORE

// REQUANT16_PRODUCT: the even and odd lanes of Z0 times M0 (Z19) into 64
// bits (Z1, Z2), + the channel's constant (Z27).
#define REQUANT16_PRODUCT \
	VPMULDQ Z19, Z0, Z1; \
	VPSRLQ $32, Z0, Z2; \
	VPMULDQ Z19, Z2, Z2; \
	VPADDQ Z27, Z1, Z1; \
	VPADDQ Z27, Z2, Z2

// REQUANT16_SHIFT: Z1 and Z2 shifted right by 31 + exp (X30), their low
// dwords back in lane order in Z1.
#define REQUANT16_SHIFT \
	VPSRAQ X30, Z1, Z1; \
	VPSRAQ X30, Z2, Z2; \
	VPERMT2D Z2, Z31, Z1

// REQUANT16_CLAMP: Z0 = Z1 + Z_Y (Z22), clamped to [lo, hi] (Z23, Z24).
#define REQUANT16_CLAMP \
	VPADDD Z22, Z1, Z0; \
	VPMAXSD Z23, Z0, Z0; \
	VPMINSD Z24, Z0, Z0

// REQUANT16_CORE is REQUANT16 without the clamp for the bias add: for
// channels whose accumulators cannot bring the sum past int32
// (requantScalars.exactSum). The correction: − 2^31 (Z29) where the
// doubling high product is negative (below Z28).
#define REQUANT16_CORE \
	REQUANT16_PRODUCT; \
	VPCMPQ $1, Z28, Z1, K4; \
	VPCMPQ $1, Z28, Z2, K5; \
	VPSUBQ Z29, Z1, K4, Z1; \
	VPSUBQ Z29, Z2, K5, Z2; \
	REQUANT16_SHIFT; \
	REQUANT16_CLAMP

// REQUANT16_NONEG is REQUANT16_CORE without the correction for a negative
// doubling high product: where exp = 0 it is none, and where lo ≥ Z_Y both
// results are ≤ 0 before Z_Y is added, so the clamp takes lo either way
// (requantScalars.noNeg). Eleven instructions instead of fifteen.
#define REQUANT16_NONEG \
	REQUANT16_PRODUCT; \
	REQUANT16_SHIFT; \
	REQUANT16_CLAMP

// REQUANT16_RELU8 is REQUANT16_NONEG for Z_Y = lo = 0 and hi = 255 (a
// fused ReLU's usual operands, requantScalars.relu8), narrowed by
// VPMOVUSDB: no Z_Y to add, and the narrowing saturates at 255 in place
// of the clamp to hi. Nine instructions.
#define REQUANT16_RELU8 \
	REQUANT16_PRODUCT; \
	REQUANT16_SHIFT; \
	VPMAXSD Z23, Z1, Z0

// REQUANT16_SETUP loads REQUANT16's operands from the requantScalars at
// AX: hib, lob, M0, Z_Y, lo, hi (dwords), the channel's constant, the
// negative-product threshold and its correction (qwords), 31 + exp, and
// the low-dword gather index.
#define REQUANT16_SETUP \
	VPBROADCASTD 0(AX), Z16; \
	VPBROADCASTD 4(AX), Z17; \
	VPBROADCASTD 12(AX), Z19; \
	VPBROADCASTD 24(AX), Z22; \
	VPBROADCASTD 28(AX), Z23; \
	VPBROADCASTD 32(AX), Z24; \
	VPBROADCASTQ 56(AX), Z27; \
	VPBROADCASTQ 64(AX), Z28; \
	VPBROADCASTQ 72(AX), Z29; \
	VMOVQ 80(AX), X30; \
	VMOVDQU32 requantLows<>(SB), Z31



// REQUANTF8_SETUP loads the float kernel's operands (rqFloat8,
// floatrequant.go) from the requantScalars at AX: the bias (Z16), fc
// (Z17), fd (Z19), and zero (Z23).
#define REQUANTF8_SETUP \
	VPBROADCASTD 8(AX), Z16; \
	VBROADCASTSS 36(AX), Z17; \
	VBROADCASTSS 92(AX), Z19; \
	VPXORD Z23, Z23, Z23

// REQUANTF8: the float kernel on the accumulators in Z0, into Z0: + bias,
// to float, × fc + fd rounded toward −∞, truncated, clamped at 0 (the
// unsigned narrowing clamps at 255). Five instructions instead of
// REQUANT16_RELU8's nine.
#define REQUANTF8 \
	VPADDD Z16, Z0, Z0; \
	VCVTDQ2PS Z0, Z0; \
	VFMADD213PS.RD_SAE Z19, Z17, Z0; \
	VCVTTPS2DQ Z0, Z0; \
	VPMAXSD Z23, Z0, Z0

// REQUANTFS_SETUP loads the symmetric float kernel's operands
// (rqFloatSym) from the requantScalars at AX: the bias (Z16), fc (Z17),
// fd (Z19), Z_Y, lo, hi (Z22–Z24) and the sign bit (Z25).
#define REQUANTFS_SETUP \
	VPBROADCASTD 8(AX), Z16; \
	VBROADCASTSS 36(AX), Z17; \
	VBROADCASTSS 92(AX), Z19; \
	VPBROADCASTD 24(AX), Z22; \
	VPBROADCASTD 28(AX), Z23; \
	VPBROADCASTD 32(AX), Z24; \
	VPTERNLOGD $0xFF, Z25, Z25, Z25; \
	VPSLLD $31, Z25, Z25

// REQUANTFS: the symmetric float kernel on the accumulators in Z0, into
// Z0: x = Z0 + bias, |x| to float, × fc + fd rounded toward −∞, x's sign
// copied in, truncated, + Z_Y, clamped to [lo, hi]. Nine instructions
// instead of REQUANT16_CORE's fifteen.
#define REQUANTFS \
	VPADDD Z16, Z0, Z0; \
	VPABSD Z0, Z2; \
	VCVTDQ2PS Z2, Z2; \
	VFMADD213PS.RD_SAE Z19, Z17, Z2; \
	VPTERNLOGD $0xF8, Z25, Z0, Z2; \
	VCVTTPS2DQ Z2, Z2; \
	VPADDD Z22, Z2, Z0; \
	VPMAXSD Z23, Z0, Z0; \
	VPMINSD Z24, Z0, Z0

// dwQuadBytes turns each 128-bit lane of four channels' packed codes (a's
// four positions, b's, c's, d's) into a dword of the four channels per
// position (dwPermQuad512*).
DATA dwQuadBytes<>+0(SB)/4, $0x0c080400
DATA dwQuadBytes<>+4(SB)/4, $0x0d090501
DATA dwQuadBytes<>+8(SB)/4, $0x0e0a0602
DATA dwQuadBytes<>+12(SB)/4, $0x0f0b0703
DATA dwQuadBytes<>+16(SB)/4, $0x0c080400
DATA dwQuadBytes<>+20(SB)/4, $0x0d090501
DATA dwQuadBytes<>+24(SB)/4, $0x0e0a0602
DATA dwQuadBytes<>+28(SB)/4, $0x0f0b0703
DATA dwQuadBytes<>+32(SB)/4, $0x0c080400
DATA dwQuadBytes<>+36(SB)/4, $0x0d090501
DATA dwQuadBytes<>+40(SB)/4, $0x0e0a0602
DATA dwQuadBytes<>+44(SB)/4, $0x0f0b0703
DATA dwQuadBytes<>+48(SB)/4, $0x0c080400
DATA dwQuadBytes<>+52(SB)/4, $0x0d090501
DATA dwQuadBytes<>+56(SB)/4, $0x0e0a0602
DATA dwQuadBytes<>+60(SB)/4, $0x0f0b0703
GLOBL dwQuadBytes<>(SB), RODATA|NOPTR, $64

// ADD_LOOK(I, K, OFF, D, T): D = the byte plane at OFF(R9) (256 bytes) at
// the 64 byte indexes in I: one VPERMT2B for each half of the plane, the
// upper half's lanes (K: index ≥ 128) blended in.
#define ADD_LOOK(I, K, OFF, D, T) \
	VMOVDQU64 OFF(R9), D; \
	VPERMT2B OFF+64(R9), I, D; \
	VMOVDQU64 OFF+128(R9), T; \
	VPERMT2B OFF+192(R9), I, T; \
	VPBLENDMB T, D, K, D

// ADD_TABLE(I, K, OFF, P0, P1, P2, P3, T, W0, W1, W2, W3): the int32
// table entries of the 64 indexes in I from its four byte planes at
// OFF(R9), as dwords in P0–P3 in the lane order the unpacks leave (per
// 128-bit lane: bytes 0–3, 4–7, 8–11, 12–15), which the packs at the end
// of ADD_PAIRS undo.
#define ADD_TABLE(I, K, OFF, P0, P1, P2, P3, T, W0, W1, W2, W3) \
	ADD_LOOK(I, K, OFF, P0, T); \
	ADD_LOOK(I, K, OFF+256, P1, T); \
	ADD_LOOK(I, K, OFF+512, P2, T); \
	ADD_LOOK(I, K, OFF+768, P3, T); \
	VPUNPCKLBW P1, P0, W0; \
	VPUNPCKHBW P1, P0, W1; \
	VPUNPCKLBW P3, P2, W2; \
	VPUNPCKHBW P3, P2, W3; \
	VPUNPCKLWD W2, W0, P0; \
	VPUNPCKHWD W2, W0, P1; \
	VPUNPCKLWD W3, W1, P2; \
	VPUNPCKHWD W3, W1, P3

// ADD_RQ(RQ, X, Y): X = RQ(X + Y).
#define ADD_RQ(RQ, X, Y) \
	VPADDD Y, X, Z0; \
	RQ; \
	VMOVDQA64 Z0, X

// ADD_RQ_CORE, ADD_RQ_NONEG, ADD_RQ_RELU8: ADD_RQ by each requantization
// kernel.
#define ADD_RQ_CORE(X, Y) ADD_RQ(REQUANT16_CORE, X, Y)
#define ADD_RQ_NONEG(X, Y) ADD_RQ(REQUANT16_NONEG, X, Y)
#define ADD_RQ_RELU8(X, Y) ADD_RQ(REQUANT16_RELU8, X, Y)

// ADD_SHIFT(X, Y): X = (X + Y) >> 21, the code of a pair from
// newAddShift's entries (the packs clamp it to [0, 255]).
#define ADD_SHIFT(X, Y) \
	VPADDD Y, X, X; \
	VPSRAD $21, X, X

// ADD_SHIFT_CLAMP(X, Y) is ADD_SHIFT clamped to [lo, hi] (Z23, Z24).
#define ADD_SHIFT_CLAMP(X, Y) \
	ADD_SHIFT(X, Y); \
	VPMAXSD Z23, X, X; \
	VPMINSD Z24, X, X

// ADD_CLAMP_SETUP loads the lo and hi of the requantScalars at AX (Z23,
// Z24) for ADD_SHIFT_CLAMP.
#define ADD_CLAMP_SETUP \
	VPBROADCASTD 28(AX), Z23; \
	VPBROADCASTD 32(AX), Z24

// ADD_PAIRS(SETUP, COMBINE) is the body of addPairs512*: 64 pairs a step,
// each input code's table entry looked up from its byte planes
// (VPERMT2B), the two entries combined by COMBINE (the output's operands
// at c, loaded by SETUP: a requantization of their sum, ADD_RQ_*, or
// newAddShift's sum and shift), narrowed by the signed-saturating packs
// (the codes are in [0, 255] after the clamps, or ≥ 0 where the narrowing
// itself caps them at 255).
#define ADD_PAIRS(SETUP, COMBINE) \
	MOVQ c+40(FP), AX; \
	SETUP; \
	MOVQ dst+0(FP), DI; \
	MOVQ a+8(FP), SI; \
	MOVQ b+16(FP), DX; \
	MOVQ n+24(FP), CX; \
	MOVQ tabs+32(FP), R9; \
	SHRQ $6, CX; \
	JEQ ap_done; \
ap_loop: \
	VMOVDQU64 (SI), Z3; \
	VMOVDQU64 (DX), Z4; \
	VPMOVB2M Z3, K1; \
	VPMOVB2M Z4, K2; \
	ADD_TABLE(Z3, K1, 0, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13); \
	ADD_TABLE(Z4, K2, 1024, Z9, Z10, Z11, Z12, Z13, Z14, Z18, Z20, Z21); \
	COMBINE(Z5, Z9); \
	COMBINE(Z6, Z10); \
	COMBINE(Z7, Z11); \
	COMBINE(Z8, Z12); \
	VPACKSSDW Z6, Z5, Z5; \
	VPACKSSDW Z8, Z7, Z7; \
	VPACKUSWB Z7, Z5, Z5; \
	VMOVDQU64 Z5, (DI); \
	ADDQ $64, SI; \
	ADDQ $64, DX; \
	ADDQ $64, DI; \
	DECQ CX; \
	JNE ap_loop; \
ap_done: \
	VZEROUPPER; \
	RET

// REQUANT_RELU8_BLOCK4 is REQUANT_ROWS' loop for the relu8 kernel, 64
// values at a time while CX holds at least four vectors: each vector's
// REQUANT16_RELU8 without its clamp at 0, the four narrowed together by
// saturating packs (int32 → int16 → uint8: the clamp to [0, 255]) and put
// back in order by one dword permute. 41 instructions for 64 values
// instead of 48, 8 of them shuffles instead of 8 permutes and 4
// two-shuffle narrowings.
#define REQUANT_RELU8_BLOCK4 \
	VMOVDQU32 requantPacked<>(SB), Z14; \
rq4_loop: \
	CMPQ CX, $4; \
	JLT rq4_done; \
	VMOVDQU32 (SI), Z0; \
	REQUANT16_PRODUCT; \
	REQUANT16_SHIFT; \
	VMOVDQA64 Z1, Z3; \
	VMOVDQU32 64(SI), Z0; \
	REQUANT16_PRODUCT; \
	REQUANT16_SHIFT; \
	VMOVDQA64 Z1, Z4; \
	VMOVDQU32 128(SI), Z0; \
	REQUANT16_PRODUCT; \
	REQUANT16_SHIFT; \
	VMOVDQA64 Z1, Z5; \
	VMOVDQU32 192(SI), Z0; \
	REQUANT16_PRODUCT; \
	REQUANT16_SHIFT; \
	VPACKSSDW Z4, Z3, Z3; \
	VPACKSSDW Z1, Z5, Z5; \
	VPACKUSWB Z5, Z3, Z3; \
	VPERMD Z3, Z14, Z3; \
	VMOVDQU64 Z3, (DI); \
	ADDQ $256, SI; \
	ADDQ $64, DI; \
	SUBQ $4, CX; \
	JMP rq4_loop; \
rq4_done: \
	NOP

// REQUANTF8_BLOCK4 is REQUANT_RELU8_BLOCK4 for the float kernel
// (REQUANTF8 without its clamp at 0: the packs saturate).
#define REQUANTF8_BLOCK4 \
	VMOVDQU32 requantPacked<>(SB), Z14; \
rqf4_loop: \
	CMPQ CX, $4; \
	JLT rqf4_done; \
	VPADDD (SI), Z16, Z3; \
	VPADDD 64(SI), Z16, Z4; \
	VPADDD 128(SI), Z16, Z5; \
	VPADDD 192(SI), Z16, Z1; \
	VCVTDQ2PS Z3, Z3; \
	VCVTDQ2PS Z4, Z4; \
	VCVTDQ2PS Z5, Z5; \
	VCVTDQ2PS Z1, Z1; \
	VFMADD213PS.RD_SAE Z19, Z17, Z3; \
	VFMADD213PS.RD_SAE Z19, Z17, Z4; \
	VFMADD213PS.RD_SAE Z19, Z17, Z5; \
	VFMADD213PS.RD_SAE Z19, Z17, Z1; \
	VCVTTPS2DQ Z3, Z3; \
	VCVTTPS2DQ Z4, Z4; \
	VCVTTPS2DQ Z5, Z5; \
	VCVTTPS2DQ Z1, Z1; \
	VPACKSSDW Z4, Z3, Z3; \
	VPACKSSDW Z1, Z5, Z5; \
	VPACKUSWB Z5, Z3, Z3; \
	VPERMD Z3, Z14, Z3; \
	VMOVDQU64 Z3, (DI); \
	ADDQ $256, SI; \
	ADDQ $64, DI; \
	SUBQ $4, CX; \
	JMP rqf4_loop; \
rqf4_done: \
	NOP

// REQUANT_ROWS_NOBLOCK is REQUANT_ROWS' BLOCK4 for the other kernels:
// none.
#define REQUANT_ROWS_NOBLOCK NOP

// REQUANT_ROWS(SETUP, RQ, NARROW, BLOCK4) is the body of requantRowsCh512*: for each of
// channels channels (operands cs bytes apart from c, loaded by SETUP; accumulators chRow
// int32s and outputs chOut bytes after the previous channel's), RQ on
// every 16 lanes of count rows of n ≥ 0 values (rowStride int32s apart at
// row, written outStride bytes apart at out), each row's last n mod 16
// under a mask; a channel's operands are set up once for all its rows (a
// chunk's images of 4×4 planes are one vector each). Frame: three locals.
// Its labels are local to the function it is used in.
#define REQUANT_ROWS(SETUP, RQ, NARROW, BLOCK4) \
	MOVQ c+48(FP), AX; \
	MOVQ AX, rq-8(SP); \
	MOVQ out+0(FP), AX; \
	MOVQ AX, chout-16(SP); \
	MOVQ row+16(FP), AX; \
	MOVQ AX, chrow-24(SP); \
	MOVQ channels+80(FP), R12; \
	TESTQ R12, R12; \
	JEQ rq_done; \
	MOVQ n+40(FP), DX; \
	MOVQ DX, CX; \
	ANDQ $15, CX; \
	MOVL $1, BX; \
	SHLL CX, BX; \
	DECL BX; \
	KMOVW BX, K3; \
	SHRQ $4, DX; \
	MOVQ rowStride+24(FP), R10; \
	SHLQ $2, R10; \
rq_ch: \
	MOVQ rq-8(SP), AX; \
	SETUP; \
	MOVQ chout-16(SP), R8; \
	MOVQ chrow-24(SP), R9; \
	MOVQ count+32(FP), R11; \
	TESTQ R11, R11; \
	JEQ rq_next; \
rq_row: \
	MOVQ R8, DI; \
	MOVQ R9, SI; \
	MOVQ DX, CX; \
	BLOCK4; \
	TESTQ CX, CX; \
	JEQ rq_tail; \
rq_loop: \
	VMOVDQU32 (SI), Z0; \
	RQ; \
	NARROW Z0, X0; \
	VMOVDQU X0, (DI); \
	ADDQ $64, SI; \
	ADDQ $16, DI; \
	DECQ CX; \
	JNE rq_loop; \
rq_tail: \
	KORTESTW K3, K3; \
	JEQ rq_rownext; \
	VMOVDQU32.Z (SI), K3, Z0; \
	RQ; \
	NARROW Z0, X0; \
	VMOVDQU8 X0, K3, (DI); \
rq_rownext: \
	ADDQ outStride+8(FP), R8; \
	ADDQ R10, R9; \
	DECQ R11; \
	JNE rq_row; \
rq_next: \
	MOVQ chOut+56(FP), AX; \
	ADDQ AX, chout-16(SP); \
	MOVQ chRow+64(FP), AX; \
	SHLQ $2, AX; \
	ADDQ AX, chrow-24(SP); \
	MOVQ cs+72(FP), AX; \
	ADDQ AX, rq-8(SP); \
	DECQ R12; \
	JNE rq_ch; \
rq_done: \
	VZEROUPPER; \
	RET

// REQUANT_FLAT(SETUP, RQ, NARROW) is the body of requantFlatCh512*: for each of
// channels channels (operands cs bytes apart from c, accumulators
// rowStride int32s and outputs outStride bytes after the previous
// channel's), RQ on nblocks vectors of 16 accumulators at row, writing for
// each only the lanes its mask selects, packed (VPCOMPRESSD), after the
// previous vector's. VPCOMPRESSD waits for its destination's old value
// even under a zeroing mask (Zen 5): zeroed first by an idiom, or a
// kernel that leaves Z1 alone (REQUANTF8) runs 2.5x slower. Its labels
// are local to the function it is used in.
#define REQUANT_FLAT(SETUP, RQ, NARROW) \
	MOVQ c+48(FP), R13; \
	MOVQ out+0(FP), R11; \
	MOVQ row+16(FP), R12; \
	MOVQ channels+64(FP), R10; \
	TESTQ R10, R10; \
	JEQ rf_done; \
rf_ch: \
	MOVQ R13, AX; \
	SETUP; \
	MOVQ R11, DI; \
	MOVQ R12, SI; \
	MOVQ masks+32(FP), R8; \
	MOVQ nblocks+40(FP), CX; \
	TESTQ CX, CX; \
	JEQ rf_next; \
rf_loop: \
	MOVWLZX (R8), BX; \
	TESTL BX, BX; \
	JEQ rf_skip; \
	KMOVW BX, K2; \
	VMOVDQU32 (SI), Z0; \
	RQ; \
	VPXORD Z1, Z1, Z1; \
	VPCOMPRESSD Z0, K2, Z1; \
	NARROW Z1, X1; \
	POPCNTL BX, DX; \
	MOVQ $-1, R9; \
	BZHIQ DX, R9, R9; \
	KMOVW R9, K3; \
	VMOVDQU8 X1, K3, (DI); \
	ADDQ DX, DI; \
rf_skip: \
	ADDQ $64, SI; \
	ADDQ $2, R8; \
	DECQ CX; \
	JNE rf_loop; \
rf_next: \
	ADDQ outStride+8(FP), R11; \
	MOVQ rowStride+24(FP), DX; \
	LEAQ (R12)(DX*4), R12; \
	ADDQ cs+56(FP), R13; \
	DECQ R10; \
	JNE rf_ch; \
rf_done: \
	VZEROUPPER; \
	RET

// PACK_QUAD16(R0, R1, R2, R3) stores at DI one packed-B block: in 32-bit
// lane l the bytes R0[l], R1[l], R2[l], R3[l] (low to high) of four rows'
// 16 codes (packQuad512, packPointwise512).
#define PACK_QUAD16(R0, R1, R2, R3) \
	VPMOVZXBD R0, Z0; \
	VPMOVZXBD R1, Z1; \
	VPMOVZXBD R2, Z2; \
	VPMOVZXBD R3, Z3; \
	VPSLLD $8, Z1, Z1; \
	VPSLLD $16, Z2, Z2; \
	VPSLLD $24, Z3, Z3; \
	VPORD Z1, Z0, Z0; \
	VPTERNLOGD $0xFE, Z3, Z2, Z0; \
	VMOVDQU32 Z0, (DI)

// DWQ_TAP(IDX, WIN, SECOND, WOFF): a kernel row of one channel of the
// four: the window WIN's codes (SECOND: the zero points, or a 128-byte
// window's upper half) at the row's indexes IDX, times the channel's row
// weights broadcast from WOFF(R12), into Z0.
#define DWQ_TAP(IDX, WIN, SECOND, WOFF) \
	VMOVDQA64 IDX, Z10; \
	VPERMI2B SECOND, WIN, Z10; \
	VPDPBUSD.BCST WOFF(R12), Z10, Z0

// DWQ_CHAN(WIN, SECOND, WOFF, ROFF): one channel of the four: its three
// kernel rows (weights from WOFF(R12)), then the products and shifts of
// REQUANT16_RELU8 with its operands at ROFF(R13), the result in Z1 (the
// clamp is the packs' saturation, DW_PERM_QUAD).
#define DWQ_CHAN(WIN, SECOND, WOFF, ROFF, FC, FD) \
	VPXORD Z0, Z0, Z0; \
	DWQ_TAP(Z24, WIN, SECOND, WOFF+0); \
	DWQ_TAP(Z25, WIN, SECOND, WOFF+4); \
	DWQ_TAP(Z26, WIN, SECOND, WOFF+8); \
	VPMULDQ.BCST ROFF+12(R13), Z0, Z1; \
	VPSRLQ $32, Z0, Z2; \
	VPMULDQ.BCST ROFF+12(R13), Z2, Z2; \
	VPADDQ.BCST ROFF+56(R13), Z1, Z1; \
	VPADDQ.BCST ROFF+56(R13), Z2, Z2; \
	VPSRAQ ROFF+80(R13), Z1, Z1; \
	VPSRAQ ROFF+80(R13), Z2, Z2; \
	VPERMT2D Z2, Z31, Z1

// DWQ_CHANF(WIN, SECOND, WOFF, ROFF, FC, FD) is DWQ_CHAN by the float
// kernel (rqFloat8): the accumulator starts at the channel's bias, then
// to float, × FC + FD rounded toward −∞ (DWQ_FSETUP's registers),
// truncated, in Z1.
#define DWQ_CHANF(WIN, SECOND, WOFF, ROFF, FC, FD) \
	VPBROADCASTD ROFF+8(R13), Z0; \
	DWQ_TAP(Z24, WIN, SECOND, WOFF+0); \
	DWQ_TAP(Z25, WIN, SECOND, WOFF+4); \
	DWQ_TAP(Z26, WIN, SECOND, WOFF+8); \
	VCVTDQ2PS Z0, Z1; \
	VFMADD213PS.RD_SAE FD, FC, Z1; \
	VCVTTPS2DQ Z1, Z1

// DWQ_FSETUP: the quad's float slopes (Z20–Z23) and offsets (Z27–Z30),
// per quad (DW_PERM_QUAD's QSETUP for DWQ_CHANF).
#define DWQ_FSETUP \
	VBROADCASTSS 36(R13), Z20; \
	VBROADCASTSS 132(R13), Z21; \
	VBROADCASTSS 228(R13), Z22; \
	VBROADCASTSS 324(R13), Z23; \
	VBROADCASTSS 92(R13), Z27; \
	VBROADCASTSS 188(R13), Z28; \
	VBROADCASTSS 284(R13), Z29; \
	VBROADCASTSS 380(R13), Z30

// DWQ_PLANE loads an image's four planes (whole, the first record's load
// mask) into Z4–Z7: dwPermQuad512Plane's per-image step.
#define DWQ_PLANE \
	KMOVQ 200(BX), K1; \
	VMOVDQU8.Z (SI), K1, Z4; \
	VMOVDQU8.Z (SI)(CX*1), K1, Z5; \
	VMOVDQU8.Z (SI)(CX*2), K1, Z6; \
	LEAQ (SI)(CX*2), DX; \
	VMOVDQU8.Z (DX)(CX*1), K1, Z7

// DWQ_WINDOWS loads the current vector's 64-byte windows of the four
// planes into Z4–Z7: dwPermQuad512's per-vector step.
#define DWQ_WINDOWS \
	MOVQ 192(BX), AX; \
	LEAQ (SI)(AX*1), DX; \
	KMOVQ 200(BX), K1; \
	VMOVDQU8.Z (DX), K1, Z4; \
	VMOVDQU8.Z (DX)(CX*1), K1, Z5; \
	VMOVDQU8.Z (DX)(CX*2), K1, Z6; \
	LEAQ (DX)(CX*2), DX; \
	VMOVDQU8.Z (DX)(CX*1), K1, Z7

// DWQ_WIDE_WINDOW(LO, HI, ADDR, ADDR64): one plane's 128-byte window,
// both loads merged into zero points.
#define DWQ_WIDE_WINDOW(LO, HI, ADDR, ADDR64) \
	VMOVDQA64 Z8, LO; \
	VMOVDQA64 Z8, HI; \
	VMOVDQU8 ADDR, K1, LO; \
	VMOVDQU8 ADDR64, K2, HI

// DWQ_WIDE_WINDOWS loads the current vector's 128-byte windows of the
// four planes into Z4–Z7 and Z11–Z14: dwPermQuad512Wide's per-vector step.
#define DWQ_WIDE_WINDOWS \
	MOVQ 192(BX), AX; \
	LEAQ (SI)(AX*1), DX; \
	KMOVQ 200(BX), K1; \
	KMOVQ 208(BX), K2; \
	DWQ_WIDE_WINDOW(Z4, Z11, (DX), 64(DX)); \
	DWQ_WIDE_WINDOW(Z5, Z12, (DX)(CX*1), 64(DX)(CX*1)); \
	DWQ_WIDE_WINDOW(Z6, Z13, (DX)(CX*2), 64(DX)(CX*2)); \
	LEAQ (DX)(CX*2), DX; \
	DWQ_WIDE_WINDOW(Z7, Z14, (DX)(CX*1), 64(DX)(CX*1))

// DW_PERM_QUAD(IMG, VEC, S4, S5, S6, S7, CHAN, QSETUP) is the body of
// dwPermQuad512{,Wide,Plane}{,F}: IMG the per-image loads, VEC the per-vector
// ones, S4–S7 each window's second table (Z8, the zero points, or the
// window's upper half), CHAN a channel's requantized accumulator
// (DWQ_CHAN, DWQ_CHANF) after QSETUP once a quad. For each quad of channels, image and vector
// record: the three index rows once, the four channels (DWQ_CHAN), their
// codes narrowed together by saturating packs (the clamp to [0, 255];
// per 128-bit lane four positions of each channel in turn) and one byte
// shuffle into a dword of four channels per position, stored under the
// record's lane mask. Frame: one local (the records' end). Its labels are
// local to the function it is used in.
#define DW_PERM_QUAD(IMG, VEC, S4, S5, S6, S7, CHAN, QSETUP) \
	MOVQ zx+88(FP), AX; \
	VPBROADCASTB AX, Z8; \
	VMOVDQU32 requantLows<>(SB), Z31; \
	VMOVDQU32 dwQuadBytes<>(SB), Z19; \
	MOVQ nv+56(FP), AX; \
	SHLQ $8, AX; \
	ADDQ vecs+48(FP), AX; \
	MOVQ AX, vend-8(SP); \
	MOVQ c+72(FP), R13; \
	MOVQ wq+64(FP), R12; \
	MOVQ src+8(FP), R8; \
	MOVQ dst+0(FP), R9; \
	MOVQ chIn+16(FP), CX; \
	MOVQ quads+80(FP), R10; \
	TESTQ R10, R10; \
	JEQ dq_done; \
dq_quad: \
	QSETUP; \
	MOVQ R8, SI; \
	MOVQ R9, DI; \
	MOVQ images+32(FP), R11; \
	TESTQ R11, R11; \
	JEQ dq_qnext; \
dq_img: \
	MOVQ vecs+48(FP), BX; \
	IMG; \
dq_vec: \
	VEC; \
	VMOVDQU64 0(BX), Z24; \
	VMOVDQU64 64(BX), Z25; \
	VMOVDQU64 128(BX), Z26; \
	CHAN(Z4, S4, 0, 0, Z20, Z27); \
	VMOVDQA64 Z1, Z16; \
	CHAN(Z5, S5, 12, 96, Z21, Z28); \
	VMOVDQA64 Z1, Z17; \
	CHAN(Z6, S6, 24, 192, Z22, Z29); \
	VMOVDQA64 Z1, Z18; \
	CHAN(Z7, S7, 36, 288, Z23, Z30); \
	VPACKSSDW Z17, Z16, Z16; \
	VPACKSSDW Z1, Z18, Z18; \
	VPACKUSWB Z18, Z16, Z16; \
	VPSHUFB Z19, Z16, Z16; \
	KMOVW 216(BX), K3; \
	VMOVDQU32 Z16, K3, (DI); \
	ADDQ 240(BX), DI; \
	ADDQ $256, BX; \
	CMPQ BX, vend-8(SP); \
	JNE dq_vec; \
	ADDQ hw+40(FP), SI; \
	DECQ R11; \
	JNE dq_img; \
dq_qnext: \
	LEAQ (R8)(CX*4), R8; \
	MOVQ quadN+24(FP), AX; \
	LEAQ (R9)(AX*4), R9; \
	ADDQ $384, R13; \
	ADDQ $48, R12; \
	DECQ R10; \
	JNE dq_quad; \
dq_done: \
	VZEROUPPER; \
	RET

// DW_PERM_TAP1(IOFF, W): a kernel row of the current output vector
// (record BX): the 64-byte window's codes (Z6), or the zero point (Z8,
// the second table) for padding and the dwords' fourth bytes, at the
// row's 64 byte indexes (IOFF(BX)), times the row's weights W, into Z0.
#define DW_PERM_TAP1(IOFF, W) \
	VMOVDQU64 IOFF(BX), Z10; \
	VPERMI2B Z8, Z6, Z10; \
	VPDPBUSD W, Z10, Z0

// DW_PERM_VEC1: the current vector's window of 64 bytes (SI + offset, in
// one masked load) and its three kernel rows (DW_PERM_TAP1), into Z0.
#define DW_PERM_VEC1 \
	MOVQ 192(BX), AX; \
	KMOVQ 200(BX), K1; \
	VMOVDQU8.Z (SI)(AX*1), K1, Z6; \
	VPXORD Z0, Z0, Z0; \
	DW_PERM_TAP1(0, Z3); \
	DW_PERM_TAP1(64, Z4); \
	DW_PERM_TAP1(128, Z5)

// DW_PERM_VEC0 is DW_PERM_VEC1 on the whole plane, loaded for all the
// image's vectors (DW_PERM_PLANE).
#define DW_PERM_VEC0 \
	VPXORD Z0, Z0, Z0; \
	DW_PERM_TAP1(0, Z3); \
	DW_PERM_TAP1(64, Z4); \
	DW_PERM_TAP1(128, Z5)

// DW_PERM_PLANE loads an image's whole plane (SI, the first record's load
// mask) for DW_PERM_VEC0.
#define DW_PERM_PLANE \
	KMOVQ 200(BX), K1; \
	VMOVDQU8.Z (SI), K1, Z6

// DW_PERM_TAP2(IOFF, W) is DW_PERM_TAP1 on a window of 128 bytes (Z6,
// Z7) whose last byte, never loaded, holds the zero point.
#define DW_PERM_TAP2(IOFF, W) \
	VMOVDQU64 IOFF(BX), Z10; \
	VPERMI2B Z7, Z6, Z10; \
	VPDPBUSD W, Z10, Z0

// DW_PERM_VEC2 is DW_PERM_VEC1 on a window of 128 bytes: two masked
// loads merged into zero points.
#define DW_PERM_VEC2 \
	MOVQ 192(BX), AX; \
	VMOVDQA64 Z8, Z6; \
	VMOVDQA64 Z8, Z7; \
	KMOVQ 200(BX), K1; \
	VMOVDQU8 (SI)(AX*1), K1, Z6; \
	KMOVQ 208(BX), K1; \
	VMOVDQU8 64(SI)(AX*1), K1, Z7; \
	VPXORD Z0, Z0, Z0; \
	DW_PERM_TAP2(0, Z3); \
	DW_PERM_TAP2(64, Z4); \
	DW_PERM_TAP2(128, Z5)

// DW_PERM(PRE, VEC, SETUP, RQ, NARROW) is the body of dwPerm512* (windows of
// 64 bytes: VEC DW_PERM_VEC1), dwPermWide512* (of 128: DW_PERM_VEC2) and
// dwPermPlane512* (planes of at most 64 bytes loaded once an image: PRE
// DW_PERM_PLANE, VEC DW_PERM_VEC0): for each of channels channels
// (operands cs bytes apart from c, weight rows 3 apart from wq, planes
// chIn bytes and outputs chOut bytes after the previous channel's) and
// each of images planes of hw bytes (back to back), PRE, then for each
// of the nv vector records at vecs (dwPermPlan's, 256 bytes: the three
// rows' indexes, then the window's offset in the plane, its two load
// masks, the store mask and the output count): VEC (the window's
// codes times the three kernel rows' weights), RQ, NARROW and the
// vector's outputs stored after the previous vector's under its store
// mask. Frame: one local. Its labels are local to the function it is
// used in.
#define DW_PERM(PRE, VEC, SETUP, RQ, NARROW) \
	MOVQ zx+96(FP), AX; \
	VPBROADCASTB AX, Z8; \
	MOVQ c+72(FP), R13; \
	MOVQ src+8(FP), R8; \
	MOVQ dst+0(FP), R9; \
	MOVQ wq+64(FP), AX; \
	MOVQ AX, wqp-8(SP); \
	MOVQ channels+88(FP), R10; \
	TESTQ R10, R10; \
	JEQ dp_done; \
dp_ch: \
	MOVQ R13, AX; \
	SETUP; \
	MOVQ wqp-8(SP), AX; \
	VPBROADCASTD 0(AX), Z3; \
	VPBROADCASTD 4(AX), Z4; \
	VPBROADCASTD 8(AX), Z5; \
	ADDQ $12, AX; \
	MOVQ AX, wqp-8(SP); \
	MOVQ R8, SI; \
	MOVQ R9, DI; \
	MOVQ images+32(FP), R11; \
	TESTQ R11, R11; \
	JEQ dp_chnext; \
dp_img: \
	MOVQ vecs+48(FP), BX; \
	MOVQ nv+56(FP), R12; \
	PRE; \
dp_vec: \
	VEC; \
	RQ; \
	NARROW Z0, X0; \
	KMOVQ 216(BX), K3; \
	VMOVDQU8 X0, K3, (DI); \
	ADDQ 224(BX), DI; \
	ADDQ $256, BX; \
	DECQ R12; \
	JNE dp_vec; \
	ADDQ hw+40(FP), SI; \
	DECQ R11; \
	JNE dp_img; \
dp_chnext: \
	ADDQ chIn+16(FP), R8; \
	ADDQ chOut+24(FP), R9; \
	ADDQ cs+80(FP), R13; \
	DECQ R10; \
	JNE dp_ch; \
dp_done: \
	VZEROUPPER; \
	RET

// func packQuad512(dst *byte, stride int, r0, r1, r2, r3 *uint8, full int)
// For g < full: the 64 bytes at dst + g·stride get, in 32-bit lane l,
// the bytes r0[16g+l], r1[16g+l], r2[16g+l], r3[16g+l] (low to high).
TEXT ·packQuad512(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ stride+8(FP), DX
	MOVQ r0+16(FP), R8
	MOVQ r1+24(FP), R9
	MOVQ r2+32(FP), R10
	MOVQ r3+40(FP), R11
	MOVQ full+48(FP), CX
	XORQ AX, AX
	TESTQ CX, CX
	JEQ packQuad512_done
packQuad512_loop:
	PACK_QUAD16((R8)(AX*1), (R9)(AX*1), (R10)(AX*1), (R11)(AX*1))
	ADDQ $16, AX
	ADDQ DX, DI
	DECQ CX
	JNE packQuad512_loop
packQuad512_done:
	VZEROUPPER
	RET

// func maxPairs512(dst, src *uint8, n int)
// dst[i] = max(src[2i], src[2i+1]) for i < n, n a multiple of 32: per
// 16-bit lane, max(low byte, high byte) in the low byte, then VPMOVWB.
TEXT ·maxPairs512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $5, CX
	JEQ maxPairs512_done
maxPairs512_loop:
	VMOVDQU8 (SI), Z0
	VPSRLW $8, Z0, Z1
	VPMAXUB Z1, Z0, Z0
	VPMOVWB Z0, Y0
	VMOVDQU Y0, (DI)
	ADDQ $64, SI
	ADDQ $32, DI
	DECQ CX
	JNE maxPairs512_loop
maxPairs512_done:
	VZEROUPPER
	RET

// func maxPairs32x512(dst, src *int32, n int)
// dst[i] = max(src[2i], src[2i+1]) for i < n, n a multiple of 8: each pair
// is one int64 lane; its halves are sign-extended by shifts, VPMAXSQ,
// VPMOVQD.
TEXT ·maxPairs32x512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JEQ maxPairs32x512_done
maxPairs32x512_loop:
	VMOVDQU64 (SI), Z0
	VPSLLQ $32, Z0, Z1
	VPSRAQ $32, Z1, Z1
	VPSRAQ $32, Z0, Z0
	VPMAXSQ Z1, Z0, Z0
	VPMOVQD Z0, Y0
	VMOVDQU Y0, (DI)
	ADDQ $64, SI
	ADDQ $32, DI
	DECQ CX
	JNE maxPairs32x512_loop
maxPairs32x512_done:
	VZEROUPPER
	RET

// func maxRowPairs32x512(dst, src *int32, rows, w int)
// dst[r·w + x] = max(src[2r·w + x], src[(2r+1)·w + x]): 16 lanes at a
// time, the last 1–15 of each row under a mask.
TEXT ·maxRowPairs32x512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ w+24(FP), R9
	MOVQ R9, CX
	ANDQ $15, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1            // tail mask
	LEAQ (SI)(R9*4), R10    // row 2r+1
	MOVQ R9, R11
	SHLQ $3, R11            // 2w int32s in bytes
	TESTQ R8, R8
	JEQ maxRowPairs32x512_done
maxRowPairs32x512_row:
	XORQ AX, AX
	MOVQ R9, CX
	SHRQ $4, CX
	JEQ maxRowPairs32x512_tail
maxRowPairs32x512_loop:
	VMOVDQU32 (SI)(AX*4), Z0
	VPMAXSD (R10)(AX*4), Z0, Z0
	VMOVDQU32 Z0, (DI)(AX*4)
	ADDQ $16, AX
	DECQ CX
	JNE maxRowPairs32x512_loop
maxRowPairs32x512_tail:
	VMOVDQU32.Z (SI)(AX*4), K1, Z0
	VMOVDQU32.Z (R10)(AX*4), K1, Z1
	VPMAXSD Z1, Z0, Z0
	VMOVDQU32 Z0, K1, (DI)(AX*4)
	ADDQ R11, SI
	ADDQ R11, R10
	LEAQ (DI)(R9*4), DI
	DECQ R8
	JNE maxRowPairs32x512_row
maxRowPairs32x512_done:
	VZEROUPPER
	RET

// func packDirect512(dst, src *byte, plan *packEntry, cnt, hw, n, b int, zx byte)
// For each of cnt plan entries e (88 bytes: c[2], off[2] int32, idx[64],
// pad uint64): the 64 bytes at dst + 64·i are VPERMI2B of the windows at
// src + (c[j]·n + b)·hw + off[j], j = 0, 1, by e.idx, with zx where e.pad
// has a bit.
TEXT ·packDirect512(SB), NOSPLIT, $0-57
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ plan+16(FP), BX
	MOVQ cnt+24(FP), CX
	MOVQ hw+32(FP), R8
	MOVQ n+40(FP), R9
	MOVQ b+48(FP), R10
	MOVBQZX zx+56(FP), AX
	VMOVQ AX, X3
	VPBROADCASTB X3, Z3
	IMULQ R8, R10
	ADDQ R10, SI // image b's plane of channel 0
	IMULQ R8, R9 // bytes between channel planes
	TESTQ CX, CX
	JEQ packDirect512_done
packDirect512_loop:
	MOVLQSX 0(BX), AX
	IMULQ R9, AX
	MOVLQSX 8(BX), DX
	ADDQ DX, AX
	MOVLQSX 4(BX), R11
	IMULQ R9, R11
	MOVLQSX 12(BX), DX
	ADDQ DX, R11
	VMOVDQU8 (SI)(AX*1), Z0
	VMOVDQU8 (SI)(R11*1), Z1
	VMOVDQU8 16(BX), Z2
	VPERMI2B Z1, Z0, Z2
	KMOVQ 80(BX), K1
	VMOVDQU8 Z3, K1, Z2
	VMOVDQU8 Z2, (DI)
	ADDQ $64, DI
	ADDQ $88, BX
	DECQ CX
	JNE packDirect512_loop
packDirect512_done:
	VZEROUPPER
	RET

// func dwFlat3x3x512(acc *int32, frame *byte, w *[9]int32, Wp, n int)
// dwFlat3x3Scalar on 16 outputs a step (n a multiple of 16): each
// of the nine taps is 16 frame bytes zero-extended to int32 lanes
// (VPMOVZXBD), times the broadcast weight (VPMULLD), added.
TEXT ·dwFlat3x3x512(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), DI
	MOVQ frame+8(FP), SI
	MOVQ w+16(FP), AX
	MOVQ Wp+24(FP), DX
	MOVQ n+32(FP), CX
	VPBROADCASTD 0(AX), Z0
	VPBROADCASTD 4(AX), Z1
	VPBROADCASTD 8(AX), Z2
	VPBROADCASTD 12(AX), Z3
	VPBROADCASTD 16(AX), Z4
	VPBROADCASTD 20(AX), Z5
	VPBROADCASTD 24(AX), Z6
	VPBROADCASTD 28(AX), Z7
	VPBROADCASTD 32(AX), Z8
	LEAQ (SI)(DX*1), R8
	LEAQ (R8)(DX*1), R9
	SHRQ $4, CX
	JEQ dwFlat3x3x512_done
dwFlat3x3x512_loop:
	VPMOVZXBD (SI), Z10
	VPMULLD Z0, Z10, Z9
	VPMOVZXBD 1(SI), Z11
	VPMULLD Z1, Z11, Z11
	VPADDD Z11, Z9, Z9
	VPMOVZXBD 2(SI), Z12
	VPMULLD Z2, Z12, Z12
	VPADDD Z12, Z9, Z9
	VPMOVZXBD (R8), Z10
	VPMULLD Z3, Z10, Z10
	VPADDD Z10, Z9, Z9
	VPMOVZXBD 1(R8), Z11
	VPMULLD Z4, Z11, Z11
	VPADDD Z11, Z9, Z9
	VPMOVZXBD 2(R8), Z12
	VPMULLD Z5, Z12, Z12
	VPADDD Z12, Z9, Z9
	VPMOVZXBD (R9), Z10
	VPMULLD Z6, Z10, Z10
	VPADDD Z10, Z9, Z9
	VPMOVZXBD 1(R9), Z11
	VPMULLD Z7, Z11, Z11
	VPADDD Z11, Z9, Z9
	VPMOVZXBD 2(R9), Z12
	VPMULLD Z8, Z12, Z12
	VPADDD Z12, Z9, Z9
	VMOVDQU32 Z9, (DI)
	ADDQ $16, SI
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $64, DI
	DECQ CX
	JNE dwFlat3x3x512_loop
dwFlat3x3x512_done:
	VZEROUPPER
	RET

// func frameRows512(dst, src *uint8, rows, w, dstStride, planes, dstPlane int)
// copies planes planes of rows rows of w ≤ 64 bytes, all back to back at
// src, to rows dstStride bytes apart at dst, the planes dstPlane bytes
// apart: one masked load and store per row.
TEXT ·frameRows512(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), R9
	MOVQ src+8(FP), SI
	MOVQ w+24(FP), DX
	MOVQ dstStride+32(FP), R8
	MOVQ planes+40(FP), R10
	MOVQ $-1, AX
	BZHIQ DX, AX, AX
	KMOVQ AX, K1
	TESTQ R10, R10
	JEQ frameRows512_done
frameRows512_plane:
	MOVQ R9, DI
	MOVQ rows+16(FP), CX
	TESTQ CX, CX
	JEQ frameRows512_done
frameRows512_loop:
	VMOVDQU8.Z (SI), K1, Z0
	VMOVDQU8 Z0, K1, (DI)
	ADDQ DX, SI
	ADDQ R8, DI
	DECQ CX
	JNE frameRows512_loop
	ADDQ dstPlane+48(FP), R9
	DECQ R10
	JNE frameRows512_plane
frameRows512_done:
	VZEROUPPER
	RET

// func framePlanes512(dst, src *uint8, masks *uint64, chunks, srcLen int, zx uint8)
// writes chunks 64-byte blocks of dst: block k is zx where masks[k] has a 0
// bit and, where it has a 1, the next bytes of src in order (VPEXPANDB,
// AVX512-VBMI2), so that a batch of planes lands in zero-point frames in
// one pass with their borders. Once srcLen bytes are taken, the remaining
// 1 bits get zx too (the last block's mask keeps only as many bits as
// bytes are left, by PDEP); loads are masked to the bytes taken.
TEXT ·framePlanes512(SB), NOSPLIT, $0-41
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ masks+16(FP), R8
	MOVQ chunks+24(FP), CX
	MOVQ srcLen+32(FP), R9
	MOVBLZX zx+40(FP), AX
	VPBROADCASTB AX, Z1
	TESTQ CX, CX
	JEQ framePlanes512_done
framePlanes512_loop:
	MOVQ (R8), AX
	POPCNTQ AX, DX
	CMPQ DX, R9
	JLE framePlanes512_take
	// fewer bytes left than the block has places: its lowest R9 1 bits
	MOVQ $-1, R10
	BZHIQ R9, R10, R10
	PDEPQ AX, R10, AX
	MOVQ R9, DX
framePlanes512_take:
	KMOVQ AX, K1
	MOVQ $-1, R10
	BZHIQ DX, R10, R10
	KMOVQ R10, K2
	VMOVDQU8.Z (SI), K2, Z2
	VMOVDQA64 Z1, Z0
	VPEXPANDB Z2, K1, Z0
	VMOVDQU64 Z0, (DI)
	ADDQ DX, SI
	SUBQ DX, R9
	ADDQ $64, DI
	ADDQ $8, R8
	DECQ CX
	JNE framePlanes512_loop
framePlanes512_done:
	VZEROUPPER
	RET

// func pickRows512(dst, src *int32, rows, w, srcStride, step, planes, srcPlane int)
// writes, for each of planes planes (srcPlane int32s apart at src) and
// each of their rows rows (srcStride int32s apart), the w values
// src[x·step] of the row to dst, back to back; step is 1 or 2 (every
// other value: the low halves of qwords, VPMOVQD). Loads are masked to
// the values used.
TEXT ·pickRows512(SB), NOSPLIT, $8-64
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), R8
	MOVQ w+24(FP), R10
	MOVQ srcStride+32(FP), R11
	SHLQ $2, R11
	MOVQ step+40(FP), R12
	MOVQ planes+48(FP), AX
	MOVQ AX, left-8(SP)
	TESTQ AX, AX
	JEQ pickRows512_done
	TESTQ R10, R10
	JEQ pickRows512_done
pickRows512_plane:
	MOVQ R8, SI
	MOVQ rows+16(FP), R9
	TESTQ R9, R9
	JEQ pickRows512_done
pickRows512_row:
	MOVQ SI, AX
	MOVQ R10, CX
pickRows512_chunk:
	MOVQ CX, DX
	CMPQ DX, $16
	JLE pickRows512_count
	MOVQ $16, DX
pickRows512_count:
	MOVQ $-1, BX
	BZHIQ DX, BX, BX
	KMOVD BX, K1
	CMPQ R12, $2
	JEQ pickRows512_two
	VMOVDQU32.Z (AX), K1, Z0
	ADDQ $64, AX
	JMP pickRows512_store
pickRows512_two:
	LEAQ -1(DX)(DX*1), BX
	MOVQ $-1, R13
	BZHIQ BX, R13, R13
	KMOVD R13, K2
	KSHIFTRD $16, K2, K3
	VMOVDQU32.Z (AX), K2, Z0
	VMOVDQU32.Z 64(AX), K3, Z1
	VPMOVQD Z0, Y0
	VPMOVQD Z1, Y1
	VINSERTI64X4 $1, Y1, Z0, Z0
	ADDQ $128, AX
pickRows512_store:
	VMOVDQU32 Z0, K1, (DI)
	LEAQ (DI)(DX*4), DI
	SUBQ DX, CX
	JNE pickRows512_chunk
	ADDQ R11, SI
	DECQ R9
	JNE pickRows512_row
	MOVQ srcPlane+56(FP), AX
	LEAQ (R8)(AX*4), R8
	DECQ left-8(SP)
	JNE pickRows512_plane
pickRows512_done:
	VZEROUPPER
	RET

// func quadRows512(dst *uint32, src *uint8, chStride, rows, w, dstStride, copies, copyStride int)
// is quadRowsScalar: 16 positions a step, each channel's 16 codes widened
// to dwords (VPMOVZXBD), shifted to their byte and ORed, stored copies
// times copyStride bytes apart; the row's last positions under a mask.
TEXT ·quadRows512(SB), NOSPLIT, $8-64
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ chStride+16(FP), R8
	MOVQ rows+24(FP), R9
	MOVQ w+32(FP), R10
	MOVQ dstStride+40(FP), R11
	SHLQ $2, R11
	LEAQ (R8)(R8*2), R12
	TESTQ R9, R9
	JEQ quadRows512_done
	TESTQ R10, R10
	JEQ quadRows512_done
quadRows512_row:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R10, CX
quadRows512_chunk:
	MOVQ CX, DX
	CMPQ DX, $16
	JLE quadRows512_count
	MOVQ $16, DX
quadRows512_count:
	MOVQ $-1, R13
	BZHIQ DX, R13, R13
	KMOVW R13, K1
	VMOVDQU8.Z (AX), K1, X0
	VMOVDQU8.Z (AX)(R8*1), K1, X1
	VMOVDQU8.Z (AX)(R8*2), K1, X2
	VMOVDQU8.Z (AX)(R12*1), K1, X3
	VPMOVZXBD X0, Z0
	VPMOVZXBD X1, Z1
	VPMOVZXBD X2, Z2
	VPMOVZXBD X3, Z3
	VPSLLD $8, Z1, Z1
	VPSLLD $16, Z2, Z2
	VPSLLD $24, Z3, Z3
	VPORD Z1, Z0, Z0
	VPTERNLOGD $0xfe, Z3, Z2, Z0
	VMOVDQU32 Z0, K1, (BX)
	MOVQ copies+48(FP), R13
	MOVQ R13, left-8(SP)
	MOVQ BX, R13
quadRows512_copy:
	DECQ left-8(SP)
	JEQ quadRows512_copied
	ADDQ copyStride+56(FP), R13
	VMOVDQU32 Z0, K1, (R13)
	JMP quadRows512_copy
quadRows512_copied:
	ADDQ DX, AX
	LEAQ (BX)(DX*4), BX
	SUBQ DX, CX
	JNE quadRows512_chunk
	ADDQ R10, SI
	ADDQ R11, DI
	DECQ R9
	JNE quadRows512_row
quadRows512_done:
	VZEROUPPER
	RET

// func dwFlatQuads512(acc *int32, frame *uint8, q *uint32, wq *[3]uint32, Wp, n, nq int)
// is dwFlat3x3Scalar by AVX512-VNNI: first q[i] = frame[i] | frame[i+1]<<8 |
// frame[i+2]<<16 for i < nq (a kernel row's three codes in one dword),
// then for p < n, acc[p] = Σ over ky of the dot product of q[p + ky·Wp]
// with wq[ky] (the row's three weights as bytes): three VPDPBUSD per 16
// outputs. n and nq are multiples of 16.
TEXT ·dwFlatQuads512(SB), NOSPLIT, $0-56
	MOVQ frame+8(FP), SI
	MOVQ q+16(FP), DI
	MOVQ nq+48(FP), CX
	SHRQ $4, CX
	JEQ dwFlatQuads512_dots
dwFlatQuads512_quads:
	VPMOVZXBD (SI), Z0
	VPMOVZXBD 1(SI), Z1
	VPMOVZXBD 2(SI), Z2
	VPSLLD $8, Z1, Z1
	VPSLLD $16, Z2, Z2
	VPTERNLOGD $0xfe, Z2, Z1, Z0
	VMOVDQU32 Z0, (DI)
	ADDQ $16, SI
	ADDQ $64, DI
	DECQ CX
	JNE dwFlatQuads512_quads
dwFlatQuads512_dots:
	MOVQ acc+0(FP), DI
	MOVQ q+16(FP), SI
	MOVQ wq+24(FP), AX
	VPBROADCASTD 0(AX), Z3
	VPBROADCASTD 4(AX), Z4
	VPBROADCASTD 8(AX), Z5
	MOVQ Wp+32(FP), DX
	SHLQ $2, DX
	LEAQ (SI)(DX*1), R8
	LEAQ (R8)(DX*1), R9
	MOVQ n+40(FP), CX
	SHRQ $4, CX
	JEQ dwFlatQuads512_done
dwFlatQuads512_loop:
	VMOVDQU32 (SI), Z0
	VPXORD Z9, Z9, Z9
	VPDPBUSD Z3, Z0, Z9
	VMOVDQU32 (R8), Z1
	VPDPBUSD Z4, Z1, Z9
	VMOVDQU32 (R9), Z2
	VPDPBUSD Z5, Z2, Z9
	VMOVDQU32 Z9, (DI)
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, DI
	DECQ CX
	JNE dwFlatQuads512_loop
dwFlatQuads512_done:
	VZEROUPPER
	RET

// func dwStride2Quads512(acc *int32, frame *uint8, qe *uint32, wq *[3]uint32, Wp, rows, Wq, oh, ow, images, plane int)
// is a stride-2 depthwise 3×3 by AVX512-VNNI on the output positions only,
// for images frames plane bytes apart (their outputs back to back in acc):
// first, for frame rows r < rows and x < Wq, qe[r·Wq + x] = frame[r·Wp +
// 2x] | frame[r·Wp + 2x + 1]<<8 | frame[r·Wp + 2x + 2]<<16 (a word-wide
// load widened, and the next word's low byte), then acc[y·ow + x] = Σ
// over ky of qe[(2y + ky)·Wq + x] · wq[ky], each output row's last
// vector masked. Wq is a multiple of 16.
TEXT ·dwStride2Quads512(SB), NOSPLIT, $16-88
	MOVL $0x00ff0000, AX
	VPBROADCASTD AX, Z7
	MOVQ wq+24(FP), AX
	VPBROADCASTD 0(AX), Z3
	VPBROADCASTD 4(AX), Z4
	VPBROADCASTD 8(AX), Z5
	MOVQ acc+0(FP), DI
	MOVQ DI, out-8(SP)
	MOVQ frame+8(FP), SI
	MOVQ images+72(FP), AX
	MOVQ AX, left-16(SP)
dwStride2Quads512_image:
	MOVQ SI, R13
	MOVQ qe+16(FP), DI
	MOVQ Wp+32(FP), R8
	MOVQ rows+40(FP), R9
	MOVQ Wq+48(FP), R10
	SHRQ $4, R10
dwStride2Quads512_row:
	MOVQ SI, AX
	MOVQ R10, CX
dwStride2Quads512_quads:
	VPMOVZXWD (AX), Z0
	VPMOVZXWD 2(AX), Z1
	VPSLLD $16, Z1, Z1
	VPTERNLOGD $0xf8, Z7, Z1, Z0
	VMOVDQU32 Z0, (DI)
	ADDQ $32, AX
	ADDQ $64, DI
	DECQ CX
	JNE dwStride2Quads512_quads
	ADDQ R8, SI
	DECQ R9
	JNE dwStride2Quads512_row
	MOVQ out-8(SP), DI
	MOVQ qe+16(FP), SI
	MOVQ Wq+48(FP), R10
	SHLQ $2, R10             // bytes per qe row
	MOVQ oh+56(FP), R9
	MOVQ ow+64(FP), R11
	CMPQ R11, $16
	JG dwStride2Quads512_orow
	// Rows of at most 16 outputs (MobileNetV2's 14, 7 and 4): one
	// vector a row under one mask.
	MOVQ $-1, BX
	BZHIQ R11, BX, BX
	KMOVW BX, K1
dwStride2Quads512_orow1:
	VPXORD Z9, Z9, Z9
	VMOVDQU32 (SI), Z0
	VPDPBUSD Z3, Z0, Z9
	VMOVDQU32 (SI)(R10*1), Z1
	VPDPBUSD Z4, Z1, Z9
	VMOVDQU32 (SI)(R10*2), Z2
	VPDPBUSD Z5, Z2, Z9
	VMOVDQU32 Z9, K1, (DI)
	LEAQ (DI)(R11*4), DI
	LEAQ (SI)(R10*2), SI     // two frame rows down
	DECQ R9
	JNE dwStride2Quads512_orow1
	JMP dwStride2Quads512_next
dwStride2Quads512_orow:
	MOVQ SI, AX
	LEAQ (SI)(R10*1), R8
	LEAQ (R8)(R10*1), R12
	MOVQ R11, CX
dwStride2Quads512_chunk:
	MOVQ CX, DX
	CMPQ DX, $16
	JLE dwStride2Quads512_count
	MOVQ $16, DX
dwStride2Quads512_count:
	MOVQ $-1, BX
	BZHIQ DX, BX, BX
	KMOVW BX, K1
	VPXORD Z9, Z9, Z9
	VMOVDQU32 (AX), Z0
	VPDPBUSD Z3, Z0, Z9
	VMOVDQU32 (R8), Z1
	VPDPBUSD Z4, Z1, Z9
	VMOVDQU32 (R12), Z2
	VPDPBUSD Z5, Z2, Z9
	VMOVDQU32 Z9, K1, (DI)
	ADDQ $64, AX
	ADDQ $64, R8
	ADDQ $64, R12
	LEAQ (DI)(DX*4), DI
	SUBQ DX, CX
	JNE dwStride2Quads512_chunk
	LEAQ (SI)(R10*2), SI     // two frame rows down
	DECQ R9
	JNE dwStride2Quads512_orow
dwStride2Quads512_next:
	MOVQ DI, out-8(SP)       // the next image's outputs follow
	MOVQ R13, SI
	ADDQ plane+80(FP), SI
	DECQ left-16(SP)
	JNE dwStride2Quads512_image
	VZEROUPPER
	RET

// func lookupPairs512(dst, a, b, lut *uint8, n int)
// is lookupPairsScalar, 16 pairs a step (n a multiple of 16): the indexes
// a·256 + b in dword lanes, one VPGATHERDD of dwords at byte offsets
// (scale 1; the table has 3 bytes of slack), the low bytes kept.
TEXT ·lookupPairs512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ lut+24(FP), R8
	MOVQ n+32(FP), CX
	SHRQ $4, CX
	JEQ lookupPairs512_done
lookupPairs512_loop:
	VPMOVZXBD (SI), Z0
	VPMOVZXBD (DX), Z1
	VPSLLD $8, Z0, Z0
	VPORD Z1, Z0, Z0
	KXNORW K1, K1, K1
	VPXORD Z2, Z2, Z2
	VPGATHERDD (R8)(Z0*1), K1, Z2
	VPMOVDB Z2, X2
	VMOVDQU X2, (DI)
	ADDQ $16, SI
	ADDQ $16, DX
	ADDQ $16, DI
	DECQ CX
	JNE lookupPairs512_loop
lookupPairs512_done:
	VZEROUPPER
	RET

DATA quantLim<>+0(SB)/4, $0x49742400 // 1e6
DATA quantLim<>+4(SB)/4, $0xc9742400 // −1e6
GLOBL quantLim<>(SB), RODATA|NOPTR, $8

// QUANT16 turns the 16 products x·inv in Z0 into codes in X1: rounded half
// to even, clamped to ±1e6 (Z20, Z21), converted, + Z (Z17), clamped to
// [lo, hi] (Z18, Z19); NaN lanes (K2) get Z.
#define QUANT16 \
	VCMPPS $3, Z0, Z0, K2; \
	VRNDSCALEPS $0, Z0, Z0; \
	VMINPS Z20, Z0, Z0; \
	VMAXPS Z21, Z0, Z0; \
	VCVTPS2DQ Z0, Z1; \
	VPADDD Z17, Z1, Z1; \
	VPMAXSD Z18, Z1, Z1; \
	VPMINSD Z19, Z1, Z1; \
	VMOVDQA32 Z17, K2, Z1; \
	VPMOVDB Z1, X1

// func quantize512(dst *uint8, src *float32, n int, inv float32, z, lo, hi int32)
// is quantizeRowScalar, 16 values a step, the last n mod 16 masked:
// v = x·inv, rounded half to even (VRNDSCALEPS 0), clamped to ±1e6,
// converted, + z, clamped to [lo, hi]; NaN lanes get z.
TEXT ·quantize512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), DX
	VBROADCASTSS inv+24(FP), Z16
	MOVL z+28(FP), AX
	VPBROADCASTD AX, Z17
	MOVL lo+32(FP), AX
	VPBROADCASTD AX, Z18
	MOVL hi+36(FP), AX
	VPBROADCASTD AX, Z19
	VBROADCASTSS quantLim<>+0(SB), Z20
	VBROADCASTSS quantLim<>+4(SB), Z21
	MOVQ DX, CX
	ANDQ $15, CX
	MOVL $1, BX
	SHLL CX, BX
	DECL BX
	KMOVW BX, K3
	SHRQ $4, DX
	JEQ quantize512_tail
quantize512_loop:
	VMULPS (SI), Z16, Z0
	QUANT16
	VMOVDQU X1, (DI)
	ADDQ $64, SI
	ADDQ $16, DI
	DECQ DX
	JNE quantize512_loop
quantize512_tail:
	KORTESTW K3, K3
	JEQ quantize512_done
	VMOVUPS.Z (SI), K3, Z0
	VMULPS Z0, Z16, Z0
	QUANT16
	VMOVDQU8 X1, K3, (DI)
quantize512_done:
	VZEROUPPER
	RET

// func packFlat512(dst, plane *uint8, idx *int32, q4, planes, planeStride int, lanes uint16)
// is packFlatGroupScalar: one group's blocks: for each of planes planes
// (planeStride bytes apart) and each of its q4 quads, one VPGATHERDD of
// the dwords at plane + 4p + idx[l] (l·hw) into a 64-byte block, lanes
// off the mask zero; the blocks consecutive from dst.
TEXT ·packFlat512(SB), NOSPLIT, $0-50
	MOVQ dst+0(FP), DI
	MOVQ plane+8(FP), SI
	MOVQ idx+16(FP), AX
	MOVQ q4+24(FP), R8
	MOVQ planes+32(FP), R9
	MOVQ planeStride+40(FP), R10
	KMOVW lanes+48(FP), K2
	VMOVDQU32 (AX), Z1
	TESTQ R8, R8
	JEQ packFlat512_done
	TESTQ R9, R9
	JEQ packFlat512_done
packFlat512_plane:
	MOVQ SI, DX
	MOVQ R8, CX
packFlat512_quad:
	KMOVW K2, K1
	VPXORD Z0, Z0, Z0
	VPGATHERDD (DX)(Z1*1), K1, Z0
	VMOVDQU32 Z0, (DI)
	ADDQ $4, DX
	ADDQ $64, DI
	DECQ CX
	JNE packFlat512_quad
	ADDQ R10, SI
	DECQ R9
	JNE packFlat512_plane
packFlat512_done:
	VZEROUPPER
	RET

// func addPairs512(dst, a, b *uint8, n int, tabs *byte, c *requantScalars)
// is lookupPairsScalar on the table addLUT builds, computed: dst[k] =
// RQ(ta[a[k]] + tb[b[k]]) with ta, tb as four byte planes each at tabs
// (addPerm), n a multiple of 64, RQ REQUANT16_CORE (bias 0: no clamp).
TEXT ·addPairs512(SB), NOSPLIT, $0-48
	ADD_PAIRS(REQUANT16_SETUP, ADD_RQ_CORE)

// func addPairs512s(dst, a, b *uint8, n int, tabs *byte, c *requantScalars)
// is addPairs512 on newAddShift's tables: dst[k] = (A[a[k]] + B[b[k]]) >> 21,
// the packs' clamp to [0, 255].
TEXT ·addPairs512s(SB), NOSPLIT, $0-48
	ADD_PAIRS(NOP, ADD_SHIFT)

// func addPairs512sc(dst, a, b *uint8, n int, tabs *byte, c *requantScalars)
// is addPairs512s clamped to c's lo and hi.
TEXT ·addPairs512sc(SB), NOSPLIT, $0-48
	ADD_PAIRS(ADD_CLAMP_SETUP, ADD_SHIFT_CLAMP)

// func addPairs512nn(dst, a, b *uint8, n int, tabs *byte, c *requantScalars)
// is addPairs512 by REQUANT16_NONEG (requantScalars.noNeg).
TEXT ·addPairs512nn(SB), NOSPLIT, $0-48
	ADD_PAIRS(REQUANT16_SETUP, ADD_RQ_NONEG)

// func addPairs512r8(dst, a, b *uint8, n int, tabs *byte, c *requantScalars)
// is addPairs512 by REQUANT16_RELU8 (requantScalars.relu8).
TEXT ·addPairs512r8(SB), NOSPLIT, $0-48
	ADD_PAIRS(REQUANT16_SETUP, ADD_RQ_RELU8)

// func pickBytes2x512(dst, src *uint8, rows, w, srcStride, planes, srcPlane int)
// is pickBytes2Scalar, 32 bytes a step: the words at src narrowed to their
// low bytes (VPMOVWB), a row's last step under a mask.
TEXT ·pickBytes2x512(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ planes+40(FP), R11
pickBytes2_plane:
	MOVQ SI, BX
	MOVQ rows+16(FP), CX
pickBytes2_row:
	MOVQ BX, AX
	MOVQ w+24(FP), DX
pickBytes2_chunk:
	MOVQ DX, R9
	CMPQ R9, $32
	JLE pickBytes2_count
	MOVQ $32, R9
pickBytes2_count:
	MOVQ $-1, R13
	BZHIQ R9, R13, R13
	KMOVD R13, K1
	VMOVDQU16.Z (AX), K1, Z0
	VPMOVWB Z0, Y1
	VMOVDQU8 Y1, K1, (DI)
	ADDQ $64, AX
	ADDQ R9, DI
	SUBQ R9, DX
	JNE pickBytes2_chunk
	ADDQ srcStride+32(FP), BX
	DECQ CX
	JNE pickBytes2_row
	ADDQ srcPlane+48(FP), SI
	DECQ R11
	JNE pickBytes2_plane
	VZEROUPPER
	RET

// The requantization kernels, one per requantScalars.kernel, for the
// channels of a convolution in one call (one channel: channels = 1): the
// saturating bias add's clamp (REQUANT16), without it (exactSum:
// REQUANT16_CORE, two instructions of seventeen fewer per vector,
// MobileNetV2 int8 3–7% faster on Zen 5), without the negative-product
// correction too (noNeg: REQUANT16_NONEG), and with neither Z_Y nor the
// clamp to hi (relu8: REQUANT16_RELU8, narrowed by VPMOVUSDB).

// func requantFlatCh512(out *uint8, outStride int, row *int32, rowStride int, masks *uint16, nblocks int, c *requantScalars, cs, channels int)
TEXT ·requantFlatCh512(SB), NOSPLIT, $0-72
	REQUANT_FLAT(REQUANT16_SETUP, REQUANT16, VPMOVDB)

// func requantFlatCh512nc(out *uint8, outStride int, row *int32, rowStride int, masks *uint16, nblocks int, c *requantScalars, cs, channels int)
TEXT ·requantFlatCh512nc(SB), NOSPLIT, $0-72
	REQUANT_FLAT(REQUANT16_SETUP, REQUANT16_CORE, VPMOVDB)

// func requantFlatCh512nn(out *uint8, outStride int, row *int32, rowStride int, masks *uint16, nblocks int, c *requantScalars, cs, channels int)
TEXT ·requantFlatCh512nn(SB), NOSPLIT, $0-72
	REQUANT_FLAT(REQUANT16_SETUP, REQUANT16_NONEG, VPMOVDB)

// func requantFlatCh512r8(out *uint8, outStride int, row *int32, rowStride int, masks *uint16, nblocks int, c *requantScalars, cs, channels int)
TEXT ·requantFlatCh512r8(SB), NOSPLIT, $0-72
	REQUANT_FLAT(REQUANT16_SETUP, REQUANT16_RELU8, VPMOVUSDB)

// func requantFlatCh512f8(out *uint8, outStride int, row *int32, rowStride int, masks *uint16, nblocks int, c *requantScalars, cs, channels int)
// is requantFlatCh512r8 by the float kernel (rqFloat8: REQUANTF8).
TEXT ·requantFlatCh512f8(SB), NOSPLIT, $0-72
	REQUANT_FLAT(REQUANTF8_SETUP, REQUANTF8, VPMOVUSDB)

// func requantFlatCh512fs(out *uint8, outStride int, row *int32, rowStride int, masks *uint16, nblocks int, c *requantScalars, cs, channels int)
// is requantFlatCh512nc by the symmetric float kernel (rqFloatSym:
// REQUANTFS).
TEXT ·requantFlatCh512fs(SB), NOSPLIT, $0-72
	REQUANT_FLAT(REQUANTFS_SETUP, REQUANTFS, VPMOVDB)

// func requantRowsCh512fs(out *uint8, outStride int, row *int32, rowStride, count, n int, c *requantScalars, chOut, chRow, cs, channels int)
// is requantRowsCh512nc by the symmetric float kernel (rqFloatSym:
// REQUANTFS).
TEXT ·requantRowsCh512fs(SB), NOSPLIT, $24-88
	REQUANT_ROWS(REQUANTFS_SETUP, REQUANTFS, VPMOVDB, REQUANT_ROWS_NOBLOCK)

// func requantRowsCh512(out *uint8, outStride int, row *int32, rowStride, count, n int, c *requantScalars, chOut, chRow, cs, channels int)
TEXT ·requantRowsCh512(SB), NOSPLIT, $24-88
	REQUANT_ROWS(REQUANT16_SETUP, REQUANT16, VPMOVDB, REQUANT_ROWS_NOBLOCK)

// func requantRowsCh512nc(out *uint8, outStride int, row *int32, rowStride, count, n int, c *requantScalars, chOut, chRow, cs, channels int)
TEXT ·requantRowsCh512nc(SB), NOSPLIT, $24-88
	REQUANT_ROWS(REQUANT16_SETUP, REQUANT16_CORE, VPMOVDB, REQUANT_ROWS_NOBLOCK)

// func requantRowsCh512nn(out *uint8, outStride int, row *int32, rowStride, count, n int, c *requantScalars, chOut, chRow, cs, channels int)
TEXT ·requantRowsCh512nn(SB), NOSPLIT, $24-88
	REQUANT_ROWS(REQUANT16_SETUP, REQUANT16_NONEG, VPMOVDB, REQUANT_ROWS_NOBLOCK)

// func requantRowsCh512r8(out *uint8, outStride int, row *int32, rowStride, count, n int, c *requantScalars, chOut, chRow, cs, channels int)
TEXT ·requantRowsCh512r8(SB), NOSPLIT, $24-88
	REQUANT_ROWS(REQUANT16_SETUP, REQUANT16_RELU8, VPMOVUSDB, REQUANT_RELU8_BLOCK4)

// func requantRowsCh512f8(out *uint8, outStride int, row *int32, rowStride, count, n int, c *requantScalars, chOut, chRow, cs, channels int)
// is requantRowsCh512r8 by the float kernel (rqFloat8: REQUANTF8 and
// REQUANTF8_BLOCK4).
TEXT ·requantRowsCh512f8(SB), NOSPLIT, $24-88
	REQUANT_ROWS(REQUANTF8_SETUP, REQUANTF8, VPMOVUSDB, REQUANTF8_BLOCK4)

// func poolFlatCh512(dst, src *int32, rows, w, stride, planes, srcPlane int)
// is poolFlat32Scalar on planes planes srcPlane int32s apart in src, their
// pooled planes back to back in dst (a tap convolution's channels): for
// each of rows pooled rows, w maxima of 2×2 windows of src rows 2y and
// 2y+1 (stride int32s apart), 16 a step: the two rows' 32 values (masked
// to 2w), their vertical max, the max of each lane pair (a qword shift),
// the even lanes kept (VPMOVQD).
TEXT ·poolFlatCh512(SB), NOSPLIT, $8-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ w+24(FP), R10
	MOVQ stride+32(FP), R11
	SHLQ $2, R11
	MOVQ planes+40(FP), R13
	TESTQ R13, R13
	JEQ poolFlatCh512_done
	TESTQ R10, R10
	JEQ poolFlatCh512_done
poolFlatCh512_plane:
	MOVQ SI, base-8(SP)
	MOVQ rows+16(FP), R9
	TESTQ R9, R9
	JEQ poolFlatCh512_next
poolFlatCh512_row:
	MOVQ SI, AX
	LEAQ (SI)(R11*1), R8
	MOVQ R10, CX
poolFlatCh512_chunk:
	MOVQ CX, DX
	CMPQ DX, $16
	JLE poolFlatCh512_count
	MOVQ $16, DX
poolFlatCh512_count:
	MOVQ $-1, BX
	BZHIQ DX, BX, BX
	KMOVW BX, K1
	LEAQ (DX)(DX*1), BX
	MOVQ $-1, R12
	BZHIQ BX, R12, R12
	KMOVD R12, K2
	KSHIFTRD $16, K2, K3
	VMOVDQU32.Z (AX), K2, Z0
	VMOVDQU32.Z 64(AX), K3, Z1
	VMOVDQU32.Z (R8), K2, Z2
	VMOVDQU32.Z 64(R8), K3, Z3
	VPMAXSD Z2, Z0, Z0
	VPMAXSD Z3, Z1, Z1
	VPSRLQ $32, Z0, Z2
	VPSRLQ $32, Z1, Z3
	VPMAXSD Z2, Z0, Z0
	VPMAXSD Z3, Z1, Z1
	VPMOVQD Z0, Y0
	VPMOVQD Z1, Y1
	VINSERTI64X4 $1, Y1, Z0, Z0
	VMOVDQU32 Z0, K1, (DI)
	ADDQ $128, AX
	ADDQ $128, R8
	LEAQ (DI)(DX*4), DI
	SUBQ DX, CX
	JNE poolFlatCh512_chunk
	LEAQ (SI)(R11*2), SI
	DECQ R9
	JNE poolFlatCh512_row
poolFlatCh512_next:
	MOVQ base-8(SP), SI
	MOVQ srcPlane+48(FP), AX
	LEAQ (SI)(AX*4), SI
	DECQ R13
	JNE poolFlatCh512_plane
poolFlatCh512_done:
	VZEROUPPER
	RET



// func dwPerm512(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)
TEXT ·dwPerm512(SB), NOSPLIT, $8-104
	DW_PERM(NOP, DW_PERM_VEC1, REQUANT16_SETUP, REQUANT16, VPMOVDB)

// func dwPermWide512(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)
TEXT ·dwPermWide512(SB), NOSPLIT, $8-104
	DW_PERM(NOP, DW_PERM_VEC2, REQUANT16_SETUP, REQUANT16, VPMOVDB)

// func dwPermPlane512(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)
TEXT ·dwPermPlane512(SB), NOSPLIT, $8-104
	DW_PERM(DW_PERM_PLANE, DW_PERM_VEC0, REQUANT16_SETUP, REQUANT16, VPMOVDB)

// func dwPerm512nc(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)
TEXT ·dwPerm512nc(SB), NOSPLIT, $8-104
	DW_PERM(NOP, DW_PERM_VEC1, REQUANT16_SETUP, REQUANT16_CORE, VPMOVDB)

// func dwPermWide512nc(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)
TEXT ·dwPermWide512nc(SB), NOSPLIT, $8-104
	DW_PERM(NOP, DW_PERM_VEC2, REQUANT16_SETUP, REQUANT16_CORE, VPMOVDB)

// func dwPermPlane512nc(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)
TEXT ·dwPermPlane512nc(SB), NOSPLIT, $8-104
	DW_PERM(DW_PERM_PLANE, DW_PERM_VEC0, REQUANT16_SETUP, REQUANT16_CORE, VPMOVDB)

// func dwPerm512nn(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)
TEXT ·dwPerm512nn(SB), NOSPLIT, $8-104
	DW_PERM(NOP, DW_PERM_VEC1, REQUANT16_SETUP, REQUANT16_NONEG, VPMOVDB)

// func dwPermWide512nn(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)
TEXT ·dwPermWide512nn(SB), NOSPLIT, $8-104
	DW_PERM(NOP, DW_PERM_VEC2, REQUANT16_SETUP, REQUANT16_NONEG, VPMOVDB)

// func dwPermPlane512nn(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)
TEXT ·dwPermPlane512nn(SB), NOSPLIT, $8-104
	DW_PERM(DW_PERM_PLANE, DW_PERM_VEC0, REQUANT16_SETUP, REQUANT16_NONEG, VPMOVDB)

// func dwPerm512r8(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)
TEXT ·dwPerm512r8(SB), NOSPLIT, $8-104
	DW_PERM(NOP, DW_PERM_VEC1, REQUANT16_SETUP, REQUANT16_RELU8, VPMOVUSDB)

// func dwPermWide512r8(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)
TEXT ·dwPermWide512r8(SB), NOSPLIT, $8-104
	DW_PERM(NOP, DW_PERM_VEC2, REQUANT16_SETUP, REQUANT16_RELU8, VPMOVUSDB)

// func dwPermPlane512r8(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)
TEXT ·dwPermPlane512r8(SB), NOSPLIT, $8-104
	DW_PERM(DW_PERM_PLANE, DW_PERM_VEC0, REQUANT16_SETUP, REQUANT16_RELU8, VPMOVUSDB)

// func dwPerm512f8(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)
// is dwPerm512r8 by the float kernel (rqFloat8: REQUANTF8).
TEXT ·dwPerm512f8(SB), NOSPLIT, $8-104
	DW_PERM(NOP, DW_PERM_VEC1, REQUANTF8_SETUP, REQUANTF8, VPMOVUSDB)

// func dwPermWide512f8(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)
TEXT ·dwPermWide512f8(SB), NOSPLIT, $8-104
	DW_PERM(NOP, DW_PERM_VEC2, REQUANTF8_SETUP, REQUANTF8, VPMOVUSDB)

// func dwPermPlane512f8(dst, src *uint8, chIn, chOut, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, cs, channels, zx int)
TEXT ·dwPermPlane512f8(SB), NOSPLIT, $8-104
	DW_PERM(DW_PERM_PLANE, DW_PERM_VEC0, REQUANTF8_SETUP, REQUANTF8, VPMOVUSDB)

// func sumPlanes512(sums *int32, src *uint8, hw, planes int)
// sets sums[p] to the sum of the hw ≤ 64 bytes of plane p (planes back to
// back): one masked load, VPSADBW against zero (eight qword sums) and
// their reduction.
TEXT ·sumPlanes512(SB), NOSPLIT, $0-32
	MOVQ sums+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ hw+16(FP), DX
	MOVQ planes+24(FP), CX
	MOVQ $-1, AX
	BZHIQ DX, AX, AX
	KMOVQ AX, K1
	VPXORD Z2, Z2, Z2
	TESTQ CX, CX
	JEQ sumPlanes512_done
sumPlanes512_loop:
	VMOVDQU8.Z (SI), K1, Z0
	VPSADBW Z2, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDQ Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDQ X1, X0, X0
	VPSHUFD $0x4e, X0, X1
	VPADDQ X1, X0, X0
	VMOVD X0, (DI)
	ADDQ DX, SI
	ADDQ $4, DI
	DECQ CX
	JNE sumPlanes512_loop
sumPlanes512_done:
	VZEROUPPER
	RET

// func packPointwise512(dst *byte, src *uint8, rowStride, k4, groups int)
// packs groups groups of 16 columns of the 4·k4 rows at src (rowStride
// bytes apart) group after group: block (g, q) at dst + (g·k4 + q)·64
// gets, in 32-bit lane l, the bytes of rows 4q..4q+3 at column 16g + l.
// The stores run in order (the quad-major packQuad512 stores k4·64 bytes
// apart); the 4·k4 row reads advance 16 bytes a group, each line read
// four times from L1.
TEXT ·packPointwise512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rowStride+16(FP), DX
	MOVQ groups+32(FP), R12
	LEAQ (DX)(DX*2), R9
	TESTQ R12, R12
	JEQ packPointwise512_done
packPointwise512_group:
	MOVQ SI, AX
	MOVQ k4+24(FP), CX
packPointwise512_quad:
	PACK_QUAD16((AX), (AX)(DX*1), (AX)(DX*2), (AX)(R9*1))
	LEAQ (AX)(DX*4), AX
	ADDQ $64, DI
	DECQ CX
	JNE packPointwise512_quad
	ADDQ $16, SI
	DECQ R12
	JNE packPointwise512_group
packPointwise512_done:
	VZEROUPPER
	RET

// dwPermQuad512{,Wide,Plane}(dst, src *uint8, chIn, quadN, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, quads, zx int)
// is dwPerm512r8 (windows of 64 bytes, 128, or whole planes of up to 64)
// on the channels of quads quads of four at a time, its outputs
// quad-interleaved (quadIndex, quadN positions a quad row): for each
// vector, the four channels' windows, the three records' indexes loaded
// once, each channel's rows by VPERMI2B and VPDPBUSD with its weights
// broadcast from memory (wq, 3 a channel), its relu8 requantization from
// its requantScalars in memory (96 bytes each: the Go side checks), the
// four narrowed together by saturating packs (the clamp to [0, 255]) and
// a byte shuffle into one dword per position, stored under the record's
// lane mask (DW_PERM_QUAD).
TEXT ·dwPermQuad512(SB), NOSPLIT, $8-96
	DW_PERM_QUAD(NOP, DWQ_WINDOWS, Z8, Z8, Z8, Z8, DWQ_CHAN, NOP)

// func dwPermQuad512Wide(dst, src *uint8, chIn, quadN, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, quads, zx int)
TEXT ·dwPermQuad512Wide(SB), NOSPLIT, $8-96
	DW_PERM_QUAD(NOP, DWQ_WIDE_WINDOWS, Z11, Z12, Z13, Z14, DWQ_CHAN, NOP)

// func dwPermQuad512Plane(dst, src *uint8, chIn, quadN, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, quads, zx int)
TEXT ·dwPermQuad512Plane(SB), NOSPLIT, $8-96
	DW_PERM_QUAD(DWQ_PLANE, NOP, Z8, Z8, Z8, Z8, DWQ_CHAN, NOP)

// func dwPermQuad512F(dst, src *uint8, chIn, quadN, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, quads, zx int)
// is dwPermQuad512 by the float kernel (rqFloat8: DWQ_CHANF).
TEXT ·dwPermQuad512F(SB), NOSPLIT, $8-96
	DW_PERM_QUAD(NOP, DWQ_WINDOWS, Z8, Z8, Z8, Z8, DWQ_CHANF, DWQ_FSETUP)

// func dwPermQuad512WideF(dst, src *uint8, chIn, quadN, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, quads, zx int)
TEXT ·dwPermQuad512WideF(SB), NOSPLIT, $8-96
	DW_PERM_QUAD(NOP, DWQ_WIDE_WINDOWS, Z11, Z12, Z13, Z14, DWQ_CHANF, DWQ_FSETUP)

// func dwPermQuad512PlaneF(dst, src *uint8, chIn, quadN, images, hw int, vecs *byte, nv int, wq *uint32, c *requantScalars, quads, zx int)
TEXT ·dwPermQuad512PlaneF(SB), NOSPLIT, $8-96
	DW_PERM_QUAD(DWQ_PLANE, NOP, Z8, Z8, Z8, Z8, DWQ_CHANF, DWQ_FSETUP)

// func copyBlocks512(dst, src *byte, n, dstStride int)
// copies n blocks of 64 bytes, back to back at src, to dst dstStride bytes
// apart.
TEXT ·copyBlocks512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ dstStride+24(FP), DX
	TESTQ CX, CX
	JEQ copyBlocks512_done
copyBlocks512_loop:
	VMOVDQU64 (SI), Z0
	VMOVDQU64 Z0, (DI)
	ADDQ $64, SI
	ADDQ DX, DI
	DECQ CX
	JNE copyBlocks512_loop
copyBlocks512_done:
	VZEROUPPER
	RET

