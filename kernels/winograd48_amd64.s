#include "textflag.h"
#include "clamp_amd64.h"

// Winograd F(4×4, 3×3)'s transforms on AVX2 (winograd48.go): eight tiles a
// vector, four units of two tiles each, lane l unit l mod 4's tile l / 4.
// A unit's padded row is two loads (columns 0–7 and 4–11 from its first
// column); VUNPCKL/HPS then VUNPCKL/HPD of the four units' loads give the
// lanes' columns 0–3 (first loads) and 4–5 (second), and the output
// transform's same unpacks in reverse give each unit's output row in one
// vector. Both transforms go through 36 × 8 floats of scratch between
// their two passes (the 36 or 24 intermediate vectors outnumber the
// registers). Y15 is left alone (Go's ABIInternal zero register); so are
// R14, R15 and BP.

DATA w48four<>+0(SB)/4, $0x40800000
DATA w48four<>+4(SB)/4, $0x40800000
DATA w48four<>+8(SB)/4, $0x40800000
DATA w48four<>+12(SB)/4, $0x40800000
DATA w48four<>+16(SB)/4, $0x40800000
DATA w48four<>+20(SB)/4, $0x40800000
DATA w48four<>+24(SB)/4, $0x40800000
DATA w48four<>+28(SB)/4, $0x40800000
GLOBL w48four<>(SB), RODATA|NOPTR, $32

DATA w48eight<>+0(SB)/4, $0x41000000
DATA w48eight<>+4(SB)/4, $0x41000000
DATA w48eight<>+8(SB)/4, $0x41000000
DATA w48eight<>+12(SB)/4, $0x41000000
DATA w48eight<>+16(SB)/4, $0x41000000
DATA w48eight<>+20(SB)/4, $0x41000000
DATA w48eight<>+24(SB)/4, $0x41000000
DATA w48eight<>+28(SB)/4, $0x41000000
GLOBL w48eight<>(SB), RODATA|NOPTR, $32

// BT6 is bt6 on vectors: d0–d5 in Y0–Y5 (Y0, Y3 and Y5 kept), r0–r5 into
// Y6, Y9, Y10, Y12, Y11, Y7 (Y8 scratch), in bt6's order; the products by
// 4 are exact, so each FMA rounds where bt6's sum does.
#define BT6 \
	VMOVAPS      Y4, Y6; \
	VFNMADD231PS w48four<>(SB), Y2, Y6; \
	VMULPS       w48four<>(SB), Y1, Y7; \
	VSUBPS       Y3, Y7, Y8; \
	VSUBPS       Y8, Y6, Y9; \
	VADDPS       Y8, Y6, Y10; \
	VSUBPS       Y2, Y4, Y8; \
	VSUBPS       Y1, Y3, Y11; \
	VADDPS       Y11, Y11, Y11; \
	VADDPS       Y11, Y8, Y12; \
	VSUBPS       Y11, Y8, Y11; \
	VFMADD231PS  w48four<>(SB), Y0, Y6; \
	VSUBPS       Y2, Y6, Y6; \
	VFNMADD231PS w48four<>(SB), Y3, Y7; \
	VSUBPS       Y3, Y7, Y7; \
	VADDPS       Y5, Y7, Y7

// ST6(R5) stores a column's six values (Y6, Y9, Y10, Y12, Y11, then R5:
// BT6's and A6's outputs) to ξ = 6i + J from SI on (R13: six ξ), then
// moves SI on one ξ (a.ldx at BX).
#define ST6(R5) \
	MOVQ    SI, AX; \
	VMOVUPS Y6, (AX); \
	ADDQ    R13, AX; \
	VMOVUPS Y9, (AX); \
	ADDQ    R13, AX; \
	VMOVUPS Y10, (AX); \
	ADDQ    R13, AX; \
	VMOVUPS Y12, (AX); \
	ADDQ    R13, AX; \
	VMOVUPS Y11, (AX); \
	ADDQ    R13, AX; \
	VMOVUPS R5, (AX); \
	ADDQ    24(BX), SI

