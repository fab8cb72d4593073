#include "textflag.h"

// Winograd F(4×4, 3×3) (winograd4.go): the input transform, gathering
// each lane's 6×6 tile, and the output transform, scattering each lane's
// 4×4 outputs; 16 tiles a vector (one chunk), rows then columns through a
// 36-vector scratch. Z15 is left alone (Go's ABIInternal zero register);
// so are R14, R15 and BP.

// BT6 sets R0–R5 to Bᵀ·d for d in D0–D5 (bt6's operations in its order),
// with Z30 = 4; Z24–Z27 scratch.
#define BT6(D0, D1, D2, D3, D4, D5, R0, R1, R2, R3, R4, R5) \
	VMULPS Z30, D2, Z24; \
	VSUBPS Z24, D4, Z24; \
	VMULPS Z30, D1, Z25; \
	VSUBPS D3, Z25, Z26; \
	VSUBPS Z26, Z24, R1; \
	VADDPS Z26, Z24, R2; \
	VSUBPS D2, D4, Z26; \
	VSUBPS D1, D3, Z27; \
	VADDPS Z27, Z27, Z27; \
	VADDPS Z27, Z26, R3; \
	VSUBPS Z27, Z26, R4; \
	VMULPS Z30, D0, R0; \
	VADDPS Z24, R0, R0; \
	VSUBPS D2, R0, R0; \
	VMULPS Z30, D3, Z27; \
	VSUBPS Z27, Z25, Z25; \
	VSUBPS D3, Z25, Z25; \
	VADDPS D5, Z25, R5

// A6 sets R1–R4 to rows 1–4 of A·d (6×4, Aᵀ's transpose; rows 0 and 5
// are D0 and D3) for d in D0–D3 (a6's operations in its order), with Z30 =
// 4; Z24–Z27 scratch.
#define A6(D0, D1, D2, D3, R1, R2, R3, R4) \
	VADDPS D2, D0, Z24; \
	VADDPS D3, D1, Z25; \
	VADDPS Z25, Z24, R1; \
	VSUBPS Z25, Z24, R2; \
	VMULPS Z30, D2, Z26; \
	VADDPS Z26, D0, Z26; \
	VMULPS Z30, D3, Z27; \
	VADDPS Z27, D1, Z27; \
	VADDPS Z27, Z27, Z27; \
	VADDPS Z27, Z26, R3; \
	VSUBPS Z27, Z26, R4

// GATHER4 loads the first four columns of the lanes' tile row at DX
// (indices Z31) into Z0–Z3, GATHER6 all six into Z0–Z5.
#define GATHER4 \
	KXNORW K0, K0, K1; \
	VGATHERDPS (DX)(Z31*4), K1, Z0; \
	KXNORW K0, K0, K1; \
	VGATHERDPS 4(DX)(Z31*4), K1, Z1; \
	KXNORW K0, K0, K1; \
	VGATHERDPS 8(DX)(Z31*4), K1, Z2; \
	KXNORW K0, K0, K1; \
	VGATHERDPS 12(DX)(Z31*4), K1, Z3

#define GATHER6 \
	GATHER4; \
	KXNORW K0, K0, K1; \
	VGATHERDPS 16(DX)(Z31*4), K1, Z4; \
	KXNORW K0, K0, K1; \
	VGATHERDPS 20(DX)(Z31*4), K1, Z5

// SROW6 stores A–F as scratch row SOFF (bytes from R10).
#define SROW6(SOFF, A, B, C, D, E, F) \
	VMOVUPS A, SOFF(R10); \
	VMOVUPS B, SOFF+64(R10); \
	VMOVUPS C, SOFF+128(R10); \
	VMOVUPS D, SOFF+192(R10); \
	VMOVUPS E, SOFF+256(R10); \
	VMOVUPS F, SOFF+320(R10)

// IN4ROW transforms the tile row at DX into scratch row SOFF (bytes, R10)
// and moves DX to the next padded row.
#define IN4ROW(SOFF) \
	GATHER6; \
	BT6(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11); \
	SROW6(SOFF, Z6, Z7, Z8, Z9, Z10, Z11); \
	ADDQ R11, DX

// DY4ROW is IN4ROW for the output gradient: the lanes' four values of the
// row, A·d into scratch row SOFF.
#define DY4ROW(SOFF) \
	GATHER4; \
	A6(Z0, Z1, Z2, Z3, Z10, Z11, Z12, Z13); \
	SROW6(SOFF, Z0, Z10, Z11, Z12, Z13, Z3); \
	ADDQ R11, DX

// ROWS6 and ROWS4 run ROW on the six (four) rows of the chunk's tiles,
// into the scratch rows 384 bytes apart.
#define ROWS6(ROW) \
	ROW(0); \
	ROW(384); \
	ROW(768); \
	ROW(1152); \
	ROW(1536); \
	ROW(1920)

#define ROWS4(ROW) \
	ROW(0); \
	ROW(384); \
	ROW(768); \
	ROW(1152)

// IN4ST stores V under K2 at DI and under K3 at DI+R13 (the lanes in the
// next panel) and moves DI on six matrices (SI bytes).
#define IN4ST(V) \
	VMOVUPS V, K2, (DI); \
	VMOVUPS V, K3, (DI)(R13*1); \
	ADDQ SI, DI

// IN4ST1 is IN4ST for a chunk inside one panel.
#define IN4ST1(V) \
	VMOVUPS V, K2, (DI); \
	ADDQ SI, DI

