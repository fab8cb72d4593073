#include "textflag.h"
#include "fma8x32_amd64.h"
#include "fq_amd64.h"

// Winograd F(2×2, 3×3) (winograd.go): the input, output and output-gradient
// transforms, up to 16 tiles per vector, lane t holding tile t's value (16
// tiles of a tile row, or, for planes of at most 7 tiles a row, two tile
// rows side by side); the products' GEMM over all B panels in one call
// (winoGemmAVX512); the weight gradient's dot products (winoDotAVX512); the
// copy of an image's planes into zero-bordered ones (padRowsAVX512). Z15 is
// left alone (Go's ABIInternal zero register); so are R14, R15 and BP.

// INROW loads one padded row (DX) as columns 2t, 2t+1, 2t+2, 2t+3 of the
// tiles t (E, O, E2, O2), each a two-table permute (indices Z28–Z31) of the
// row at DX and DX+R8 (E, O) and at DX+R10 and DX+R10+R8 (E2, O2), and
// moves DX to the next row. CX scratch.
#define INROW(E, O, E2, O2) \
	VMOVUPS (DX), O; \
	VMOVAPS Z28, E; \
	VPERMI2PS (DX)(R8*1), O, E; \
	VPERMT2PS (DX)(R8*1), Z29, O; \
	LEAQ (DX)(R10*1), CX; \
	VMOVUPS (CX), O2; \
	VMOVAPS Z30, E2; \
	VPERMI2PS (CX)(R8*1), O2, E2; \
	VPERMT2PS (CX)(R8*1), Z31, O2; \
	ADDQ 56(BX), DX

// INROWW is INROW where all four columns of the step's tiles lie in the
// two tables (winoInArgs.win): two loads instead of six (the transform was
// bound by its loads, most of them split across cache lines). Z17 and Z18
// scratch (ROWCOMB writes them only after the last row).
#define INROWW(E, O, E2, O2) \
	VMOVUPS (DX), Z17; \
	VMOVUPS (DX)(R8*1), Z18; \
	VMOVAPS Z28, E; \
	VPERMI2PS Z18, Z17, E; \
	VMOVAPS Z29, O; \
	VPERMI2PS Z18, Z17, O; \
	VMOVAPS Z30, E2; \
	VPERMI2PS Z18, Z17, E2; \
	VMOVAPS Z31, O2; \
	VPERMI2PS Z18, Z17, O2; \
	ADDQ 56(BX), DX

// ROWCOMB is Bᵀ·d for one column of the tiles: from rows R0–R3,
// T0 = R0 − R2, T1 = R1 + R2, R2 = R2 − R1 and R0 = R1 − R3.
#define ROWCOMB(R0, R1, R2, R3, T0, T1) \
	VSUBPS R2, R0, T0; \
	VADDPS R2, R1, T1; \
	VSUBPS R1, R2, R2; \
	VSUBPS R3, R1, R0

// INSTORE stores V under K2 at DX and under K3 at DX+CX (the lanes past a
// 32-column panel's end, into the next panel), and moves DX to the next ξ.
#define INSTORE(V) \
	VMOVUPS V, K2, (DX); \
	VMOVUPS V, K3, (DX)(CX*1); \
	ADDQ 80(BX), DX

// INSTORE1 is INSTORE for a chunk inside one panel (K3 empty: a store
// under an empty mask still costs a store).
#define INSTORE1(V) \
	VMOVUPS V, K2, (DX); \
	ADDQ 80(BX), DX

// COLCOMB is ·B for one row of Bᵀ·d (columns TE, TO, TE2, TO2): stores
// TE − TE2, TO + TE2, TE2 − TO, TO − TO2 by ST.
#define COLCOMB(ST, TE, TO, TE2, TO2) \
	VSUBPS TE2, TE, Z25; \
	ST(Z25); \
	VADDPS TE2, TO, Z26; \
	ST(Z26); \
	VSUBPS TO, TE2, Z25; \
	ST(Z25); \
	VSUBPS TO2, TO, Z26; \
	ST(Z26)