// IN48SETUP reads the wino48InArgs at BX (SI: p): CX the channels, R12 a
// padded row's bytes, R13 six ξ's, R8–R11 the four units' first floats.
#define IN48SETUP \
	MOVQ 0(BX), CX; \
	MOVQ 32(BX), R12; \
	MOVQ 24(BX), R13; \
	LEAQ (R13)(R13*2), R13; \
	SHLQ $1, R13; \
	MOVQ 48(BX), R8; \
	ADDQ SI, R8; \
	MOVQ 56(BX), R9; \
	ADDQ SI, R9; \
	MOVQ 64(BX), R10; \
	ADDQ SI, R10; \
	MOVQ 72(BX), R11; \
	ADDQ SI, R11

// IN48NEXT(LOOP) moves the units to the next channel's planes and DI to
// its columns of v, and loops to LOOP while channels are left.
#define IN48NEXT(LOOP) \
	MOVQ 8(BX), AX; \
	ADDQ AX, R8; \
	ADDQ AX, R9; \
	ADDQ AX, R10; \
	ADDQ AX, R11; \
	ADDQ 16(BX), DI; \
	DECQ CX; \
	JNE  LOOP; \
	VZEROUPPER; \
	RET

// UNITS4 loads the four units' 8 floats of the row AX bytes below their
// first (R8–R11) and unpacks them into the lanes' columns 0–3 (Y0–Y3;
// Y4–Y7 scratch).
#define UNITS4 \
	VMOVUPS   (R8)(AX*1), Y0; \
	VMOVUPS   (R9)(AX*1), Y1; \
	VMOVUPS   (R10)(AX*1), Y2; \
	VMOVUPS   (R11)(AX*1), Y3; \
	VUNPCKLPS Y1, Y0, Y4; \
	VUNPCKHPS Y1, Y0, Y5; \
	VUNPCKLPS Y3, Y2, Y6; \
	VUNPCKHPS Y3, Y2, Y7; \
	VUNPCKLPD Y6, Y4, Y0; \
	VUNPCKHPD Y6, Y4, Y1; \
	VUNPCKLPD Y7, Y5, Y2; \
	VUNPCKHPD Y7, Y5, Y3

// SCRROW(R5) stores a row's six values (Y6, Y9, Y10, Y12, Y11, then R5:
// BT6's and A6's outputs) at DX, then moves DX on a row of scratch and AX
// a row of the planes.
#define SCRROW(R5) \
	VMOVUPS Y6, 0(DX); \
	VMOVUPS Y9, 32(DX); \
	VMOVUPS Y10, 64(DX); \
	VMOVUPS Y12, 96(DX); \
	VMOVUPS Y11, 128(DX); \
	VMOVUPS R5, 160(DX); \
	ADDQ    $192, DX; \
	ADDQ    R12, AX

// INROW is pass 1 for the padded row AX bytes below the units' first
// (R8–R11): the four units' loads unpacked into the lanes' six columns
// (Y0–Y5), BT6, the row's six values stored at DX (and DX moved on a row
// of scratch, AX a padded row).
#define INROW \
	UNITS4; \
	VMOVUPS   16(R8)(AX*1), Y4; \
	VMOVUPS   16(R9)(AX*1), Y5; \
	VMOVUPS   16(R10)(AX*1), Y6; \
	VMOVUPS   16(R11)(AX*1), Y7; \
	VUNPCKLPS Y5, Y4, Y4; \
	VUNPCKLPS Y7, Y6, Y6; \
	VUNPCKHPD Y6, Y4, Y5; \
	VUNPCKLPD Y6, Y4, Y4; \
	BT6; \
	SCRROW(Y7)

// INCOL(J) is pass 2 for column J (its scratch offset J·32): the six rows'
// values, BT6, stored by ST6 (SI: ξ = J).
#define INCOL(J) \
	VMOVUPS J+0(DX), Y0; \
	VMOVUPS J+192(DX), Y1; \
	VMOVUPS J+384(DX), Y2; \
	VMOVUPS J+576(DX), Y3; \
	VMOVUPS J+768(DX), Y4; \
	VMOVUPS J+960(DX), Y5; \
	BT6; \
	ST6(Y7)