// IN4COL transforms scratch column J (bytes J·64) and stores its six
// values, ξ = 6a + J for a = 0…5, from DX (ξ = J's matrix) on; DX moves to
// the next matrix.
#define IN4COL(JOFF, ST) \
	VMOVUPS JOFF(R10), Z0; \
	VMOVUPS JOFF+384(R10), Z1; \
	VMOVUPS JOFF+768(R10), Z2; \
	VMOVUPS JOFF+1152(R10), Z3; \
	VMOVUPS JOFF+1536(R10), Z4; \
	VMOVUPS JOFF+1920(R10), Z5; \
	BT6(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11); \
	MOVQ DX, DI; \
	ST(Z6); \
	ST(Z7); \
	ST(Z8); \
	ST(Z9); \
	ST(Z10); \
	ST(Z11); \
	ADDQ 40(BX), DX

// DY4COL is IN4COL for the output gradient: the column's four values,
// A·d.
#define DY4COL(JOFF, ST) \
	VMOVUPS JOFF(R10), Z0; \
	VMOVUPS JOFF+384(R10), Z1; \
	VMOVUPS JOFF+768(R10), Z2; \
	VMOVUPS JOFF+1152(R10), Z3; \
	A6(Z0, Z1, Z2, Z3, Z10, Z11, Z12, Z13); \
	MOVQ DX, DI; \
	ST(Z0); \
	ST(Z10); \
	ST(Z11); \
	ST(Z12); \
	ST(Z13); \
	ST(Z3); \
	ADDQ 40(BX), DX

// COLS6 runs COL on the six scratch columns.
#define COLS6(COL, ST) \
	COL(0, ST); \
	COL(64, ST); \
	COL(128, ST); \
	COL(192, ST); \
	COL(256, ST); \
	COL(320, ST)

// IN4BODY is the input transforms' loop over the chunks (R8, R9 of them)
// and the a.nc channels: SETUP points AX at the chunk's first padded row
// (AX = p on entry) and loads what its ROW needs; ROWS(ROW) transforms
// the rows of the chunk's tiles (from DX), ROW(SOFF) one into scratch row
// SOFF; the columns are then transformed and stored under K2 and K3
// (COLS6(COL, …)). R12: the chunk's stores, R13: from them to those in
// the next panel; CX: channels left.
#define IN4BODY(SETUP, ROWS, ROW, COL) \
	TESTQ R9, R9; \
	JLE  in4done; \
in4chunk: \
	KMOVW 80(R8), K2; \
	KMOVW 88(R8), K3; \
	MOVQ v+0(FP), R12; \
	ADDQ 64(R8), R12; \
	MOVQ 72(R8), R13; \
	SUBQ 64(R8), R13; \
	MOVQ p+8(FP), AX; \
	SETUP; \
	MOVQ 0(BX), CX; \
in4chan: \
	MOVQ AX, DX; \
	ROWS(ROW); \
	MOVQ R12, DX; \
	KORTESTW K3, K3; \
	JZ   in4one; \
	COLS6(COL, IN4ST); \
	JMP  in4next; \
in4one: \
	COLS6(COL, IN4ST1); \
in4next: \
	ADDQ 8(BX), AX; \
	ADDQ 48(BX), R12; \
	DECQ CX; \
	JNZ  in4chan; \
	ADDQ $96, R8; \
	DECQ R9; \
	JNZ  in4chunk; \
in4done: \
	VZEROUPPER; \
	RET

// IN4ARGS loads the arguments both input transforms use: Z30 = 4, R8 the
// chunks, R9 their count, R10 the scratch, R11 the padded row's bytes, SI
// six matrices of v.
#define IN4ARGS \
	MOVQ a+16(FP), BX; \
	MOVL $0x40800000, AX; \
	VPBROADCASTD AX, Z30; \
	MOVQ 32(BX), R8; \
	MOVQ 24(BX), R9; \
	MOVQ 56(BX), R10; \
	MOVQ 16(BX), R11; \
	MOVQ 40(BX), SI; \
	IMULQ $6, SI

// IN4GATHERSETUP: the lanes' tile offsets (Z31), from the planes' start.
#define IN4GATHERSETUP VMOVDQU32 (R8), Z31

// AT6 sets Y0–Y3 to Aᵀ·m for m in M0–M5 (at6's operations in its order),
// with Z30 = 4 and Z28 = 8; Z24–Z27 scratch.
#define AT6(M0, M1, M2, M3, M4, M5, Y0, Y1, Y2, Y3) \
	VADDPS M2, M1, Z24; \
	VSUBPS M2, M1, Z25; \
	VADDPS M4, M3, Z26; \
	VSUBPS M4, M3, Z27; \
	VADDPS Z24, M0, Y0; \
	VADDPS Z26, Y0, Y0; \
	VADDPS Z27, Z27, Y1; \
	VADDPS Y1, Z25, Y1; \
	VMULPS Z30, Z26, Y2; \
	VADDPS Y2, Z24, Y2; \
	VMULPS Z28, Z27, Y3; \
	VADDPS Y3, Z25, Y3; \
	VADDPS M5, Y3, Y3

// MLD loads the lanes (K1) of the matrix at DI into ZR and moves DI on six
// matrices (SI bytes).
#define MLD(ZR) \
	VMOVUPS.Z (DI), K1, ZR; \
	ADDQ SI, DI

// OUT4COL transforms column S of the lanes' products (from DX, ξ = S's
// matrix) into scratch column S (bytes SOFF = S·64): Z0–Z5 the column,
// plus the bias (Z29) on m[1][1] when BIAS; DX moves to the next matrix.
#define OUT4COL(SOFF, BIAS) \
	MOVQ DX, DI; \
	MLD(Z0); \
	MLD(Z1); \
	MLD(Z2); \
	MLD(Z3); \
	MLD(Z4); \
	MLD(Z5); \
	BIAS; \
	AT6(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9); \
	VMOVUPS Z6, SOFF(R10); \
	VMOVUPS Z7, SOFF+384(R10); \
	VMOVUPS Z8, SOFF+768(R10); \
	VMOVUPS Z9, SOFF+1152(R10); \
	ADDQ 24(BX), DX

