#include "textflag.h"
#include "fq_amd64.h"
#include "clamp_amd64.h"
#include "deint_amd64.h"

// Winograd F(2×2, 3×3)'s transforms on AVX2 (winograd8.go): eight tiles of
// one tile row per vector, lane t holding tile t's value, for every
// channel of a call; on planes of four tiles a row (rows2) two tile rows,
// the upper four lanes' loads and stores from a second base (CX, R8) two
// tile rows down instead of 32 bytes on. Columns 2t and 2t+1 of eight
// tiles are the even and odd floats of 16 consecutive ones: VSHUFPS
// picks them within each 128-bit half and VPERMPD puts the halves' pairs
// in order. Where a call has fewer than eight tiles (keep not nil), each
// store blends the lanes past them back from memory (the callers' buffers
// are their own: the values there stay, as in winoInputGo). Y15 is left
// alone (Go's ABIInternal zero register); so are R14, R15 and BP.

// ST8 stores V at DX (all eight lanes) and moves DX to the next ξ (R9).
#define ST8(V) \
	VMOVUPS V, (DX); \
	ADDQ    R9, DX

// ST8K is ST8 keeping the lanes whose sign is set in Y14.
#define ST8K(V) \
	VBLENDVPS Y14, (DX), V, V; \
	VMOVUPS   V, (DX); \
	ADDQ      R9, DX

// TROW sets Y0–Y3 to row combination A OP B of the padded rows (the row
// offsets A and B from SI and CX: 0, R8, R10 or R12) at columns 0–7 and
// 2–9 from SI and from CX (the step's second half: SI's columns 8–15, or
// two tile rows down where a vector holds two rows of four tiles), then
// E, O, E2, O2 (Y4–Y7) to its columns 2t, 2t+1, 2t+2 and 2t+3 of the
// tiles t.
#define TROW(OP, A, B) \
	VMOVUPS (SI)(A*1), Y0; \
	OP      (SI)(B*1), Y0, Y0; \
	VMOVUPS (CX)(A*1), Y1; \
	OP      (CX)(B*1), Y1, Y1; \
	VMOVUPS 8(SI)(A*1), Y2; \
	OP      8(SI)(B*1), Y2, Y2; \
	VMOVUPS 8(CX)(A*1), Y3; \
	OP      8(CX)(B*1), Y3, Y3; \
	DEINT(Y0, Y1, Y4, Y5); \
	DEINT(Y2, Y3, Y6, Y7)

// TCOLS stores ·B of one row of Bᵀ·d (Y4–Y7 as TROW leaves them) by ST:
// E − E2, O + E2, E2 − O, O − O2, as winoInputGo orders them.
#define TCOLS(ST) \
	VSUBPS Y6, Y4, Y8; \
	ST(Y8); \
	VADDPS Y6, Y5, Y9; \
	ST(Y9); \
	VSUBPS Y5, Y6, Y10; \
	ST(Y10); \
	VSUBPS Y7, Y5, Y11; \
	ST(Y11)

// INCHAN is one channel's input transform (SI its padded plane at the
// step's first row and column, DI its first ξ in v), stores by ST.
#define INCHAN(ST) \
	MOVQ DI, DX; \
	MOVQ 48(BX), CX; \
	ADDQ SI, CX; \
	TROW(VSUBPS, R13, R10); \
	TCOLS(ST); \
	TROW(VADDPS, R8, R10); \
	TCOLS(ST); \
	TROW(VSUBPS, R10, R8); \
	TCOLS(ST); \
	TROW(VSUBPS, R8, R12); \
	TCOLS(ST)

// CHANLOOPS runs CHAN (INCHAN or DYCHAN) for each of the R11 channels
// (BX: the wino8InArgs; SI and DI move a plane and a row of v on): with
// blended stores (loop KEEP) where a.keep is not nil, else plain ones
// (loop FULL); then returns.
#define CHANLOOPS(CHAN, KEEP, FULL) \
	MOVQ    40(BX), AX; \
	TESTQ   AX, AX; \
	JEQ     FULL; \
	VMOVUPS (AX), Y14; \
KEEP: \
	CHAN(ST8K); \
	ADDQ    8(BX), SI; \
	ADDQ    16(BX), DI; \
	DECQ    R11; \
	JNE     KEEP; \
	VZEROUPPER; \
	RET; \