// func wino48InAVX2(v, p *float32, a *wino48InArgs)
// For each of a.nc channels (padded planes a.plane bytes apart in p, rows
// a.wp4 bytes apart; columns a.cs bytes apart in v, ξ a.ldx) the Bᵀ d B
// of the eight tiles of the units at p + a.src[k]: value ξ of lane l at
// v[ξ·ldx + l].
TEXT ·wino48InAVX2(SB), NOSPLIT, $0-24
	MOVQ v+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ a+16(FP), BX
	IN48SETUP

w48in_chan:
	MOVQ 40(BX), DX
	XORQ AX, AX
	INROW
	INROW
	INROW
	INROW
	INROW
	INROW
	MOVQ 40(BX), DX
	MOVQ DI, SI
	INCOL(0)
	INCOL(32)
	INCOL(64)
	INCOL(96)
	INCOL(128)
	INCOL(160)
	IN48NEXT(w48in_chan)

// A6 is a6 on vectors: d0–d3 in Y0–Y3 (kept), its six values into Y6,
// Y9, Y10, Y12, Y11, Y0 (Y7, Y8 scratch; the last is d3: Y3 copied), in
// a6's order.
#define A6 \
	VADDPS      Y2, Y0, Y7; \
	VADDPS      Y3, Y1, Y8; \
	VADDPS      Y8, Y7, Y9; \
	VSUBPS      Y8, Y7, Y10; \
	VMOVAPS     Y0, Y6; \
	VMOVAPS     Y0, Y7; \
	VFMADD231PS w48four<>(SB), Y2, Y7; \
	VMOVAPS     Y1, Y8; \
	VFMADD231PS w48four<>(SB), Y3, Y8; \
	VADDPS      Y8, Y8, Y8; \
	VADDPS      Y8, Y7, Y12; \
	VSUBPS      Y8, Y7, Y11; \
	VMOVAPS     Y3, Y0

// DYROW is pass 1 of the output gradient's transform for the plane row AX
// bytes below the units' first (R8–R11): the four units' 8 floats (their
// two tiles' four columns) unpacked into the lanes' four columns, A6, the
// row's six values stored at DX (DX moved on a row of scratch, AX a row).
#define DYROW \
	UNITS4; \
	A6; \
	SCRROW(Y0)

// DYCOL(J) is pass 2 for column J: its four rows' values, A6, stored by
// ST6.
#define DYCOL(J) \
	VMOVUPS J+0(DX), Y0; \
	VMOVUPS J+192(DX), Y1; \
	VMOVUPS J+384(DX), Y2; \
	VMOVUPS J+576(DX), Y3; \
	A6; \
	ST6(Y0)

// func wino48DyAVX2(v, p *float32, a *wino48InArgs)
// wino48InAVX2 for the weight gradient's output-gradient transform
// (wino48DyGo): A dY Aᵀ of the 4×4 tiles of the units at p + a.src[k]
// (planes with zeros past the outputs).
TEXT ·wino48DyAVX2(SB), NOSPLIT, $0-24
	MOVQ v+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ a+16(FP), BX
	IN48SETUP

w48dy_chan:
	MOVQ 40(BX), DX
	XORQ AX, AX
	DYROW
	DYROW
	DYROW
	DYROW
	MOVQ 40(BX), DX
	MOVQ DI, SI
	DYCOL(0)
	DYCOL(32)
	DYCOL(64)
	DYCOL(96)
	DYCOL(128)
	DYCOL(160)
	IN48NEXT(w48dy_chan)