#define NOBIAS
#define ADDBIAS VADDPS Z29, Z1, Z1

// SCAT stores V's lanes under output (i, j)'s mask (MOFF bytes into the
// chunk) at DX + JOFF, indices Z31.
#define SCAT(V, MOFF, JOFF) \
	KMOVW MOFF(R8), K4; \
	VSCATTERDPS V, K4, JOFF(DX)(Z31*4)

// ZROW loads scratch row IOFF (six vectors), sets Z6–Z9 to its Aᵀ·m and
// applies POST to them (POSTNONE, POSTAFF, POSTCLAMP).
#define ZROW(IOFF, POST) \
	VMOVUPS IOFF(R10), Z0; \
	VMOVUPS IOFF+64(R10), Z1; \
	VMOVUPS IOFF+128(R10), Z2; \
	VMOVUPS IOFF+192(R10), Z3; \
	VMOVUPS IOFF+256(R10), Z4; \
	VMOVUPS IOFF+320(R10), Z5; \
	AT6(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9); \
	POST

// The evaluation batch norm on the outputs (Conv2dBNEval), the channel's
// parameters at R12 (bias, a, sh, hi): POSTAFF sets Z6–Z9 to a·z + sh by
// FMAs as affineAVX2 does (Z14 = a), POSTCLAMP then clamps them to [0, hi]
// as CLAMP does, NaNs kept (Z0, K5 scratch).
#define POSTNONE
#define POSTAFF \
	VFMADD213PS.BCST 8(R12), Z14, Z6; \
	VFMADD213PS.BCST 8(R12), Z14, Z7; \
	VFMADD213PS.BCST 8(R12), Z14, Z8; \
	VFMADD213PS.BCST 8(R12), Z14, Z9
#define CLAMPK(Z) \
	VCMPPS $7, Z, Z, K5; \
	VMAXPS Z0, Z, K5, Z; \
	VMINPS.BCST 12(R12), Z, K5, Z
#define POSTCLAMP \
	POSTAFF; \
	VPXORD Z0, Z0, Z0; \
	CLAMPK(Z6); \
	CLAMPK(Z7); \
	CLAMPK(Z8); \
	CLAMPK(Z9)

// OUT4ROW transforms scratch row I (bytes IOFF = I·384) into output row I
// of the lanes' tiles at DX (mask offsets from MOFF) and moves DX to the
// next output row.
#define OUT4ROW(IOFF, MOFF, POST) \
	ZROW(IOFF, POST); \
	SCAT(Z6, MOFF, 0); \
	SCAT(Z7, MOFF+2, 4); \
	SCAT(Z8, MOFF+4, 8); \
	SCAT(Z9, MOFF+6, 12); \
	ADDQ 32(BX), DX

// OUT4BODY is the output transforms' loop over the a.no channels and the
// chunks: SETUP prepares a chunk (its lanes' offsets, fetches), the six
// columns of its products go to the scratch (OUT4COL, the bias on m[1][1]),
// ROWS writes its output rows from AX (the channel's plane). R11: the
// channel's row of m; R12: its parameters (bias, a, sh, hi: 16 bytes);
// R13: bytes from an output to its residual addend (a.res − y). Output
// rows are 32(BX) bytes apart.
#define OUT4BODY(SETUP, ROWS) \
	MOVQ a+16(FP), BX; \
	MOVL $0x40800000, AX; \
	VPBROADCASTD AX, Z30; \
	MOVL $0x41000000, AX; \
	VPBROADCASTD AX, Z28; \
	MOVQ 64(BX), R10; \
	MOVQ 24(BX), SI; \
	IMULQ $6, SI; \
	MOVQ y+0(FP), AX; \
	MOVQ 336(BX), R13; \
	SUBQ AX, R13; \
	MOVQ m+8(FP), R11; \
	MOVQ 56(BX), R12; \
	MOVQ 0(BX), CX; \
	TESTQ CX, CX; \
	JLE  out4done; \
	CMPQ 40(BX), $0; \
	JLE  out4done; \
out4chan: \
	VBROADCASTSS (R12), Z29; \
	VBROADCASTSS 4(R12), Z14; \
	MOVQ 48(BX), R8; \
	MOVQ 40(BX), R9; \
out4chunk: \
	SETUP; \
	KMOVW 72(R8), K1; \
	MOVQ R11, DX; \
	ADDQ 64(R8), DX; \
	OUT4COL(0, NOBIAS); \
	OUT4COL(64, ADDBIAS); \
	OUT4COL(128, NOBIAS); \
	OUT4COL(192, NOBIAS); \
	OUT4COL(256, NOBIAS); \
	OUT4COL(320, NOBIAS); \
	ROWS; \
	ADDQ $144, R8; \
	DECQ R9; \
	JNZ  out4chunk; \
	ADDQ 8(BX), AX; \
	ADDQ 16(BX), R11; \
	ADDQ $16, R12; \
	DECQ CX; \
	JNZ  out4chan; \
out4done: \
	VZEROUPPER; \
	RET

#define OUT4SCATTERROWS(POST) \
	MOVQ AX, DX; \
	OUT4ROW(0, 80, POST); \
	OUT4ROW(384, 88, POST); \
	OUT4ROW(768, 96, POST); \
	OUT4ROW(1152, 104, POST)
#define OUT4SCATTERROWS0 OUT4SCATTERROWS(POSTNONE)
#define OUT4SCATTERROWS1 OUT4SCATTERROWS(POSTAFF)
#define OUT4SCATTERROWS2 OUT4SCATTERROWS(POSTCLAMP)