// CHUNKMASKS sets K1 to the chunk's min(16, R9) lanes and K2/K3 to those
// before and after the end of the 32-column panel its first tile (t0 +
// R12) is in. CX, DX and K4 scratch.
#define CHUNKMASKS \
	MOVQ  R9, CX; \
	CMPQ  CX, $16; \
	JLE   2(PC); \
	MOVQ  $16, CX; \
	MOVL  $1, DX; \
	SHLL  CX, DX; \
	DECL  DX; \
	KMOVW DX, K1; \
	MOVQ  64(BX), CX; \
	ADDQ  R12, CX; \
	ANDQ  $31, CX; \
	MOVL  $32, DX; \
	SUBL  CX, DX; \
	MOVL  $0xFFFF, CX; \
	CMPL  DX, $16; \
	JGE   6(PC); \
	MOVL  DX, CX; \
	MOVL  $1, DX; \
	SHLL  CX, DX; \
	DECL  DX; \
	MOVL  DX, CX; \
	KMOVW CX, K4; \
	KANDW K4, K1, K2; \
	KANDNW K1, K4, K3

// STOREADDR sets DX to the place in v (DI) of the chunk's first tile (t0 +
// R12) and CX to a panel on, less its 32 columns.
#define STOREADDR \
	MOVQ  64(BX), CX; \
	ADDQ  R12, CX; \
	MOVQ  CX, DX; \
	SHRQ  $5, DX; \
	IMULQ 72(BX), DX; \
	ANDQ  $31, CX; \
	LEAQ  (DX)(CX*4), DX; \
	ADDQ  DI, DX; \
	MOVQ  72(BX), CX; \
	SUBQ  $128, CX

// TILESTEP starts a step of the input and output-gradient transforms: R9
// = the tiles of the step, min(tp, tiles − done), R13 = its first row
// (AX). CX scratch.
#define TILESTEP \
	MOVQ    24(BX), R9; \
	MOVQ    32(BX), CX; \
	SUBQ    R12, CX; \
	CMPQ    R9, CX; \
	CMOVQGT CX, R9; \
	MOVQ    AX, R13

// TILENEXT(CHUNK, STEP, CHAN) ends a chunk of those transforms: on to the
// step's next 16 tiles (CHUNK), else the next step (STEP), else the next
// channel (CHAN); it falls through when every channel is done. Its label
// is local to the function it is used in.
#define TILENEXT(CHUNK, STEP, CHAN) \
	ADDQ $128, R13; \
	CMPQ R9, $16; \
	JLE  tn_stepend; \
	ADDQ $16, R12; \
	SUBQ $16, R9; \
	JMP  CHUNK; \
tn_stepend: \
	ADDQ R9, R12; \
	ADDQ 16(BX), AX; \
	CMPQ R12, 32(BX); \
	JL   STEP; \
	ADDQ 88(BX), DI; \
	ADDQ 8(BX), SI; \
	INCQ R11; \
	CMPQ R11, 0(BX); \
	JL   CHAN

// func winoInAVX512(v, p *float32, a *winoInArgs)
// For each of a.nc channels (planes a.plane bytes apart in p, a.cs bytes
// apart in v) the tiles' Bᵀ d B, tile t's value ξ at v[ξ·ldx + (t>>5)·ps +
// (t&31)] (bytes: a.ldx, a.ps) with t counted from a.t0; see winoInArgs.
TEXT ·winoInAVX512(SB), NOSPLIT, $0-24
	MOVQ v+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ a+16(FP), BX
	VMOVDQU32 96(BX), Z28
	VMOVDQU32 160(BX), Z29
	VMOVDQU32 224(BX), Z30
	VMOVDQU32 288(BX), Z31
	MOVQ 40(BX), R8
	MOVQ 48(BX), R10
	XORQ R11, R11
	CMPQ R11, 0(BX)
	JGE  indone

inchan:
	MOVQ SI, AX
	XORQ R12, R12

inouter:
	TILESTEP

inchunk:
	CHUNKMASKS

	MOVQ R13, DX
	CMPQ 352(BX), $0
	JNE  inwin
	INROW(Z0, Z1, Z2, Z3)
	INROW(Z4, Z5, Z6, Z7)
	INROW(Z8, Z9, Z10, Z11)
	INROW(Z12, Z13, Z14, Z16)
	JMP  inrows

inwin:
	INROWW(Z0, Z1, Z2, Z3)
	INROWW(Z4, Z5, Z6, Z7)
	INROWW(Z8, Z9, Z10, Z11)
	INROWW(Z12, Z13, Z14, Z16)