// AT6 is at6 on vectors: m0–m5 in Y0–Y5 (all but Y0, Y3–Y5 clobbered),
// y0–y3 into Y6–Y9 (Y10, Y11 scratch), in at6's order.
#define AT6 \
	VADDPS      Y2, Y1, Y10; \
	VSUBPS      Y2, Y1, Y11; \
	VADDPS      Y4, Y3, Y1; \
	VSUBPS      Y4, Y3, Y2; \
	VADDPS      Y10, Y0, Y6; \
	VADDPS      Y1, Y6, Y6; \
	VADDPS      Y2, Y2, Y7; \
	VADDPS      Y7, Y11, Y7; \
	VMOVAPS     Y10, Y8; \
	VFMADD231PS w48four<>(SB), Y1, Y8; \
	VFMADD231PS w48eight<>(SB), Y2, Y11; \
	VADDPS      Y5, Y11, Y9

#define NOBIAS
#define ADDBIAS VADDPS Y13, Y1, Y1

// OUTCOL(BIAS, S) is pass 1 for column S of the products (its scratch
// offset S·32; SI: its ξ = S row at m, R13: six ξ): the column's six
// values (BIAS: the bias in Y13 added to m[1][S]), AT6, stored to scratch
// rows 0–3; SI moves on one ξ.
#define OUTCOL(BIAS, S) \
	VMOVUPS (SI), Y0; \
	VMOVUPS (SI)(R13*1), Y1; \
	VMOVUPS (SI)(R13*2), Y2; \
	LEAQ    (SI)(R13*2), R12; \
	ADDQ    R13, R12; \
	VMOVUPS (R12), Y3; \
	VMOVUPS (R12)(R13*1), Y4; \
	VMOVUPS (R12)(R13*2), Y5; \
	BIAS; \
	AT6; \
	VMOVUPS Y6, S+0(DX); \
	VMOVUPS Y7, S+192(DX); \
	VMOVUPS Y8, S+384(DX); \
	VMOVUPS Y9, S+576(DX); \
	ADDQ    R9, SI

// STU(U, XU, DST, COLS, ROWS, PART, LT4, ONE, DONE) stores unit k's output
// row CX (bytes AX below its first) from U where CX < a.rows[k] (at
// ROWS(R10)): a.cols[k] floats (COLS(R10)) at y + a.dst[k] (DST(R10)): 8
// by one store, else the low half's four, then two, then one (U
// clobbered).
#define STU(U, XU, DST, COLS, ROWS, PART, LT4, ONE, DONE) \
	CMPQ         CX, ROWS(R10); \
	JGE          DONE; \
	MOVQ         DST(R10), SI; \
	ADDQ         DI, SI; \
	ADDQ         AX, SI; \
	MOVQ         COLS(R10), R8; \
	CMPQ         R8, $8; \
	JNE          PART; \
	VMOVUPS      U, (SI); \
	JMP          DONE; \
PART: \
	CMPQ         R8, $4; \
	JLT          LT4; \
	VMOVUPS      XU, (SI); \
	VEXTRACTF128 $1, U, XU; \
	ADDQ         $16, SI; \
	SUBQ         $4, R8; \
	JEQ          DONE; \
LT4: \
	CMPQ         R8, $2; \
	JLT          ONE; \
	VMOVQ        XU, (SI); \
	JEQ          DONE; \
	VEXTRACTPS   $2, XU, 8(SI); \
	JMP          DONE; \
ONE: \
	VMOVSS       XU, (SI); \
DONE:

// POST48(NOPOST) applies an evaluation batch norm to the units' rows
// Y4–Y7 where a.post ≠ 0 (1: y·a + sh by one FMA, as affineY; 2: then
// CLAMP to [0, hi]; the channel's bias, a, sh, hi at the entry in the
// frame's slot): the bits of the passes it replaces.
#define POST48(NOPOST) \
	MOVQ         160(R10), R8; \
	TESTQ        R8, R8; \
	JEQ          NOPOST; \
	MOVQ         chp-8(SP), R12; \
	VBROADCASTSS 4(R12), Y8; \
	VBROADCASTSS 8(R12), Y9; \
	VFMADD213PS  Y9, Y8, Y4; \
	VFMADD213PS  Y9, Y8, Y5; \
	VFMADD213PS  Y9, Y8, Y6; \
	VFMADD213PS  Y9, Y8, Y7; \
	CMPQ         R8, $1; \
	JEQ          NOPOST; \
	VXORPS       Y10, Y10, Y10; \
	VBROADCASTSS 12(R12), Y11; \
	CLAMP(Y4, Y10, Y11, Y8, Y9); \
	CLAMP(Y5, Y10, Y11, Y8, Y9); \
	CLAMP(Y6, Y10, Y11, Y8, Y9); \
	CLAMP(Y7, Y10, Y11, Y8, Y9); \