// IN4PAIR transforms row i of the chunk's two tile rows, the padded rows
// at DX (the first tile row's) and 4 rows on (DI), into scratch row SOFF:
// each row's two vectors permuted into columns 4t, 4t+1 (D) and 4t+2,
// 4t+3 (E) of 8 tiles (Z16, Z17), the two rows' D and E into the lanes'
// columns 0–5 (Z18–Z21); DX moves to the next padded row.
#define IN4PAIR(SOFF) \
	PAIRCOLS4; \
	VMOVAPS Z20, Z8; \
	VPERMI2PS Z6, Z4, Z8; \
	VMOVAPS Z21, Z9; \
	VPERMI2PS Z6, Z4, Z9; \
	BT6(Z0, Z1, Z2, Z3, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z4); \
	SROW6(SOFF, Z10, Z11, Z12, Z13, Z14, Z4); \
	ADDQ R11, DX

// DY4PAIR is IN4PAIR for the output gradient: the lanes' four values of
// the row, A·d into scratch row SOFF.
#define DY4PAIR(SOFF) \
	PAIRCOLS4; \
	A6(Z0, Z1, Z2, Z3, Z10, Z11, Z12, Z13); \
	SROW6(SOFF, Z0, Z10, Z11, Z12, Z13, Z3); \
	ADDQ R11, DX

// PAIRCOLS4 sets Z0–Z3 to columns 0–3 of the lanes' tiles in the padded
// rows at DX and 4 rows on, and keeps the two rows' D in Z4 and Z6.
#define PAIRCOLS4 \
	LEAQ (DX)(R11*4), DI; \
	VMOVUPS (DX), Z0; \
	VMOVUPS 64(DX), Z1; \
	VMOVUPS (DI), Z2; \
	VMOVUPS 64(DI), Z3; \
	VMOVAPS Z16, Z4; \
	VPERMI2PS Z1, Z0, Z4; \
	VMOVAPS Z17, Z5; \
	VPERMI2PS Z1, Z0, Z5; \
	VMOVAPS Z16, Z6; \
	VPERMI2PS Z3, Z2, Z6; \
	VMOVAPS Z17, Z7; \
	VPERMI2PS Z3, Z2, Z7; \
	VMOVAPS Z18, Z0; \
	VPERMI2PS Z6, Z4, Z0; \
	VMOVAPS Z19, Z1; \
	VPERMI2PS Z6, Z4, Z1; \
	VMOVAPS Z18, Z2; \
	VPERMI2PS Z7, Z5, Z2; \
	VMOVAPS Z19, Z3; \
	VPERMI2PS Z7, Z5, Z3

// IN4PAIRSETUP: AX at the chunk's first padded row (idx[0]).
#define IN4PAIRSETUP \
	MOVLQSX (R8), DX; \
	LEAQ (AX)(DX*4), AX

// OUT4ILV interleaves outputs j = 0–3 of row i (Z6–Z9) of one tile row
// (stage-one permute IDX, then Z22/Z23's pairs) into the row's first 16
// and next 16 outputs, Z12 and Z13.
#define OUT4ILV(IDX) \
	VMOVAPS IDX, Z10; \
	VPERMI2PS Z7, Z6, Z10; \
	VMOVAPS IDX, Z11; \
	VPERMI2PS Z9, Z8, Z11; \
	VMOVAPD Z22, Z12; \
	VPERMI2PD Z11, Z10, Z12; \
	VMOVAPD Z23, Z13; \
	VPERMI2PD Z11, Z10, Z13

// OUT4HALF stores a tile row's output row (OUT4ILV) at (R) and 64(R)
// under the masks at MOFF and MOFF+2, RES applied first.
#define OUT4HALF(IDX, MOFF, R, RES) \
	OUT4ILV(IDX); \
	KMOVW MOFF(R8), K4; \
	RES(Z12, 0, R); \
	VMOVUPS Z12, K4, (R); \
	KMOVW MOFF+2(R8), K4; \
	RES(Z13, 64, R); \
	VMOVUPS Z13, K4, 64(R)

// The residual sum of Conv2dBNAddEval on the lanes of Z that K4 stores at
// DISP(R): none, Z plus the addend at R13 bytes on (addAVX2's sum), or
// that clamped to [0, hi] (addClampAVX2's; hi at 12(R12), Z0 and K5
// scratch).
#define RESNONE(Z, DISP, R)
#define RESADD(Z, DISP, R) \
	VADDPS DISP(R)(R13*1), Z, K4, Z
#define RESCLAMP(Z, DISP, R) \
	RESADD(Z, DISP, R); \
	VPXORD Z0, Z0, Z0; \
	CLAMPK(Z)

// OUT4HALFB keeps a tile row's output row in scratch bytes SOFF–SOFF+127.
#define OUT4HALFB(IDX, SOFF) \
	OUT4ILV(IDX); \
	VMOVUPS Z12, SOFF(R10); \
	VMOVUPS Z13, SOFF+64(R10)

// OUT4BROW stores an output row kept by OUT4HALFB at DI under the masks at
// MOFF and MOFF+2, RES applied first, and moves DI to the next output row.
#define OUT4BROW(SOFF, MOFF, RES) \
	VMOVUPS SOFF(R10), Z12; \
	VMOVUPS SOFF+64(R10), Z13; \
	KMOVW MOFF(R8), K4; \
	RES(Z12, 0, DI); \
	VMOVUPS Z12, K4, (DI); \
	KMOVW MOFF+2(R8), K4; \
	RES(Z13, 64, DI); \
	VMOVUPS Z13, K4, 64(DI); \
	ADDQ 32(BX), DI