FULL: \
	CHAN(ST8); \
	ADDQ    8(BX), SI; \
	ADDQ    16(BX), DI; \
	DECQ    R11; \
	JNE     FULL; \
	VZEROUPPER; \
	RET

// func winoIn8AVX2(v, p *float32, a *wino8InArgs)
// For each of a.nc channels (padded planes a.plane bytes apart in p, rows
// a.wp4 bytes apart; rows a.cs bytes apart in v) the Bᵀ d B of the eight
// tiles whose first column is at p: value ξ of tile t at v[ξ·ldx + t].
TEXT ·winoIn8AVX2(SB), NOSPLIT, $0-24
	MOVQ v+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ a+16(FP), BX
	MOVQ 0(BX), R11
	MOVQ 24(BX), R9
	MOVQ 32(BX), R8
	LEAQ (R8)(R8*1), R10
	LEAQ (R10)(R8*1), R12
	XORQ R13, R13
	CHANLOOPS(INCHAN, in8_keep, in8_full)

// DYROW stores the four values of row i of A' dy A'ᵀ from its columns
// a = s_i0 (A) and b = s_i1 (B) by ST: a, a + b, a − b, b (winoDyGo).
#define DYROW(ST, A, B) \
	ST(A); \
	VADDPS B, A, Y12; \
	ST(Y12); \
	VSUBPS B, A, Y13; \
	ST(Y13); \
	ST(B)

// DYCHAN is one channel's output-gradient transform (SI its padded plane
// at the step's first row and column, DI its first ξ in v), stores by ST.
#define DYCHAN(ST) \
	MOVQ    DI, DX; \
	MOVQ    48(BX), CX; \
	ADDQ    SI, CX; \
	VMOVUPS (SI), Y0; \
	VMOVUPS (CX), Y1; \
	VMOVUPS (SI)(R8*1), Y2; \
	VMOVUPS (CX)(R8*1), Y3; \
	DEINT(Y0, Y1, Y4, Y5); \
	DEINT(Y2, Y3, Y6, Y7); \
	VADDPS  Y6, Y4, Y8; \
	VADDPS  Y7, Y5, Y9; \
	VSUBPS  Y6, Y4, Y10; \
	VSUBPS  Y7, Y5, Y11; \
	DYROW(ST, Y4, Y5); \
	DYROW(ST, Y8, Y9); \
	DYROW(ST, Y10, Y11); \
	DYROW(ST, Y6, Y7)

// func winoDy8AVX2(v, p *float32, a *wino8InArgs)
// winoIn8AVX2 for the weight gradient's output-gradient transform
// (winoDyGo): 2×2 tiles of the padded planes, two rows each.
TEXT ·winoDy8AVX2(SB), NOSPLIT, $0-24
	MOVQ v+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ a+16(FP), BX
	MOVQ 0(BX), R11
	MOVQ 24(BX), R9
	MOVQ 32(BX), R8
	CHANLOOPS(DYCHAN, dy8_keep, dy8_full)

// ZCOL sets Z0 = m_j + m_{4+j} + m_{8+j} and Z1 = m_{4+j} − m_{8+j} −
// m_{12+j} (winoOutputGo's order) from the ξ rows at SI, R13, CX and DX,
// and moves the four to the next j (R9).
#define ZCOL(Z0, Z1) \
	VMOVUPS (SI), Z0; \
	VADDPS  (R13), Z0, Z0; \
	VADDPS  (CX), Z0, Z0; \
	VMOVUPS (R13), Z1; \
	VSUBPS  (CX), Z1, Z1; \
	VSUBPS  (DX), Z1, Z1; \
	ADDQ    R9, SI; \
	ADDQ    R9, R13; \
	ADDQ    R9, CX; \
	ADDQ    R9, DX

// The output transform's post-maps of the row in Y12, Y13 (Y8–Y11
// scratch; AX the channel's entry: bias, a, sh, hi): none; an evaluation
// batch norm y·a + sh by the FMA affineY takes; and then its clamp to
// [0, hi] as affineClampY's (the same bits as those passes).
#define POSTNONE

#define POSTAFF \
	VBROADCASTSS 4(AX), Y8; \
	VBROADCASTSS 8(AX), Y9; \
	VFMADD213PS  Y9, Y8, Y12; \
	VFMADD213PS  Y9, Y8, Y13