NOPOST:

// OUTROW(I, L…) is pass 2 for output row I (scratch offset I·192; CX = I,
// AX = I·a.ow4): the row's six values, AT6, the lanes' four columns
// unpacked into the units' rows (Y4–Y7), each stored by STU.
#define OUTROW(I, L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13, L14, L15, NOPOST) \
	VMOVUPS   I+0(DX), Y0; \
	VMOVUPS   I+32(DX), Y1; \
	VMOVUPS   I+64(DX), Y2; \
	VMOVUPS   I+96(DX), Y3; \
	VMOVUPS   I+128(DX), Y4; \
	VMOVUPS   I+160(DX), Y5; \
	AT6; \
	VUNPCKLPS Y7, Y6, Y0; \
	VUNPCKLPS Y9, Y8, Y1; \
	VUNPCKHPS Y7, Y6, Y2; \
	VUNPCKHPS Y9, Y8, Y3; \
	VUNPCKLPD Y1, Y0, Y4; \
	VUNPCKHPD Y1, Y0, Y5; \
	VUNPCKLPD Y3, Y2, Y6; \
	VUNPCKHPD Y3, Y2, Y7; \
	POST48(NOPOST); \
	STU(Y4, X4, 56, 88, 120, L0, L1, L2, L3); \
	STU(Y5, X5, 64, 96, 128, L4, L5, L6, L7); \
	STU(Y6, X6, 72, 104, 136, L8, L9, L10, L11); \
	STU(Y7, X7, 80, 112, 144, L12, L13, L14, L15); \
	INCQ      CX; \
	ADDQ      32(R10), AX

// func wino48OutAVX2(y, m *float32, a *wino48OutArgs)
// For each of a.no channels (planes a.ycs bytes apart in y, rows a.ow4;
// the channels' columns a.mcs bytes apart in m, ξ a.ldx) the Aᵀ m A +
// bias of the eight lanes (the channels' entries a.chs bytes apart from
// a.bias: the bias, then a, sh, hi for POST48), each unit's rows and
// columns in the plane stored.
TEXT ·wino48OutAVX2(SB), NOSPLIT, $8-24
	MOVQ y+0(FP), DI
	MOVQ m+8(FP), BX
	MOVQ a+16(FP), R10
	MOVQ 0(R10), R11
	MOVQ 24(R10), R9
	LEAQ (R9)(R9*2), R13
	SHLQ $1, R13
	MOVQ 48(R10), AX
	MOVQ AX, chp-8(SP)