// OUT4ROWS transforms scratch row I (bytes IOFF) into output row I of the
// chunk's two tile rows: the first's stored at DX, the second's kept in
// the scratch (OUT4HALFB) until the first's four rows are written; DX
// moves to the next output row.
#define OUT4ROWS(IOFF, MOFF, POST, RES) \
	ZROW(IOFF, POST); \
	OUT4HALF(Z20, MOFF, DX, RES); \
	OUT4HALFB(Z21, 1536+IOFF/3); \
	ADDQ 32(BX), DX

// OUT4PAIRSETUP fetches this chunk's output rows and the next one's (the
// next 8 rows, or the next plane's first) for writing while the products
// are combined.
#define OUT4PAIRSETUP \
	MOVLQSX (R8), DX; \
	LEAQ (AX)(DX*4), DX; \
	MOVQ 32(BX), DI; \
	SHLQ $4, DI; \
	ADDQ DX, DI; \
out4rpf: \
	PREFETCHT0 (DX); \
	ADDQ $64, DX; \
	CMPQ DX, DI; \
	JB   out4rpf

// OUT4PAIRSETUPR is OUT4PAIRSETUP fetching the residual addends too.
#define OUT4PAIRSETUPR \
	MOVLQSX (R8), DX; \
	LEAQ (AX)(DX*4), DX; \
	MOVQ 32(BX), DI; \
	SHLQ $4, DI; \
	ADDQ DX, DI; \
out4rpfr: \
	PREFETCHT0 (DX); \
	PREFETCHT0 (DX)(R13*1); \
	ADDQ $64, DX; \
	CMPQ DX, DI; \
	JB   out4rpfr

#define OUT4PAIRROWS(POST, RES) \
	MOVLQSX (R8), DX; \
	LEAQ (AX)(DX*4), DX; \
	OUT4ROWS(0, 112, POST, RES); \
	OUT4ROWS(384, 116, POST, RES); \
	OUT4ROWS(768, 120, POST, RES); \
	OUT4ROWS(1152, 124, POST, RES); \
	MOVQ DX, DI; \
	OUT4BROW(1536, 128, RES); \
	OUT4BROW(1664, 132, RES); \
	OUT4BROW(1792, 136, RES); \
	OUT4BROW(1920, 140, RES)
#define OUT4PAIRROWS0 OUT4PAIRROWS(POSTNONE, RESNONE)
#define OUT4PAIRROWS1 OUT4PAIRROWS(POSTAFF, RESNONE)
#define OUT4PAIRROWS2 OUT4PAIRROWS(POSTCLAMP, RESNONE)
#define OUT4PAIRROWS3 OUT4PAIRROWS(POSTAFF, RESADD)
#define OUT4PAIRROWS4 OUT4PAIRROWS(POSTAFF, RESCLAMP)

// G6 sets T0–T4 to rows 0–4 of G·(G0, G1, G2) (g6's operations in its
// order; row 5 is G2 itself), with Z28 = ¼, Z29 = −⅙, Z30 = 1/24, Z27 =
// 4; Z24–Z26 scratch.
#define G6(G0, G1, G2, T0, T1, T2, T3, T4) \
	VMULPS Z28, G0, T0; \
	VADDPS G2, G0, Z24; \
	VMULPS Z27, G2, Z25; \
	VADDPS Z25, G0, Z25; \
	VADDPS G1, G1, Z26; \
	VADDPS G1, Z24, T1; \
	VMULPS Z29, T1, T1; \
	VSUBPS G1, Z24, T2; \
	VMULPS Z29, T2, T2; \
	VADDPS Z26, Z25, T3; \
	VMULPS Z30, T3, T3; \
	VSUBPS Z26, Z25, T4; \
	VMULPS Z30, T4, T4

// WGATHER loads tap t of the lanes' kernels (indices Z31) into ZR and
// moves SI to the next tap (CX bytes on).
#define WGATHER(ZR) \
	KMOVW K2, K1; \
	VGATHERDPS (SI)(Z31*4), K1, ZR; \
	ADDQ CX, SI

// WSTP stores ZR's four 4-row chunks at DI, DI+R8, DI+2·R8 and DI+R9
// (R9 = 3·R8: the packed A's 4-row panels) where K3–K6 say, and moves DI
// to the next matrix.
#define WSTP(ZR) \
	VEXTRACTF32X4 $0, ZR, K3, (DI); \
	VEXTRACTF32X4 $1, ZR, K4, (DI)(R8*1); \
	VEXTRACTF32X4 $2, ZR, K5, (DI)(R8*2); \
	VEXTRACTF32X4 $3, ZR, K6, (DI)(R9*1); \
	ADDQ DX, DI

// WROWP stores row A of G·t·Gᵀ, from column A of t (T0, T1, T2).
#define WROWP(T0, T1, T2) \
	G6(T0, T1, T2, Z1, Z2, Z3, Z4, Z5); \
	WSTP(Z1); \
	WSTP(Z2); \
	WSTP(Z3); \
	WSTP(Z4); \
	WSTP(Z5); \
	WSTP(T2)

// WGATHERZ is WGATHER into a zeroed ZR: lanes past the mask are 0.
#define WGATHERZ(ZR) \
	VPXORD ZR, ZR, ZR; \
	WGATHER(ZR)

// func wino4InAVX512(v, p *float32, a *wino4InArgs)
// For each chunk of a.chunks and each of a.nc channels (planes a.plane
// bytes apart in p, rows a.cs bytes apart in v) the lanes' Bᵀ d B, value ξ
// at chunk.off1 (lanes k1) or chunk.off2 (lanes k2) + ξ·a.ldx; each
// lane's 6×6 values gathered.
TEXT ·wino4InAVX512(SB), NOSPLIT, $0-24
	IN4ARGS
	IN4BODY(IN4GATHERSETUP, ROWS6, IN4ROW, IN4COL)