#define POSTCLAMP \
	POSTAFF; \
	VXORPS       Y10, Y10, Y10; \
	VBROADCASTSS 12(AX), Y11; \
	CLAMP(Y12, Y10, Y11, Y8, Y9); \
	CLAMP(Y13, Y10, Y11, Y8, Y9)

// YROW sets the output row of z columns Z0–Z3 (plus the bias Y14, then
// POST) and stores it at D0 and D1 (16 floats): columns 2t (z0 + z1 + z2
// + b) and 2t+1 (z1 − z2 − z3 + b) of the tiles t interleaved; where R12
// is not nil, the columns whose sign is set in its 16 masks keep their
// values. Y8–Y13 scratch.
#define YROW(POST, Z0, Z1, Z2, Z3, D0, D1) \
	VADDPS     Z1, Z0, Y8; \
	VADDPS     Z2, Y8, Y8; \
	VADDPS     Y14, Y8, Y8; \
	VSUBPS     Z2, Z1, Y9; \
	VSUBPS     Z3, Y9, Y9; \
	VADDPS     Y14, Y9, Y9; \
	VUNPCKLPS  Y9, Y8, Y10; \
	VUNPCKHPS  Y9, Y8, Y11; \
	VPERM2F128 $0x20, Y11, Y10, Y12; \
	VPERM2F128 $0x31, Y11, Y10, Y13; \
	POST; \
	TESTQ      R12, R12; \
	JEQ        5(PC); \
	VMOVUPS    (R12), Y10; \
	VMOVUPS    32(R12), Y11; \
	VBLENDVPS  Y10, D0, Y12, Y12; \
	VBLENDVPS  Y11, D1, Y13, Y13; \
	VMOVUPS    Y12, D0; \
	VMOVUPS    Y13, D1

// OUT8(POST, CHAN, NEXT) is winoOut8AVX2's body (DI: y, BX: m, R10: the
// wino8OutArgs) with the post-map POST (labels CHAN and NEXT): a.chs
// bytes from one channel's entry at a.bias to the next (4: the bias
// alone; 16: bias, a, sh, hi).
#define OUT8(POST, CHAN, NEXT) \
	MOVQ 0(R10), R11; \
	MOVQ 24(R10), R9; \
	MOVQ 48(R10), AX; \
	MOVQ 56(R10), R12; \
	MOVQ 72(R10), R8; \
CHAN: \
	MOVQ BX, SI; \
	LEAQ (SI)(R9*4), R13; \
	LEAQ (R13)(R9*4), CX; \
	LEAQ (CX)(R9*4), DX; \
	ZCOL(Y0, Y4); \
	ZCOL(Y1, Y5); \
	ZCOL(Y2, Y6); \
	ZCOL(Y3, Y7); \
	VBROADCASTSS (AX), Y14; \
	YROW(POST, Y0, Y1, Y2, Y3, (DI), (DI)(R8*1)); \
	CMPQ 40(R10), $0; \
	JEQ  NEXT; \
	MOVQ 32(R10), DX; \
	ADDQ DI, DX; \
	LEAQ (DX)(R8*1), CX; \
	CMPQ 40(R10), $1; \
	JEQ  2(PC); \
	MOVQ 80(R10), CX; \
	YROW(POST, Y4, Y5, Y6, Y7, (DX), (CX)); \
NEXT: \
	ADDQ 8(R10), DI; \
	ADDQ 16(R10), BX; \
	ADDQ 64(R10), AX; \
	DECQ R11; \
	JNE  CHAN; \
	VZEROUPPER; \
	RET