w48out_chan:
	MOVQ         chp-8(SP), AX
	VBROADCASTSS (AX), Y13
	MOVQ         40(R10), DX
	MOVQ         BX, SI
	OUTCOL(NOBIAS, 0)
	OUTCOL(ADDBIAS, 32)
	OUTCOL(NOBIAS, 64)
	OUTCOL(NOBIAS, 96)
	OUTCOL(NOBIAS, 128)
	OUTCOL(NOBIAS, 160)
	XORQ         CX, CX
	XORQ         AX, AX
	OUTROW(0, o0p0, o0l0, o0o0, o0d0, o0p1, o0l1, o0o1, o0d1, o0p2, o0l2, o0o2, o0d2, o0p3, o0l3, o0o3, o0d3, o0n)
	OUTROW(192, o1p0, o1l0, o1o0, o1d0, o1p1, o1l1, o1o1, o1d1, o1p2, o1l2, o1o2, o1d2, o1p3, o1l3, o1o3, o1d3, o1n)
	OUTROW(384, o2p0, o2l0, o2o0, o2d0, o2p1, o2l1, o2o1, o2d1, o2p2, o2l2, o2o2, o2d2, o2p3, o2l3, o2o3, o2d3, o2n)
	OUTROW(576, o3p0, o3l0, o3o0, o3d0, o3p1, o3l1, o3o1, o3d1, o3p2, o3l2, o3o2, o3d2, o3p3, o3l3, o3o3, o3d3, o3n)
	ADDQ         8(R10), DI
	ADDQ         16(R10), BX
	MOVQ         152(R10), AX
	ADDQ         AX, chp-8(SP)
	DECQ         R11
	JNE          w48out_chan
	VZEROUPPER
	RET

DATA w48negsixth<>+0(SB)/4, $0xbe2aaaab
DATA w48negsixth<>+4(SB)/4, $0xbe2aaaab
DATA w48negsixth<>+8(SB)/4, $0xbe2aaaab
DATA w48negsixth<>+12(SB)/4, $0xbe2aaaab
DATA w48negsixth<>+16(SB)/4, $0xbe2aaaab
DATA w48negsixth<>+20(SB)/4, $0xbe2aaaab
DATA w48negsixth<>+24(SB)/4, $0xbe2aaaab
DATA w48negsixth<>+28(SB)/4, $0xbe2aaaab
GLOBL w48negsixth<>(SB), RODATA|NOPTR, $32

DATA w48t24<>+0(SB)/4, $0x3d2aaaab
DATA w48t24<>+4(SB)/4, $0x3d2aaaab
DATA w48t24<>+8(SB)/4, $0x3d2aaaab
DATA w48t24<>+12(SB)/4, $0x3d2aaaab
DATA w48t24<>+16(SB)/4, $0x3d2aaaab
DATA w48t24<>+20(SB)/4, $0x3d2aaaab
DATA w48t24<>+24(SB)/4, $0x3d2aaaab
DATA w48t24<>+28(SB)/4, $0x3d2aaaab
GLOBL w48t24<>(SB), RODATA|NOPTR, $32

DATA w48quarter<>+0(SB)/4, $0x3e800000
DATA w48quarter<>+4(SB)/4, $0x3e800000
DATA w48quarter<>+8(SB)/4, $0x3e800000
DATA w48quarter<>+12(SB)/4, $0x3e800000
DATA w48quarter<>+16(SB)/4, $0x3e800000
DATA w48quarter<>+20(SB)/4, $0x3e800000
DATA w48quarter<>+24(SB)/4, $0x3e800000
DATA w48quarter<>+28(SB)/4, $0x3e800000
GLOBL w48quarter<>(SB), RODATA|NOPTR, $32

// G6 is g6 on vectors: g0–g2 in Y0–Y2, G·g into Y3–Y8 (Y9–Y11 scratch),
// in g6's order: the products by 4, 2 and ¼ are exact, and −(x)·⅙ is
// x·(−⅙) bit for bit (float32(1/6) negated; 1/24 as float32 too).
#define G6 \
	VADDPS      Y2, Y0, Y9; \
	VMOVAPS     Y0, Y10; \
	VFMADD231PS w48four<>(SB), Y2, Y10; \
	VADDPS      Y1, Y1, Y11; \
	VMULPS      w48quarter<>(SB), Y0, Y3; \
	VADDPS      Y1, Y9, Y4; \
	VMULPS      w48negsixth<>(SB), Y4, Y4; \
	VSUBPS      Y1, Y9, Y5; \
	VMULPS      w48negsixth<>(SB), Y5, Y5; \
	VADDPS      Y11, Y10, Y6; \
	VMULPS      w48t24<>(SB), Y6, Y6; \
	VSUBPS      Y11, Y10, Y7; \
	VMULPS      w48t24<>(SB), Y7, Y7; \
	VMOVAPS     Y2, Y8