// func wino4DyAVX512(v, p *float32, a *wino4InArgs)
// wino4InAVX512 for the output gradient's planes: the lanes' A·dY·Aᵀ, dY
// the 4×4 values from each tile's idx on.
TEXT ·wino4DyAVX512(SB), NOSPLIT, $0-24
	IN4ARGS
	IN4BODY(IN4GATHERSETUP, ROWS4, DY4ROW, DY4COL)

// func wino4OutAVX512(y, m *float32, a *wino4OutArgs)
// For each of a.no channels (planes a.ycs bytes apart in y, rows a.mcs
// bytes apart in m) and each chunk of a.chunks the lanes' Aᵀ m A plus the
// channel's bias, into the outputs each (i, j) mask lets through. The
// channels are the outer loop: a plane's stores follow each other (chunk
// by chunk for all channels, 16 streams of stores, ran 2x slower on
// planes out of cache).
TEXT ·wino4OutAVX512(SB), NOSPLIT, $0-24
	OUT4BODY(IN4GATHERSETUP, OUT4SCATTERROWS0)

// func wino4OutAffAVX512(y, m *float32, a *wino4OutArgs)
// wino4OutAVX512, then the channel's a·y + sh (POSTAFF).
TEXT ·wino4OutAffAVX512(SB), NOSPLIT, $0-24
	OUT4BODY(IN4GATHERSETUP, OUT4SCATTERROWS1)

// func wino4OutClampAVX512(y, m *float32, a *wino4OutArgs)
// wino4OutAVX512, then the channel's a·y + sh clamped to [0, hi] (POSTCLAMP).
TEXT ·wino4OutClampAVX512(SB), NOSPLIT, $0-24
	OUT4BODY(IN4GATHERSETUP, OUT4SCATTERROWS2)

// func wino4InRowsAVX512(v, p *float32, a *wino4InArgs)
// wino4InAVX512 for rows mode: each chunk two tile rows of at most 7
// tiles, from the padded plane's rows idx[0]/wp on, by permutes (a.idx).
TEXT ·wino4InRowsAVX512(SB), NOSPLIT, $0-24
	IN4ARGS
	VMOVDQU32 64(BX), Z16
	VMOVDQU32 128(BX), Z17
	VMOVDQU32 192(BX), Z18
	VMOVDQU32 256(BX), Z19
	VMOVDQU32 320(BX), Z20
	VMOVDQU32 384(BX), Z21
	IN4BODY(IN4PAIRSETUP, ROWS6, IN4PAIR, IN4COL)

// func wino4DyRowsAVX512(v, p *float32, a *wino4InArgs)
// wino4DyAVX512 for rows mode, the rows' values by wino4InRowsAVX512's
// permutes.
TEXT ·wino4DyRowsAVX512(SB), NOSPLIT, $0-24
	IN4ARGS
	VMOVDQU32 64(BX), Z16
	VMOVDQU32 128(BX), Z17
	VMOVDQU32 192(BX), Z18
	VMOVDQU32 256(BX), Z19
	IN4BODY(IN4PAIRSETUP, ROWS4, DY4PAIR, DY4COL)

// OUT4ROWSBODY is OUT4BODY in rows mode: the permutes a.idx in Z20–Z23.
#define OUT4ROWSBODY(SETUP, ROWS) \
	MOVQ a+16(FP), BX; \
	VMOVDQU32 72(BX), Z20; \
	VMOVDQU32 136(BX), Z21; \
	VMOVDQU32 200(BX), Z22; \
	VMOVDQU32 264(BX), Z23; \
	OUT4BODY(SETUP, ROWS)

// func wino4OutRowsAVX512(y, m *float32, a *wino4OutArgs)
// wino4OutAVX512 for rows mode: each chunk two tile rows of at most 7
// tiles, whose outputs are permuted into rows (a.idx) and stored from
// the chunk's idx[0] on under its row masks.
TEXT ·wino4OutRowsAVX512(SB), NOSPLIT, $0-24
	OUT4ROWSBODY(OUT4PAIRSETUP, OUT4PAIRROWS0)

// func wino4OutRowsAffAVX512(y, m *float32, a *wino4OutArgs)
TEXT ·wino4OutRowsAffAVX512(SB), NOSPLIT, $0-24
	OUT4ROWSBODY(OUT4PAIRSETUP, OUT4PAIRROWS1)

// func wino4OutRowsClampAVX512(y, m *float32, a *wino4OutArgs)
TEXT ·wino4OutRowsClampAVX512(SB), NOSPLIT, $0-24
	OUT4ROWSBODY(OUT4PAIRSETUP, OUT4PAIRROWS2)

// func wino4OutRowsResAVX512(y, m *float32, a *wino4OutArgs)
// wino4OutRowsAffAVX512, plus the residual addend at a.res (POSTAFF,
// RESADD).
TEXT ·wino4OutRowsResAVX512(SB), NOSPLIT, $0-24
	OUT4ROWSBODY(OUT4PAIRSETUPR, OUT4PAIRROWS3)

// func wino4OutRowsResClampAVX512(y, m *float32, a *wino4OutArgs)
// wino4OutRowsResAVX512 clamped to [0, hi] (POSTAFF, RESCLAMP).
TEXT ·wino4OutRowsResClampAVX512(SB), NOSPLIT, $0-24
	OUT4ROWSBODY(OUT4PAIRSETUPR, OUT4PAIRROWS4)