// func winoOut8AVX2(y, m *float32, a *wino8OutArgs)
// For each of a.no channels (planes a.ycs bytes apart in y, rows a.ow4
// bytes apart; rows a.mcs bytes apart in m, ξ a.ldx bytes apart) the
// Aᵀ m A + b of eight tiles of a tile row: 16 columns of the output row at
// y and, where a.row1, of the one below. Where a.keep is not nil, the
// columns whose sign is set there keep their values.
TEXT ·winoOut8AVX2(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ m+8(FP), BX
	MOVQ a+16(FP), R10
	OUT8(POSTNONE, out8_chan, out8_next)

// func winoOut8AffAVX2(y, m *float32, a *wino8OutArgs)
// is winoOut8AVX2 with an evaluation batch norm's y·a + sh (a.bias: the
// channels' bias, a, sh, hi).
TEXT ·winoOut8AffAVX2(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ m+8(FP), BX
	MOVQ a+16(FP), R10
	OUT8(POSTAFF, out8a_chan, out8a_next)

// func winoOut8ClampAVX2(y, m *float32, a *wino8OutArgs)
// is winoOut8AffAVX2 then the clamp to [0, hi].
TEXT ·winoOut8ClampAVX2(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ m+8(FP), BX
	MOVQ a+16(FP), R10
	OUT8(POSTCLAMP, out8c_chan, out8c_next)

// PAD8ROWS copies (MAP: maps, then stores) a.nc planes of a.rows rows of
// a.w floats (BX: the padArgs) from SI to DI, 8 floats a move; a row's
// last move loads under the lane mask Y13 and blends the lanes past the
// row back from dst before its store (the border stays as it was; the
// next row's first floats are written after). MAP(X, T) leaves its result
// in T; PLANE runs at each plane's start (R11: the planes left).
#define PAD8ROWS(MAP, PLANE) \
	MOVQ 16(BX), R8; \
	DECQ R8; \
	SHRQ $3, R8; \
	MOVQ 0(BX), R11; \
p8plane: \
	PLANE; \
	MOVQ DI, R12; \
	MOVQ SI, R13; \
	MOVQ 8(BX), R10; \
p8row: \
	MOVQ R12, AX; \
	MOVQ R13, DX; \
	PREFETCHT0 8192(R13); \
	MOVQ R8, R9; \
	TESTQ R9, R9; \
	JZ   p8tail; \
p8full: \
	VMOVUPS (DX), Y0; \
	MAP(Y0, Y5); \
	VMOVUPS Y5, (AX); \
	ADDQ $32, DX; \
	ADDQ $32, AX; \
	DECQ R9; \
	JNZ  p8full; \
p8tail: \
	VMASKMOVPS (DX), Y13, Y0; \
	MAP(Y0, Y5); \
	VMOVUPS (AX), Y14; \
	VBLENDVPS Y13, Y5, Y14, Y5; \
	VMOVUPS Y5, (AX); \
	ADDQ 40(BX), R12; \
	ADDQ 48(BX), R13; \
	DECQ R10; \
	JNZ  p8row; \
	ADDQ 32(BX), DI; \
	ADDQ 24(BX), SI; \
	DECQ R11; \
	JNZ  p8plane; \
	VZEROUPPER

// COPY8 and NOPLANE are PAD8ROWS' plain copy.
#define COPY8(X, T) VMOVAPS X, T
#define NOPLANE

// BNMAP8 sets T to the batch norm's clamped output of X (A·X + B by one
// FMA with A = Y1 and B = Y2, then min(max(·, 0), Y3) with NaN lanes put
// back from X; Y4 zero, Y14 scratch): padRowsAVX512's BNMAP on ymm.
#define BNMAP8(X, T) \
	VFMADD213PS Y2, Y1, X; \
	VMAXPS      Y4, X, T; \
	VMINPS      Y3, T, T; \
	VCMPPS      $3, X, X, Y14; \
	VBLENDVPS   Y14, X, T, T

// BNMAPFQ8 is BNMAP8, then FQ with the constants in Y6–Y12.
#define BNMAPFQ8(X, T) \
	BNMAP8(X, T); \
	FQ(T, Y6, Y7, Y8, Y9, Y10, Y11, Y12)

// func padRows8AVX2(dst, src *float32, a *padArgs, tail *[8]int32)
// padRowsAVX512 on ymm (tail: the lanes of a row's last move).
TEXT ·padRows8AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ a+16(FP), BX
	MOVQ tail+24(FP), AX
	VMOVUPS (AX), Y13
	PAD8ROWS(COPY8, NOPLANE)
	RET

// PADMAP8SETUP loads padRowsMap8AVX2's constants: the tail mask, hi and
// zero.
#define PADMAP8SETUP \
	MOVQ tail+24(FP), AX; \
	VMOVUPS (AX), Y13; \
	VBROADCASTSS 72(BX), Y3; \
	VXORPS Y4, Y4, Y4

// MAPPLANE sets a and b (Y1, Y2) to plane a.nc − R11's.
#define MAPPLANE \
	MOVQ 0(BX), CX; \
	SUBQ R11, CX; \
	MOVQ 56(BX), DX; \
	VBROADCASTSS (DX)(CX*4), Y1; \
	MOVQ 64(BX), DX; \
	VBROADCASTSS (DX)(CX*4), Y2

// func padRowsMap8AVX2(dst, src *float32, a *padMapArgs, tail *[8]int32)
// padRows8AVX2 with plane p's values mapped by BNMAP8 with a.a[p], a.b[p]
// and a.hi (padRowsMapAVX512 on ymm).
TEXT ·padRowsMap8AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ a+16(FP), BX
	PADMAP8SETUP
	PAD8ROWS(BNMAP8, MAPPLANE)
	RET

// func padRowsMapFQ8AVX2(dst, src *float32, a *padMapArgs, tail *[8]int32)
// padRowsMap8AVX2 with each mapped value fake-quantized by FQ with a.fq
// (padRowsMapFQAVX512 on ymm).
TEXT ·padRowsMapFQ8AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ a+16(FP), BX
	MOVQ 80(BX), AX
	FQCONSTS8(AX, AX, Y6, Y7, Y8, Y9, Y10, Y11, Y12, X12)
	PADMAP8SETUP
	PAD8ROWS(BNMAPFQ8, MAPPLANE)
	RET

// DOT8FMA adds the products of W rows Y12, Y13 with V rows Y8–Y11 into
// the accumulators Y0–Y3 (W row 0) and Y4–Y7 (W row 1).
#define DOT8FMA \
	VFMADD231PS Y8, Y12, Y0; \
	VFMADD231PS Y9, Y12, Y1; \
	VFMADD231PS Y10, Y12, Y2; \
	VFMADD231PS Y11, Y12, Y3; \
	VFMADD231PS Y8, Y13, Y4; \
	VFMADD231PS Y9, Y13, Y5; \
	VFMADD231PS Y10, Y13, Y6; \
	VFMADD231PS Y11, Y13, Y7

// DOT8SUM sums each of A0–A3 across its lanes into X register A0's four
// lanes (A0's sum first); A1–A3 clobbered.
#define DOT8SUM(A0, A1, A2, A3, X0, X1) \
	VHADDPS      A1, A0, A0; \
	VHADDPS      A3, A2, A2; \
	VHADDPS      A2, A0, A0; \
	VEXTRACTF128 $1, A0, X1; \
	VADDPS       X1, X0, X0

// func winoDot8AVX2(w, v *float32, ldt, t int, du *float32, ldu, ob, cb, acc int, tail *[8]int32)
// winoDotAVX512 on ymm: du (2·ob rows × 4·cb columns, row stride ldu
// floats) = W·Vᵀ (+ du when acc ≠ 0) for W (2·ob rows) and V (4·cb rows)
// of t floats, rows ldt floats apart: 2×4 dot products at a time (eight
// accumulators, six loads a step for eight FMAs), the last t mod 8 floats
// by masked loads (tail: their lanes).
TEXT ·winoDot8AVX2(SB), NOSPLIT, $0-80
	MOVQ ldt+16(FP), R8
	SHLQ $2, R8
	MOVQ tail+72(FP), AX
	VMOVUPS (AX), Y14
	MOVQ v+8(FP), R11
	MOVQ cb+56(FP), R10
	MOVQ acc+64(FP), R9

d8cb:
	MOVQ w+0(FP), R13
	MOVQ ob+48(FP), R12
	// DI: du's block (row 0 of this o block, this c block's 4 columns)
	MOVQ cb+56(FP), DI
	SUBQ R10, DI
	SHLQ $4, DI
	ADDQ du+32(FP), DI

d8ob:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ R13, AX
	MOVQ R11, SI
	LEAQ (SI)(R8*2), DX
	MOVQ t+24(FP), CX
	SHRQ $3, CX
	JZ   d8tail

d8loop:
	VMOVUPS (SI), Y8
	VMOVUPS (SI)(R8*1), Y9
	VMOVUPS (DX), Y10
	VMOVUPS (DX)(R8*1), Y11
	VMOVUPS (AX), Y12
	VMOVUPS (AX)(R8*1), Y13
	DOT8FMA
	ADDQ $32, AX
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNZ  d8loop

d8tail:
	MOVQ t+24(FP), CX
	ANDQ $7, CX
	JZ   d8sum
	VMASKMOVPS (SI), Y14, Y8
	VMASKMOVPS (SI)(R8*1), Y14, Y9
	VMASKMOVPS (DX), Y14, Y10
	VMASKMOVPS (DX)(R8*1), Y14, Y11
	VMASKMOVPS (AX), Y14, Y12
	VMASKMOVPS (AX)(R8*1), Y14, Y13
	DOT8FMA

d8sum:
	DOT8SUM(Y0, Y1, Y2, Y3, X0, X1)
	DOT8SUM(Y4, Y5, Y6, Y7, X4, X5)
	MOVQ ldu+40(FP), BX
	SHLQ $2, BX
	TESTQ R9, R9
	JEQ  d8store
	VADDPS (DI), X0, X0
	VADDPS (DI)(BX*1), X4, X4
d8store:
	VMOVUPS X0, (DI)
	VMOVUPS X4, (DI)(BX*1)
	// the next o block: 2 rows of W and of du on
	LEAQ (DI)(BX*2), DI
	LEAQ (R13)(R8*2), R13
	DECQ R12
	JNZ  d8ob
	LEAQ (R11)(R8*4), R11
	DECQ R10
	JNZ  d8cb
	VZEROUPPER
	RET

// WG8STEP is one k step of sgemm4x32avx2's loop: B's 16 columns at BX,
// A's 4 rows at AX into Y4–Y11; both pointers move on.
#define WG8STEP \
	VMOVUPS      (BX), Y0; \
	VMOVUPS      32(BX), Y1; \
	VBROADCASTSS 0(AX), Y2; \
	VFMADD231PS  Y0, Y2, Y4; \
	VFMADD231PS  Y1, Y2, Y5; \
	VBROADCASTSS 4(AX), Y3; \
	VFMADD231PS  Y0, Y3, Y6; \
	VFMADD231PS  Y1, Y3, Y7; \
	VBROADCASTSS 8(AX), Y2; \
	VFMADD231PS  Y0, Y2, Y8; \
	VFMADD231PS  Y1, Y2, Y9; \
	VBROADCASTSS 12(AX), Y3; \
	VFMADD231PS  Y0, Y3, Y10; \
	VFMADD231PS  Y1, Y3, Y11; \
	ADDQ         $16, AX; \
	ADDQ         $128, BX

// WG8STORE(H) stores the 4×16 accumulators at DI, rows DX bytes apart
// (H unused: WG8STOREM's signature).
#define WG8STORE(H) \
	VMOVUPS Y4, (DI); \
	VMOVUPS Y5, 32(DI); \
	ADDQ    DX, DI; \
	VMOVUPS Y6, (DI); \
	VMOVUPS Y7, 32(DI); \
	ADDQ    DX, DI; \
	VMOVUPS Y8, (DI); \
	VMOVUPS Y9, 32(DI); \
	ADDQ    DX, DI; \
	VMOVUPS Y10, (DI); \
	VMOVUPS Y11, 32(DI)

// WG8HALF is one 4×16 pass (the B and C columns H bytes on) of the A
// panel at R8 over the B panel at R12 into C at SI (R10: the A panel's
// bytes, 16·kc), its k loop labelled LOOP, stored by STORE(H).
#define WG8HALF(H, LOOP, STORE) \
	MOVQ   R8, AX; \
	LEAQ   H(R12), BX; \
	LEAQ   H(SI), DI; \
	MOVQ   R10, CX; \
	SHRQ   $4, CX; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7; \
	VXORPS Y8, Y8, Y8; \
	VXORPS Y9, Y9, Y9; \
	VXORPS Y10, Y10, Y10; \
	VXORPS Y11, Y11, Y11; \
LOOP: \
	WG8STEP; \
	DECQ   CX; \
	JNE    LOOP; \
	STORE(H)

// func winoGemm8AVX2(kc int, a, b, c *float32, ldc, mp, np int)
// C (4·mp rows, row stride ldc floats) = A·B for A as mp 4-row panels of
// kc steps (kc ≥ 1) and B as np full 32-column panels of kc steps (the
// input transform's layout): sgemm4x32avx2's two 4×16 passes for each A
// and B panel in one call (the same bits), where a call per tile went
// through Go's bounds checks and the kernel's alpha and accumulate paths.
TEXT ·winoGemm8AVX2(SB), NOSPLIT, $0-56
	MOVQ ldc+32(FP), DX
	SHLQ $2, DX
	MOVQ kc+0(FP), R10
	SHLQ $4, R10
	MOVQ b+16(FP), R12
	MOVQ c+24(FP), R13
	MOVQ np+48(FP), R11
wg8b:
	MOVQ a+8(FP), R8
	MOVQ R13, SI
	MOVQ mp+40(FP), R9
wg8a:
	WG8HALF(0, wg8loop0, WG8STORE)
	WG8HALF(64, wg8loop1, WG8STORE)
	ADDQ R10, R8
	LEAQ (SI)(DX*4), SI
	DECQ R9
	JNZ  wg8a
	MOVQ kc+0(FP), CX
	SHLQ $7, CX
	ADDQ CX, R12
	ADDQ $128, R13
	DECQ R11
	JNZ  wg8b
	VZEROUPPER
	RET

// WG8STOREM is WG8STORE under the column masks at R11 (columns H/4 on:
// 16 lanes of sign bits): VMASKMOVPS stores only the panel's columns.
#define WG8STOREM(H) \
	VMOVUPS    H(R11), Y12; \
	VMOVUPS    H+32(R11), Y13; \
	VMASKMOVPS Y4, Y12, (DI); \
	VMASKMOVPS Y5, Y13, 32(DI); \
	ADDQ       DX, DI; \
	VMASKMOVPS Y6, Y12, (DI); \
	VMASKMOVPS Y7, Y13, 32(DI); \
	ADDQ       DX, DI; \
	VMASKMOVPS Y8, Y12, (DI); \
	VMASKMOVPS Y9, Y13, 32(DI); \
	ADDQ       DX, DI; \
	VMASKMOVPS Y10, Y12, (DI); \
	VMASKMOVPS Y11, Y13, 32(DI)

// WG8STEP8 is WG8STEP on B's first 8 columns only (Y4, Y6, Y8, Y10).
#define WG8STEP8 \
	VMOVUPS      (BX), Y0; \
	VBROADCASTSS 0(AX), Y2; \
	VFMADD231PS  Y0, Y2, Y4; \
	VBROADCASTSS 4(AX), Y3; \
	VFMADD231PS  Y0, Y3, Y6; \
	VBROADCASTSS 8(AX), Y2; \
	VFMADD231PS  Y0, Y2, Y8; \
	VBROADCASTSS 12(AX), Y3; \
	VFMADD231PS  Y0, Y3, Y10; \
	ADDQ         $16, AX; \
	ADDQ         $128, BX

// func winoGemmCols8AVX2(kc int, a, b, c *float32, ldc, mp int, masks *[32]int32, mode int)
// is winoGemm8AVX2 for one B panel of which only the columns whose mask
// lanes are set are stored (a panel's last, partial one): mode 0 for at
// most 8 columns (one vector a row), 1 for at most 16 (the first 4×16
// pass), 2 for more (both): the same FMAs in the same order (the same
// bits), where a whole tile computed aside and copied out had cost a
// twentieth of resnet20's FP32 step.
TEXT ·winoGemmCols8AVX2(SB), NOSPLIT, $0-64
	MOVQ ldc+32(FP), DX
	SHLQ $2, DX
	MOVQ kc+0(FP), R10
	SHLQ $4, R10
	MOVQ b+16(FP), R12
	MOVQ c+24(FP), SI
	MOVQ a+8(FP), R8
	MOVQ mp+40(FP), R9
	MOVQ masks+48(FP), R11
	MOVQ mode+56(FP), R13
	VMOVUPS (R11), Y12
wgc8a:
	TESTQ R13, R13
	JNE wgc8wide
	MOVQ   R8, AX
	MOVQ   R12, BX
	MOVQ   SI, DI
	MOVQ   R10, CX
	SHRQ   $4, CX
	VXORPS Y4, Y4, Y4
	VXORPS Y6, Y6, Y6
	VXORPS Y8, Y8, Y8
	VXORPS Y10, Y10, Y10
wgc8loop8:
	WG8STEP8
	DECQ CX
	JNE  wgc8loop8
	VMASKMOVPS Y4, Y12, (DI)
	ADDQ       DX, DI
	VMASKMOVPS Y6, Y12, (DI)
	ADDQ       DX, DI
	VMASKMOVPS Y8, Y12, (DI)
	ADDQ       DX, DI
	VMASKMOVPS Y10, Y12, (DI)
	JMP wgc8next
wgc8wide:
	WG8HALF(0, wgc8loop0, WG8STOREM)
	CMPQ R13, $2
	JNE wgc8next
	WG8HALF(64, wgc8loop1, WG8STOREM)
wgc8next:
	ADDQ R10, R8
	LEAQ (SI)(DX*4), SI
	DECQ R9
	JNZ  wgc8a
	VZEROUPPER
	RET