// WGATHER(Y) gathers the eight lanes' tap at DX (lane l's at DX + Y14's
// lane l) into Y under the lane mask at R12 (rows past m stay 0).
#define WGATHER(Y) \
	VMOVDQU    (R12), Y11; \
	VXORPS     Y, Y, Y; \
	VGATHERDPS Y11, (DX)(Y14*1), Y

// WST(Y, X) stores a value's eight rows as two 4-row pieces: the low four
// at DX, the high four at DX + panel (R11) where R10 ≠ 0; DX moves on a
// matrix (R8).
#define WST(Y, X) \
	VMOVUPS      X, (DX); \
	TESTQ        R10, R10; \
	JEQ          2(PC); \
	VEXTRACTF128 $1, Y, (DX)(R11*1); \
	ADDQ         R8, DX

// func wino4WeightsPackedAVX2(u *float32, ldu int, w *float32, idx *int32, tap int, lanes *[8]int32, two, panel, k, wstep int, scratch *float32)
// is wino4WeightsPackedAVX512 on ymm: for k columns (each w moved on
// wstep bytes, u on 16), eight rows' kernels (lane l's at w + idx[l]·4,
// taps tap bytes apart: 4, or −4 from tap 8 for the input gradient's
// kernels turned half round) transformed by G6 on the columns, then the
// rows, each of the 36 values stored as two 4-row pieces of the packed
// panels (u, and u + panel where two ≠ 0), matrices ldu bytes apart.
TEXT ·wino4WeightsPackedAVX2(SB), NOSPLIT, $0-88
	MOVQ         idx+24(FP), AX
	VMOVDQU      (AX), Y14
	VPSLLD       $2, Y14, Y14
	MOVQ         lanes+40(FP), R12
	MOVQ         u+0(FP), DI
	MOVQ         ldu+8(FP), R8
	MOVQ         w+16(FP), SI
	MOVQ         tap+32(FP), R9
	MOVQ         two+48(FP), R10
	MOVQ         panel+56(FP), R11
	MOVQ         k+64(FP), CX
	MOVQ         scratch+80(FP), BX

w4w_col:
	// columns q = 0, 1, 2 of the kernel: taps q, 3+q, 6+q
	MOVQ    SI, AX
	XORQ    R13, R13
w4w_q:
	MOVQ    AX, DX
	WGATHER(Y0)
	LEAQ    (R9)(R9*2), DX
	ADDQ    AX, DX
	WGATHER(Y1)
	LEAQ    (R9)(R9*2), DX
	LEAQ    (AX)(DX*2), DX
	WGATHER(Y2)
	G6
	VMOVUPS Y3, 0(BX)(R13*1)
	VMOVUPS Y4, 32(BX)(R13*1)
	VMOVUPS Y5, 64(BX)(R13*1)
	VMOVUPS Y6, 96(BX)(R13*1)
	VMOVUPS Y7, 128(BX)(R13*1)
	VMOVUPS Y8, 160(BX)(R13*1)
	ADDQ    R9, AX
	ADDQ    $192, R13
	CMPQ    R13, $576
	JNE     w4w_q

	// rows a = 0…5: t[0][a], t[1][a], t[2][a] → the values ξ = 6a + b
	MOVQ    BX, AX
	MOVQ    DI, DX
w4w_a:
	VMOVUPS 0(AX), Y0
	VMOVUPS 192(AX), Y1
	VMOVUPS 384(AX), Y2
	G6
	// Y3–Y8 to six matrices in turn
	WST(Y3, X3)
	WST(Y4, X4)
	WST(Y5, X5)
	WST(Y6, X6)
	WST(Y7, X7)
	WST(Y8, X8)
	ADDQ    $32, AX
	LEAQ    192(BX), R13
	CMPQ    AX, R13
	JNE     w4w_a

	ADDQ wstep+72(FP), SI
	ADDQ $16, DI
	DECQ CX
	JNE  w4w_col
	VZEROUPPER
	RET