inrows:
	ROWCOMB(Z0, Z4, Z8, Z12, Z17, Z21)
	ROWCOMB(Z1, Z5, Z9, Z13, Z18, Z22)
	ROWCOMB(Z2, Z6, Z10, Z14, Z19, Z23)
	ROWCOMB(Z3, Z7, Z11, Z16, Z20, Z24)

	STOREADDR
	KORTESTW K3, K3
	JZ       inone
	COLCOMB(INSTORE, Z17, Z18, Z19, Z20)
	COLCOMB(INSTORE, Z21, Z22, Z23, Z24)
	COLCOMB(INSTORE, Z8, Z9, Z10, Z11)
	COLCOMB(INSTORE, Z0, Z1, Z2, Z3)
	JMP      innext

inone:
	COLCOMB(INSTORE1, Z17, Z18, Z19, Z20)
	COLCOMB(INSTORE1, Z21, Z22, Z23, Z24)
	COLCOMB(INSTORE1, Z8, Z9, Z10, Z11)
	COLCOMB(INSTORE1, Z0, Z1, Z2, Z3)

innext:
	TILENEXT(inchunk, inouter, inchan)

indone:
	VZEROUPPER
	RET

// ZCOMB is Aᵀ·m for one column j of the tiles (m rows M0, M4, M8, M12):
// Z0 = M0 + M4 + M8, Z1 = M4 − M8 − M12.
#define ZCOMB(M0, M4, M8, M12, Z0, Z1) \
	VADDPS M4, M0, Z0; \
	VADDPS M8, Z0, Z0; \
	VSUBPS M8, M4, Z1; \
	VSUBPS M12, Z1, Z1

// YROW is one output row of the tiles from one row A0–A3 of Aᵀ·m:
// Z25 = A0 + A1 + A2 + b and Z26 = A1 − A2 − A3 + b (b in Z27), then
// interleaved into the row's two stores, Z0 (indices Z28) and Z25 (Z29).
#define YROW(A0, A1, A2, A3) \
	VADDPS A1, A0, Z25; \
	VADDPS A2, Z25, Z25; \
	VADDPS Z27, Z25, Z25; \
	VSUBPS A2, A1, Z26; \
	VSUBPS A3, Z26, Z26; \
	VADDPS Z27, Z26, Z26; \
	VMOVAPS Z28, Z0; \
	VPERMI2PS Z26, Z25, Z0; \
	VPERMT2PS Z26, Z29, Z25

#define MLOAD(ZR) \
	VMOVUPS.Z (DX), K1, ZR; \
	ADDQ 24(BX), DX