// func wino4WeightsPackedAVX512(u *float32, ldu int, w *float32, idx *int32, tap, mask, panel, chunks int)
// The 36 values G g Gᵀ of the 3×3 kernels of up to 16 lanes (mask; lanes
// past it 0): lane l's taps at w + 4·idx[l] + t·tap bytes (t = 0…8), value
// ξ of the lanes (16 rows of one column of a GEMM's A) stored at u +
// ξ·ldu bytes as four 4-row chunks, panel bytes apart (PackA's panels),
// chunk j where bits 4j–4j+3 of chunks are set (wino4Weights' g6 steps
// in its order).
TEXT ·wino4WeightsPackedAVX512(SB), NOSPLIT, $0-64
	MOVQ u+0(FP), DI
	MOVQ ldu+8(FP), DX
	MOVQ w+16(FP), SI
	MOVQ idx+24(FP), AX
	VMOVDQU32 (AX), Z31
	MOVQ tap+32(FP), CX
	MOVQ mask+40(FP), AX
	KMOVW AX, K2
	MOVQ panel+48(FP), R8
	LEAQ (R8)(R8*2), R9
	MOVQ chunks+56(FP), AX
	KMOVW AX, K3
	SHRQ $4, AX
	KMOVW AX, K4
	SHRQ $4, AX
	KMOVW AX, K5
	SHRQ $4, AX
	KMOVW AX, K6
	MOVL $0x3E800000, AX
	VPBROADCASTD AX, Z28
	MOVL $0xBE2AAAAB, AX
	VPBROADCASTD AX, Z29
	MOVL $0x3D2AAAAB, AX
	VPBROADCASTD AX, Z30
	MOVL $0x40800000, AX
	VPBROADCASTD AX, Z27
	WGATHERZ(Z0)
	WGATHERZ(Z1)
	WGATHERZ(Z2)
	WGATHERZ(Z3)
	WGATHERZ(Z4)
	WGATHERZ(Z5)
	WGATHERZ(Z6)
	WGATHERZ(Z7)
	WGATHERZ(Z8)
	G6(Z0, Z3, Z6, Z9, Z10, Z11, Z12, Z13)
	G6(Z1, Z4, Z7, Z14, Z16, Z17, Z18, Z19)
	G6(Z2, Z5, Z8, Z20, Z21, Z22, Z23, Z0)
	WROWP(Z9, Z14, Z20)
	WROWP(Z10, Z16, Z21)
	WROWP(Z11, Z17, Z22)
	WROWP(Z12, Z18, Z23)
	WROWP(Z13, Z19, Z0)
	WROWP(Z6, Z7, Z8)
	VZEROUPPER
	RET

// Quad mode: a chunk is four images' 2×2 tiles (7×7 and 8×8 planes,
// padded rows of 10 floats), lane 4m + 2·ty + tx image m's tile (ty, tx).
// A tile row i of the chunk is eight padded rows, (m, ty): row 4ty + i of
// image m. Their 16-byte pieces of columns 0–3, 4–7 and 8–11, image m in
// the vectors' 128-bit lane m, are shuffled into the lanes' columns j
// (unpacks of floats, then of pairs): R1/R2/R5 (ty = 0) and R3/R4/R6
// (ty = 1) give column j of the lanes' tiles as unpcklps/unpckhps(R1, R2)
// and (R3, R4) paired by unpcklpd/unpckhpd, columns 4 and 5 from (R2, R5)
// and (R4, R6). The output side runs the same network backwards.

// QPIECES loads the 16-byte pieces at byte DISP of the four images' rows
// (DX, DX+SI, DI = DX+2·SI, DI+SI) into lanes 0–3 of Z.
#define QPIECES(DISP, X, Z) \
	VMOVUPS DISP(DX), X; \
	VINSERTF32X4 $1, DISP(DX)(SI*1), Z, Z; \
	VINSERTF32X4 $2, DISP(DI), Z, Z; \
	VINSERTF32X4 $3, DISP(DI)(SI*1), Z, Z

// QCOLS4 sets Z0–Z3 to columns 0–3 of the lanes' tile row at DX (images
// SI bytes apart, tile row ty = 1 160 bytes on) and leaves R2 and R4 (the
// pieces of columns 4–7 of the ty = 0 and ty = 1 rows) in Z12 and Z13.
#define QCOLS4 \
	LEAQ (DX)(SI*2), DI; \
	QPIECES(0, X0, Z0); \
	QPIECES(16, X12, Z12); \
	QPIECES(160, X3, Z3); \
	QPIECES(176, X13, Z13); \
	VUNPCKLPS Z12, Z0, Z6; \
	VUNPCKHPS Z12, Z0, Z7; \
	VUNPCKLPS Z13, Z3, Z8; \
	VUNPCKHPS Z13, Z3, Z9; \
	VUNPCKLPD Z8, Z6, Z0; \
	VUNPCKHPD Z8, Z6, Z1; \
	VUNPCKLPD Z9, Z7, Z2; \
	VUNPCKHPD Z9, Z7, Z3

// QROW is IN4ROW for quad mode: the six columns of the lanes' tile row,
// Bᵀ·d into scratch row SOFF; DX moves to the next padded row.
#define QROW(SOFF) \
	QCOLS4; \
	QPIECES(32, X10, Z10); \
	QPIECES(192, X11, Z11); \
	VUNPCKLPS Z10, Z12, Z10; \
	VUNPCKLPS Z11, Z13, Z11; \
	VUNPCKLPD Z11, Z10, Z4; \
	VUNPCKHPD Z11, Z10, Z5; \
	BT6(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11); \
	SROW6(SOFF, Z6, Z7, Z8, Z9, Z10, Z11); \
	ADDQ R11, DX

// DQROW is DY4ROW for quad mode.
#define DQROW(SOFF) \
	QCOLS4; \
	A6(Z0, Z1, Z2, Z3, Z10, Z11, Z12, Z13); \
	SROW6(SOFF, Z0, Z10, Z11, Z12, Z13, Z3); \
	ADDQ R11, DX

