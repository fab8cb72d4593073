#include "textflag.h"
#include "deint_amd64.h"

// The 2×2 stride-2 max pool on AVX2 (pool2_amd64.go): eight outputs a
// vector, a row pair's even and odd columns split by VSHUFPS + VPERMPD,
// then poolPlanes' steps on the four candidates a, b (top row), c, d
// (bottom row) in its order — the index moves on only where a candidate is
// strictly greater than the maximum so far, and each maximum is Go's max
// (GOMAX) — so that values and indices are poolPlanes' bits.

// GOMAX sets DST to Go's max(X, Y): the larger; of equal values (±0
// included) their bits ANDed (+0 over −0); Y where Y is NaN, else X where
// X is. T1, T2 scratch.
#define GOMAX(X, Y, DST, T1, T2) \
	VMAXPS    Y, X, DST; \
	VCMPPS    $0, Y, X, T1; \
	VANDPS    Y, X, T2; \
	VBLENDVPS T1, T2, DST, DST; \
	VCMPPS    $3, X, X, T1; \
	VBLENDVPS T1, X, DST, DST; \
	VCMPPS    $3, Y, Y, T1; \
	VBLENDVPS T1, Y, DST, DST

// func pool2x2RowsAVX2(x, y *float32, am *int32, rows, ow, nv, base int, lanes *[8]int32)
// For rows output rows (row pairs of x, 2·ow floats wide; outputs ow a
// row), nv vectors of eight outputs each from the row's start (the last
// one's lanes past ow run on into the next row pair and the next row's
// outputs, which the caller writes after), am getting base + the chosen
// float's index in x (lanes: 0, 2, …, 14).
TEXT ·pool2x2RowsAVX2(SB), NOSPLIT, $0-64
	MOVQ    x+0(FP), AX
	MOVQ    y+8(FP), BX
	MOVQ    am+16(FP), DX
	MOVQ    rows+24(FP), R10
	MOVQ    ow+32(FP), R9
	SHLQ    $3, R9              // bytes per input row: 2·ow floats
	MOVQ    lanes+56(FP), R11
	VMOVDQU (R11), Y13
	MOVQ    base+48(FP), R11
	VMOVQ   R11, X14
	VPBROADCASTD X14, Y14
	VPADDD  Y13, Y14, Y13       // the row's first indices
	MOVQ    ow+32(FP), R11
	SHLQ    $1, R11
	VMOVQ   R11, X12
	VPBROADCASTD X12, Y12       // the bottom row's offset: 2·ow
	MOVL    $1, R11
	VMOVQ   R11, X11
	VPBROADCASTD X11, Y11
	MOVL    $16, R11
	VMOVQ   R11, X10
	VPBROADCASTD X10, Y10
	MOVQ    ow+32(FP), R11
	SHLQ    $2, R11
	VMOVQ   R11, X9
	VPBROADCASTD X9, Y9         // indices a row on: 4·ow
	TESTQ   R10, R10
	JEQ     p2done

p2row:
	MOVQ    AX, SI
	MOVQ    BX, DI
	MOVQ    DX, R8
	VMOVDQA Y13, Y14
	MOVQ    nv+40(FP), CX
	TESTQ   CX, CX
	JEQ     p2next

p2vec:
	VMOVUPS   (SI), Y0
	VMOVUPS   32(SI), Y1
	VMOVUPS   (SI)(R9*1), Y2
	VMOVUPS   32(SI)(R9*1), Y3
	DEINT(Y0, Y1, Y4, Y5)
	DEINT(Y2, Y3, Y6, Y7)
	VMOVDQA   Y14, Y0
	VPADDD    Y11, Y14, Y1
	VCMPPS    $0x1e, Y4, Y5, Y2
	VBLENDVPS Y2, Y1, Y0, Y0
	GOMAX(Y4, Y5, Y8, Y2, Y3)
	VPADDD    Y12, Y14, Y1
	VCMPPS    $0x1e, Y8, Y6, Y2
	VBLENDVPS Y2, Y1, Y0, Y0
	GOMAX(Y8, Y6, Y4, Y2, Y3)
	VPADDD    Y11, Y1, Y1
	VCMPPS    $0x1e, Y4, Y7, Y2
	VBLENDVPS Y2, Y1, Y0, Y0
	GOMAX(Y4, Y7, Y8, Y2, Y3)
	VMOVUPS   Y8, (DI)
	VMOVDQU   Y0, (R8)
	ADDQ      $64, SI
	ADDQ      $32, DI
	ADDQ      $32, R8
	VPADDD    Y10, Y14, Y14
	DECQ      CX
	JNE       p2vec

p2next:
	LEAQ   (AX)(R9*2), AX
	MOVQ   ow+32(FP), R11
	LEAQ   (BX)(R11*4), BX
	LEAQ   (DX)(R11*4), DX
	VPADDD Y9, Y13, Y13
	DECQ   R10
	JNE    p2row

p2done:
	VZEROUPPER
	RET