// func winoOutAVX512(y, m *float32, a *winoOutArgs)
// For each of a.no channels (planes a.ycs bytes apart in y, rows of m a.mcs
// bytes apart) the plane's Aᵀ m A + bias, tile t's value ξ at m[ξ·ldx + t];
// see winoOutArgs.
TEXT ·winoOutAVX512(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ m+8(FP), SI
	MOVQ a+16(FP), BX
	VMOVDQU32 104(BX), Z28
	VMOVDQU32 168(BX), Z29
	XORQ R11, R11
	CMPQ R11, 0(BX)
	JGE  outdone

outchan:
	MOVQ 96(BX), DX
	VBROADCASTSS (DX)(R11*4), Z27
	MOVQ SI, AX
	MOVQ 56(BX), R12
	MOVQ 40(BX), R13

outouter:
	// R8: the tiles of this step; R9: its first output row; R10: columns left
	MOVQ    32(BX), R8
	CMPQ    R8, R13
	CMOVQGT R13, R8
	MOVQ    56(BX), R9
	SUBQ    R12, R9
	IMULQ   48(BX), R9
	LEAQ    (DI)(R9*4), R9
	MOVQ    48(BX), R10

outchunk:
	MOVQ R8, CX
	CMPQ CX, $16
	JLE  outlanes
	MOVQ $16, CX

outlanes:
	MOVL  $1, DX
	SHLL  CX, DX
	DECL  DX
	KMOVW DX, K1
	MOVQ  AX, DX
	MLOAD(Z0)
	MLOAD(Z1)
	MLOAD(Z2)
	MLOAD(Z3)
	MLOAD(Z4)
	MLOAD(Z5)
	MLOAD(Z6)
	MLOAD(Z7)
	MLOAD(Z8)
	MLOAD(Z9)
	MLOAD(Z10)
	MLOAD(Z11)
	MLOAD(Z12)
	MLOAD(Z13)
	MLOAD(Z14)
	MLOAD(Z16)

	// K2/K3: the columns of the two stores (one row's 32, or, two tile
	// rows a vector, the same columns of two rows)
	MOVQ  R10, CX
	CMPQ  CX, $32
	JLE   outcols
	MOVQ  $32, CX

outcols:
	MOVQ  $-1, DX
	SHLQ  CX, DX
	NOTQ  DX
	KMOVW DX, K2
	SHRQ  $16, DX
	KMOVW DX, K3
	CMPQ  88(BX), $0
	JE    outwide
	KMOVW K2, K3

outwide:
	ZCOMB(Z0, Z4, Z8, Z12, Z17, Z21)
	ZCOMB(Z1, Z5, Z9, Z13, Z18, Z22)
	ZCOMB(Z2, Z6, Z10, Z14, Z19, Z23)
	ZCOMB(Z3, Z7, Z11, Z16, Z20, Z24)
	YROW(Z17, Z18, Z19, Z20)
	VMOVUPS Z0, K2, (R9)
	CMPQ    R12, 64(BX)
	JLE     outrow1
	MOVQ    72(BX), DX
	VMOVUPS Z25, K3, (R9)(DX*1)

outrow1:
	CMPQ R12, $2
	JL   outnext
	YROW(Z21, Z22, Z23, Z24)
	MOVQ    48(BX), CX
	LEAQ    (R9)(CX*4), CX
	VMOVUPS Z0, K2, (CX)
	MOVQ    64(BX), DX
	INCQ    DX
	CMPQ    R12, DX
	JLE     outnext
	MOVQ    72(BX), DX
	VMOVUPS Z25, K3, (CX)(DX*1)

outnext:
	CMPQ R8, $16
	JLE  outouterend
	ADDQ $64, AX
	ADDQ $128, R9
	SUBQ $32, R10
	SUBQ $16, R8
	SUBQ $16, R13
	JMP  outchunk

outouterend:
	LEAQ (AX)(R8*4), AX
	SUBQ R8, R13
	SUBQ 64(BX), R12
	SUBQ $2, R12
	TESTQ R13, R13
	JG   outouter
	ADDQ 8(BX), DI
	ADDQ 16(BX), SI
	INCQ R11
	CMPQ R11, 0(BX)
	JL   outchan

outdone:
	VZEROUPPER
	RET

// DYROW loads one row (DX) of a padded dy plane as columns 2t and 2t+1 of
// the tiles t (E, O), two-table permutes (indices Z28, Z29) of the row at DX
// and DX+R8, and moves DX to the next row.
#define DYROW(E, O) \
	VMOVUPS (DX), O; \
	VMOVAPS Z28, E; \
	VPERMI2PS (DX)(R8*1), O, E; \
	VPERMT2PS (DX)(R8*1), Z29, O; \
	ADDQ 56(BX), DX

// DYCOL is ·A'ᵀ for one row (columns SE, SO) of A'·dy: stores SE, SE + SO,
// SE − SO, SO by ST.
#define DYCOL(ST, SE, SO) \
	ST(SE); \
	VADDPS SO, SE, Z25; \
	ST(Z25); \
	VSUBPS SO, SE, Z26; \
	ST(Z26); \
	ST(SO)

// func winoDyAVX512(v, p *float32, a *winoInArgs)
// For each of a.nc padded dy planes the tiles' A' dy A'ᵀ (winoDyGo), stored
// as winoInAVX512 stores; a.offq is unused.
TEXT ·winoDyAVX512(SB), NOSPLIT, $0-24
	MOVQ v+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ a+16(FP), BX
	VMOVDQU32 96(BX), Z28
	VMOVDQU32 160(BX), Z29
	MOVQ 40(BX), R8
	XORQ R11, R11
	CMPQ R11, 0(BX)
	JGE  dydone

dychan:
	MOVQ SI, AX
	XORQ R12, R12

dyouter:
	TILESTEP

dychunk:
	CHUNKMASKS

	MOVQ R13, DX
	DYROW(Z0, Z1)
	DYROW(Z2, Z3)
	// rows of A'·dy: Z0/Z1, Z4/Z5 = d0 + d1, Z6/Z7 = d0 − d1, Z2/Z3
	VADDPS Z2, Z0, Z4
	VADDPS Z3, Z1, Z5
	VSUBPS Z2, Z0, Z6
	VSUBPS Z3, Z1, Z7

	STOREADDR
	KORTESTW K3, K3
	JZ       dyone
	DYCOL(INSTORE, Z0, Z1)
	DYCOL(INSTORE, Z4, Z5)
	DYCOL(INSTORE, Z6, Z7)
	DYCOL(INSTORE, Z2, Z3)
	JMP      dynext

dyone:
	DYCOL(INSTORE1, Z0, Z1)
	DYCOL(INSTORE1, Z4, Z5)
	DYCOL(INSTORE1, Z6, Z7)
	DYCOL(INSTORE1, Z2, Z3)

dynext:
	TILENEXT(dychunk, dyouter, dychan)

dydone:
	VZEROUPPER
	RET

// func padRowsAVX512(dst, src *float32, a *padArgs)
// Copies a.nc planes of a.rows rows of a.w floats from src (rows a.srcRow,
// planes a.srcPlane bytes apart) to dst (rows a.dstRow, planes a.dstPlane
// bytes apart), 16 floats a move, the last one masked. The source is
// fetched 8 KiB ahead: it is usually a layer's input read for the first
// time since it was written, from memory (resnet20's step −2 to −4% at 1
// KiB; a cold 3.2 MB input 137 → 98 µs at 8 KiB, 110 at 16).
TEXT ·padRowsAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ a+16(FP), BX
	MOVQ 16(BX), CX
	ANDQ $15, CX
	MOVL $1, DX
	SHLL CX, DX
	DECL DX
	KMOVW DX, K1
	MOVQ 16(BX), R8
	SHRQ $4, R8
	MOVQ 0(BX), R11
	TESTQ R11, R11
	JLE  paddone

padplane:
	MOVQ DI, R12
	MOVQ SI, R13
	MOVQ 8(BX), R10
	TESTQ R10, R10
	JLE  padnextplane

padrow:
	MOVQ R12, AX
	MOVQ R13, DX
	PREFETCHT0 8192(R13)
	PREFETCHT0 8256(R13)
	MOVQ R8, R9
	TESTQ R9, R9
	JZ   padtail

padfull:
	VMOVUPS (DX), Z0
	VMOVUPS Z0, (AX)
	ADDQ $64, DX
	ADDQ $64, AX
	DECQ R9
	JNZ  padfull

padtail:
	VMOVUPS.Z (DX), K1, Z0
	VMOVUPS Z0, K1, (AX)
	ADDQ 40(BX), R12
	ADDQ 48(BX), R13
	DECQ R10
	JNZ  padrow

padnextplane:
	ADDQ 32(BX), DI
	ADDQ 24(BX), SI
	DECQ R11
	JNZ  padplane

paddone:
	VZEROUPPER
	RET

// BNMAP sets T to the batch norm's clamped output of X (A·X + B by one FMA,
// then CLAMP's min(max(·, 0), HI) with NaN lanes put back from X): the bits
// of affineActPlanesAVX2, 16 lanes at a time. X is clobbered, K2 scratch.
#define BNMAP(X, A, B, ZERO, HI, T) \
	VFMADD213PS B, A, X; \
	VMAXPS ZERO, X, T; \
	VMINPS HI, T, T; \
	VCMPPS $3, X, X, K2; \
	VMOVAPS X, K2, T

// MAPFQ_NONE leaves a mapped value as it is.
#define MAPFQ_NONE(T)

// MAPFQ fake-quantizes T in place (FQ): Z6 = s, Z7 = 1/s, Z8 = lo,
// Z9 = hi, Z10 = rlo, Z11 = rhi, Z12 = 1.5·2²³.
#define MAPFQ(T) FQ(T, Z6, Z7, Z8, Z9, Z10, Z11, Z12)

// PADMAPROWS is the body of padRowsMapAVX512 and padRowsMapFQAVX512 (FQ:
// MAPFQ_NONE or MAPFQ): BX holds the padMapArgs.
#define PADMAPROWS(FQ) \
	MOVQ 16(BX), CX; \
	ANDQ $15, CX; \
	MOVL $1, DX; \
	SHLL CX, DX; \
	DECL DX; \
	KMOVW DX, K1; \
	MOVQ 56(BX), R8; \
	MOVQ 64(BX), CX; \
	VBROADCASTSS 72(BX), Z3; \
	VXORPS Z4, Z4, Z4; \
	MOVQ 0(BX), R11; \
	TESTQ R11, R11; \
	JLE  pmdone; \
pmplane: \
	VBROADCASTSS (R8), Z1; \
	VBROADCASTSS (CX), Z2; \
	MOVQ DI, R12; \
	MOVQ SI, R13; \
	MOVQ 8(BX), R10; \
	TESTQ R10, R10; \
	JLE  pmnextplane; \
pmrow: \
	MOVQ R12, AX; \
	MOVQ R13, DX; \
	PREFETCHT0 8192(R13); \
	PREFETCHT0 8256(R13); \
	MOVQ 16(BX), R9; \
	SHRQ $4, R9; \
	TESTQ R9, R9; \
	JZ   pmtail; \
pmfull: \
	VMOVUPS (DX), Z0; \
	BNMAP(Z0, Z1, Z2, Z4, Z3, Z5); \
	FQ(Z5); \
	VMOVUPS Z5, (AX); \
	ADDQ $64, DX; \
	ADDQ $64, AX; \
	DECQ R9; \
	JNZ  pmfull; \
pmtail: \
	VMOVUPS.Z (DX), K1, Z0; \
	BNMAP(Z0, Z1, Z2, Z4, Z3, Z5); \
	FQ(Z5); \
	VMOVUPS Z5, K1, (AX); \
	ADDQ 40(BX), R12; \
	ADDQ 48(BX), R13; \
	DECQ R10; \
	JNZ  pmrow; \
pmnextplane: \
	ADDQ $4, R8; \
	ADDQ $4, CX; \
	ADDQ 32(BX), DI; \
	ADDQ 24(BX), SI; \
	DECQ R11; \
	JNZ  pmplane; \
pmdone: \
	VZEROUPPER

// func padRowsMapAVX512(dst, src *float32, a *padMapArgs)
// padRowsAVX512 with plane p's values mapped by BNMAP with a.a[p], a.b[p]
// and a.hi on their way (a Handoff's batch norm output, computed by the
// convolution that reads it instead of written and read back).
TEXT ·padRowsMapAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ a+16(FP), BX
	PADMAPROWS(MAPFQ_NONE)
	RET

// func padRowsMapFQAVX512(dst, src *float32, a *padMapArgs)
// padRowsMapAVX512 with each mapped value fake-quantized by MAPFQ with the
// constants a.fq (s, 1/s, lo, hi, rlo, rhi): the output of a quantizer
// folded into the batch norm (fakequant.QuantizingProducer).
TEXT ·padRowsMapFQAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ a+16(FP), BX
	MOVQ 80(BX), AX
	FQCONSTS(AX, AX, Z6, Z7, Z8, Z9, Z10, Z11, Z12)
	PADMAPROWS(MAPFQ)
	RET

// WGSTORE stores C row DI = (LO | HI) under the column masks K1/K2 and
// moves DI to the next row.
#define WGSTORE(LO, HI) \
	VMOVUPS LO, K1, (DI); \
	VMOVUPS HI, K2, 64(DI); \
	ADDQ DX, DI

// func winoGemmAVX512(kc int, a, b, c *float32, ldc, pairs, n int)
// C (8·pairs rows, row stride ldc floats) = A·B over the n columns of B:
// A packed as 4-row panels of kc steps, B as 32-column panels of kc steps
// (the input transform's layout): sgemm8x32avx512's loop for each pair of
// A panels and each B panel in one call (one call per tile cost a fifth of
// the 16-deep products of 16-channel layers).
TEXT ·winoGemmAVX512(SB), NOSPLIT, $0-56
	MOVQ ldc+32(FP), DX
	SHLQ $2, DX
	MOVQ b+16(FP), R12
	MOVQ c+24(FP), R13
	MOVQ n+48(FP), R9
	TESTQ R9, R9
	JLE  wgdone

wgpanel:
	MOVQ R9, CX
	CMPQ CX, $32
	JLE  wgmask
	MOVQ $32, CX

wgmask:
	MOVQ  $-1, R8
	SHLQ  CX, R8
	NOTQ  R8
	KMOVW R8, K1
	SHRQ  $16, R8
	KMOVW R8, K2
	MOVQ  a+8(FP), R11
	MOVQ  R13, DI
	MOVQ  pairs+40(FP), R10

wgpair:
	ACC16ZERO
	MOVQ kc+0(FP), CX
	MOVQ R11, AX
	MOVQ CX, R8
	SHLQ $4, R8
	LEAQ (AX)(R8*1), SI
	MOVQ R12, BX
	TESTQ CX, CX
	JEQ  wgstore
	PCALIGN $64

wgloop:
	FMA8X32
	DECQ CX
	JNE  wgloop

wgstore:
	WGSTORE(Z16, Z17)
	WGSTORE(Z18, Z19)
	WGSTORE(Z20, Z21)
	WGSTORE(Z22, Z23)
	WGSTORE(Z24, Z25)
	WGSTORE(Z26, Z27)
	WGSTORE(Z28, Z29)
	WGSTORE(Z30, Z31)
	MOVQ kc+0(FP), R8
	SHLQ $5, R8
	ADDQ R8, R11
	DECQ R10
	JNZ  wgpair
	MOVQ kc+0(FP), R8
	SHLQ $7, R8
	ADDQ R8, R12
	ADDQ $128, R13
	SUBQ $32, R9
	JG   wgpanel

wgdone:
	VZEROUPPER
	RET

// DOTFMA adds the products of W rows 0–3 (Z0–Z3) and V rows 0–3 (Z4–Z7),
// lane by lane, to the 16 accumulators Z16–Z31 (W row i, V row j: Z16+4i+j).
#define DOTFMA \
	VFMADD231PS Z4, Z0, Z16; \
	VFMADD231PS Z5, Z0, Z17; \
	VFMADD231PS Z6, Z0, Z18; \
	VFMADD231PS Z7, Z0, Z19; \
	VFMADD231PS Z4, Z1, Z20; \
	VFMADD231PS Z5, Z1, Z21; \
	VFMADD231PS Z6, Z1, Z22; \
	VFMADD231PS Z7, Z1, Z23; \
	VFMADD231PS Z4, Z2, Z24; \
	VFMADD231PS Z5, Z2, Z25; \
	VFMADD231PS Z6, Z2, Z26; \
	VFMADD231PS Z7, Z2, Z27; \
	VFMADD231PS Z4, Z3, Z28; \
	VFMADD231PS Z5, Z3, Z29; \
	VFMADD231PS Z6, Z3, Z30; \
	VFMADD231PS Z7, Z3, Z31

// HPAIR sums lanes of A and B pairwise into S: per 128-bit block, A's
// partial sums in lanes 0 and 2, B's in 1 and 3.
#define HPAIR(A, B, S) \
	VUNPCKLPS B, A, Z8; \
	VUNPCKHPS B, A, Z9; \
	VADDPS Z9, Z8, S

// HQUAD sums HPAIR results S0 and S1 into U: per 128-bit block, one
// partial sum of each of their four sources.
#define HQUAD(S0, S1, U) \
	VUNPCKLPD S1, S0, Z8; \
	VUNPCKHPD S1, S0, Z9; \
	VADDPS Z9, Z8, U

// DOTROW stores the 128-bit block N of Z14 to the four floats at CX (adds
// it to them when R9 ≠ 0) and moves CX to the next row (R12 bytes on).
#define DOTROW(N) \
	VEXTRACTF32X4 $N, Z14, X8; \
	TESTQ R9, R9; \
	JEQ 2(PC); \
	VADDPS (CX), X8, X8; \
	VMOVUPS X8, (CX); \
	ADDQ R12, CX

// func winoDotAVX512(w, v *float32, ldt, t int, du *float32, ldu, ob, cb, acc int)
// du (4·ob rows × 4·cb columns, row stride ldu floats) = W·Vᵀ (+ du when
// acc ≠ 0) for W (4·ob rows) and V (4·cb rows) of t floats, rows ldt floats
// apart: 4×4 dot products at a time, 16 accumulators whose lanes hold
// partial sums over t, summed across lanes at the end. The weight
// gradient's products sum over the tiles, a dimension the transforms lay
// out along rows: as a GEMM both operands needed transposed packing.
TEXT ·winoDotAVX512(SB), NOSPLIT, $0-72
	MOVQ ldt+16(FP), R8
	SHLQ $2, R8
	MOVQ t+24(FP), CX
	ANDQ $15, CX
	MOVL $1, DX
	SHLL CX, DX
	DECL DX
	KMOVW DX, K1
	MOVQ v+8(FP), R11
	MOVQ cb+56(FP), R10
	MOVQ acc+64(FP), R9

dotcb:
	MOVQ w+0(FP), R13
	MOVQ ob+48(FP), R12
	// DI: du's block (row 0 of this o block, this c block's 4 columns)
	MOVQ cb+56(FP), DI
	SUBQ R10, DI
	SHLQ $4, DI
	ADDQ du+32(FP), DI

dotob:
	ACC16ZERO
	MOVQ R13, AX
	LEAQ (AX)(R8*2), BX
	MOVQ R11, SI
	LEAQ (SI)(R8*2), DX
	MOVQ t+24(FP), CX
	SHRQ $4, CX
	JZ   dottail

dotloop:
	VMOVUPS (AX), Z0
	VMOVUPS (AX)(R8*1), Z1
	VMOVUPS (BX), Z2
	VMOVUPS (BX)(R8*1), Z3
	VMOVUPS (SI), Z4
	VMOVUPS (SI)(R8*1), Z5
	VMOVUPS (DX), Z6
	VMOVUPS (DX)(R8*1), Z7
	DOTFMA
	ADDQ $64, AX
	ADDQ $64, BX
	ADDQ $64, SI
	ADDQ $64, DX
	DECQ CX
	JNZ  dotloop

dottail:
	KORTESTW K1, K1
	JZ   dotsum
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS.Z (AX)(R8*1), K1, Z1
	VMOVUPS.Z (BX), K1, Z2
	VMOVUPS.Z (BX)(R8*1), K1, Z3
	VMOVUPS.Z (SI), K1, Z4
	VMOVUPS.Z (SI)(R8*1), K1, Z5
	VMOVUPS.Z (DX), K1, Z6
	VMOVUPS.Z (DX)(R8*1), K1, Z7
	DOTFMA

dotsum:
	HPAIR(Z16, Z17, Z0)
	HPAIR(Z18, Z19, Z1)
	HPAIR(Z20, Z21, Z2)
	HPAIR(Z22, Z23, Z3)
	HPAIR(Z24, Z25, Z4)
	HPAIR(Z26, Z27, Z5)
	HPAIR(Z28, Z29, Z6)
	HPAIR(Z30, Z31, Z7)
	HQUAD(Z0, Z1, Z10)
	HQUAD(Z2, Z3, Z11)
	HQUAD(Z4, Z5, Z12)
	HQUAD(Z6, Z7, Z13)
	VSHUFF32X4 $0x44, Z11, Z10, Z8
	VSHUFF32X4 $0xEE, Z11, Z10, Z9
	VADDPS     Z9, Z8, Z0
	VSHUFF32X4 $0x44, Z13, Z12, Z8
	VSHUFF32X4 $0xEE, Z13, Z12, Z9
	VADDPS     Z9, Z8, Z1
	VSHUFF32X4 $0x88, Z1, Z0, Z8
	VSHUFF32X4 $0xDD, Z1, Z0, Z9
	VADDPS     Z9, Z8, Z14

	// lanes 4i…4i+3 of Z14: du row i of the block
	MOVQ R12, AX
	MOVQ ldu+40(FP), R12
	SHLQ $2, R12
	MOVQ DI, CX
	DOTROW(0)
	DOTROW(1)
	DOTROW(2)
	DOTROW(3)
	// the next o block: 4 rows of W and of du on
	LEAQ (DI)(R12*4), DI
	MOVQ AX, R12
	LEAQ (R13)(R8*4), R13
	DECQ R12
	JNZ  dotob
	LEAQ (R11)(R8*4), R11
	DECQ R10
	JNZ  dotcb
	VZEROUPPER
	RET