// QROWS6 and QROWS4 run ROWS6 and ROWS4 with SI the bytes between the
// images' planes (a.istride), SI restored to six matrices after.
#define QROWS6(ROW) \
	MOVQ 448(BX), SI; \
	ROWS6(ROW); \
	MOVQ 40(BX), SI; \
	IMULQ $6, SI

#define QROWS4(ROW) \
	MOVQ 448(BX), SI; \
	ROWS4(ROW); \
	MOVQ 40(BX), SI; \
	IMULQ $6, SI

// QSETUP: AX at the chunk's first image's planes (idx[0]).
#define QSETUP IN4PAIRSETUP

// func wino4InQuadAVX512(v, p *float32, a *wino4InArgs)
// wino4InAVX512 for chunks of four whole images' 2×2 tiles (quad mode).
TEXT ·wino4InQuadAVX512(SB), NOSPLIT, $0-24
	IN4ARGS
	IN4BODY(QSETUP, QROWS6, QROW, IN4COL)

// func wino4DyQuadAVX512(v, p *float32, a *wino4InArgs)
// wino4DyAVX512 for quad mode.
TEXT ·wino4DyQuadAVX512(SB), NOSPLIT, $0-24
	IN4ARGS
	IN4BODY(QSETUP, QROWS4, DQROW, DY4COL)

// QOUTROW transforms scratch row IOFF into output row i of the four
// images' tiles: the ty = 0 row's pieces stored from DX (images SI bytes
// apart, DI = DX + SI) under the chunk's row masks at MOFF (columns 0–3)
// and MOFF+2 (4–7), the ty = 1 row's kept in KEEP0 (columns 0–3) and KEEP1
// (4–7); DX moves to the next output row.
#define QOUTROW(IOFF, MOFF, KEEP0, KEEP1, POST) \
	ZROW(IOFF, POST); \
	VUNPCKLPS Z7, Z6, Z10; \
	VUNPCKHPS Z7, Z6, Z11; \
	VUNPCKLPS Z9, Z8, Z12; \
	VUNPCKHPS Z9, Z8, Z13; \
	VUNPCKLPD Z12, Z10, Z6; \
	VUNPCKHPD Z12, Z10, Z7; \
	VUNPCKLPD Z13, Z11, KEEP0; \
	VUNPCKHPD Z13, Z11, KEEP1; \
	LEAQ (DX)(SI*1), DI; \
	KMOVW MOFF(R8), K4; \
	QSTORE(Z6, 0); \
	KMOVW MOFF+2(R8), K4; \
	QSTORE(Z7, 16); \
	ADDQ 32(BX), DX

// QSTORE stores lane m of Z to image m's row at DX (m = 0, 2) or DI (1, 3)
// plus DISP bytes, under K4.
#define QSTORE(Z, DISP) \
	VEXTRACTF32X4 $0, Z, K4, DISP(DX); \
	VEXTRACTF32X4 $1, Z, K4, DISP(DI); \
	VEXTRACTF32X4 $2, Z, K4, DISP(DX)(SI*2); \
	VEXTRACTF32X4 $3, Z, K4, DISP(DI)(SI*2)

// QOUTROWB stores a ty = 1 row kept by QOUTROW (KEEP0, KEEP1) from DX
// under the masks at MOFF, MOFF+2; DX moves to the next output row.
#define QOUTROWB(MOFF, KEEP0, KEEP1) \
	LEAQ (DX)(SI*1), DI; \
	KMOVW MOFF(R8), K4; \
	QSTORE(KEEP0, 0); \
	KMOVW MOFF+2(R8), K4; \
	QSTORE(KEEP1, 16); \
	ADDQ 32(BX), DX

// QOUTROWS writes the chunk's output rows 0–3 (ty = 0) and 4–7 (ty = 1)
// of its four images from AX (the channel's plane of image 0, idx[0] on),
// images a.istride bytes apart (SI, restored to six matrices after).
#define QOUTROWS(POST) \
	MOVQ 328(BX), SI; \
	MOVLQSX (R8), DX; \
	LEAQ (AX)(DX*4), DX; \
	QOUTROW(0, 112, Z16, Z17, POST); \
	QOUTROW(384, 116, Z18, Z19, POST); \
	QOUTROW(768, 120, Z20, Z21, POST); \
	QOUTROW(1152, 124, Z22, Z23, POST); \
	QOUTROWB(128, Z16, Z17); \
	QOUTROWB(132, Z18, Z19); \
	QOUTROWB(136, Z20, Z21); \
	QOUTROWB(140, Z22, Z23); \
	MOVQ 24(BX), SI; \
	IMULQ $6, SI
#define QOUTROWS0 QOUTROWS(POSTNONE)
#define QOUTROWS1 QOUTROWS(POSTAFF)
#define QOUTROWS2 QOUTROWS(POSTCLAMP)

// func wino4OutQuadAVX512(y, m *float32, a *wino4OutArgs)
// wino4OutAVX512 for chunks of four whole images' 2×2 tiles (quad mode).
TEXT ·wino4OutQuadAVX512(SB), NOSPLIT, $0-24
	OUT4BODY(NOBIAS, QOUTROWS0)

// func wino4OutQuadAffAVX512(y, m *float32, a *wino4OutArgs)
TEXT ·wino4OutQuadAffAVX512(SB), NOSPLIT, $0-24
	OUT4BODY(NOBIAS, QOUTROWS1)

// func wino4OutQuadClampAVX512(y, m *float32, a *wino4OutArgs)
TEXT ·wino4OutQuadClampAVX512(SB), NOSPLIT, $0-24
	OUT4BODY(NOBIAS, QOUTROWS2)
