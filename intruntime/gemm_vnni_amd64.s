#include "textflag.h"
#include "requant_amd64.h"

// The AVX-512 VNNI micro-kernels (see gemm_vnni.go). VPDPBUSD adds to
// each int32 lane the four products of its unsigned activation bytes and
// the broadcast signed weight bytes, summed in 32 bits: exact for any
// weights, unlike VPMADDUBSW's saturating int16 pairs.
//
// Panel: 5 rows of C; its weights w[q·5 + r] are the int32 quads of row r.
// B: group streams gs bytes apart, 64 bytes per k-quad. C rows ldc int32s
// apart; Z15 is left alone (Go's ABIInternal zero register).

// ZERO16 clears the 16 accumulators Z16–Z31.
#define ZERO16 \
	VPXORD Z16, Z16, Z16; \
	VPXORD Z17, Z17, Z17; \
	VPXORD Z18, Z18, Z18; \
	VPXORD Z19, Z19, Z19; \
	VPXORD Z20, Z20, Z20; \
	VPXORD Z21, Z21, Z21; \
	VPXORD Z22, Z22, Z22; \
	VPXORD Z23, Z23, Z23; \
	VPXORD Z24, Z24, Z24; \
	VPXORD Z25, Z25, Z25; \
	VPXORD Z26, Z26, Z26; \
	VPXORD Z27, Z27, Z27; \
	VPXORD Z28, Z28, Z28; \
	VPXORD Z29, Z29, Z29; \
	VPXORD Z30, Z30, Z30; \
	VPXORD Z31, Z31, Z31

// VNNI5X4_ZERO clears VNNI5X4_TILE's accumulators.
#define VNNI5X4_ZERO \
	ZERO16; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12

// BIAS_ROW(A0, A1, A2, A3, OFF): a row's accumulators set to its
// channel's bias (the requantScalars at OFF(DX)).
#define BIAS_ROW(A0, A1, A2, A3, OFF) \
	VPBROADCASTD OFF+8(DX), A0; \
	VPBROADCASTD OFF+8(DX), A1; \
	VPBROADCASTD OFF+8(DX), A2; \
	VPBROADCASTD OFF+8(DX), A3

// VNNI5X4_BIAS sets VNNI5X4_TILE's accumulators to their rows' biases
// (rq: all five rows' operands, the Go side pads a short panel): the
// float kernels' first addition done by loads (RQF8_ACC, RQFS_ACC).
#define VNNI5X4_BIAS \
	MOVQ rq+56(FP), DX; \
	BIAS_ROW(Z16, Z17, Z18, Z19, 0); \
	BIAS_ROW(Z20, Z21, Z22, Z23, 96); \
	BIAS_ROW(Z24, Z25, Z26, Z27, 192); \
	BIAS_ROW(Z28, Z29, Z30, Z31, 288); \
	BIAS_ROW(Z9, Z10, Z11, Z12, 384)

// VNNI5X4_TILE(INIT) is a 5×4 tile's products: the 20 accumulators (Z16–Z31,
// Z9–Z12) set by INIT (VNNI5X4_ZERO, VNNI5X4_BIAS), then k4 k-quads of the four groups at SI (gs = R8,
// 3·gs = R9 bytes apart) times the panel's weights at R11. Its label is
// local to the function it is used in.
#define VNNI5X4_TILE(INIT) \
	INIT; \
	MOVQ SI, AX; \
	MOVQ R11, BX; \
	MOVQ R12, CX; \
v4_loop: \
	VMOVDQU32 (AX), Z0; \
	VMOVDQU32 (AX)(R8*1), Z1; \
	VMOVDQU32 (AX)(R8*2), Z2; \
	VMOVDQU32 (AX)(R9*1), Z3; \
	VPBROADCASTD 0(BX), Z4; \
	VPDPBUSD Z4, Z0, Z16; \
	VPDPBUSD Z4, Z1, Z17; \
	VPDPBUSD Z4, Z2, Z18; \
	VPDPBUSD Z4, Z3, Z19; \
	VPBROADCASTD 4(BX), Z5; \
	VPDPBUSD Z5, Z0, Z20; \
	VPDPBUSD Z5, Z1, Z21; \
	VPDPBUSD Z5, Z2, Z22; \
	VPDPBUSD Z5, Z3, Z23; \
	VPBROADCASTD 8(BX), Z6; \
	VPDPBUSD Z6, Z0, Z24; \
	VPDPBUSD Z6, Z1, Z25; \
	VPDPBUSD Z6, Z2, Z26; \
	VPDPBUSD Z6, Z3, Z27; \
	VPBROADCASTD 12(BX), Z7; \
	VPDPBUSD Z7, Z0, Z28; \
	VPDPBUSD Z7, Z1, Z29; \
	VPDPBUSD Z7, Z2, Z30; \
	VPDPBUSD Z7, Z3, Z31; \
	VPBROADCASTD 16(BX), Z8; \
	VPDPBUSD Z8, Z0, Z9; \
	VPDPBUSD Z8, Z1, Z10; \
	VPDPBUSD Z8, Z2, Z11; \
	VPDPBUSD Z8, Z3, Z12; \
	ADDQ $64, AX; \
	ADDQ $20, BX; \
	DECQ CX; \
	JNE v4_loop

// RQ8_ACC(A, OFF): accumulator A requantized in place by the products
// and shifts of REQUANT16_RELU8, its channel's operands at OFF(BX) (the
// clamp is the packs' saturation, RQ_ROW).
#define RQ8_ACC(A, OFF) \
	VPMULDQ.BCST OFF+12(BX), A, Z1; \
	VPSRLQ $32, A, Z2; \
	VPMULDQ.BCST OFF+12(BX), Z2, Z2; \
	VPADDQ.BCST OFF+56(BX), Z1, Z1; \
	VPADDQ.BCST OFF+56(BX), Z2, Z2; \
	VPSRAQ OFF+80(BX), Z1, Z1; \
	VPSRAQ OFF+80(BX), Z2, Z2; \
	VPERMT2D Z2, Z13, Z1; \
	VMOVDQA64 Z1, A

// RQNC_ACC(A, OFF) is RQ8_ACC for REQUANT16_CORE (the negative-product
// correction), + Z_Y.
#define RQNC_ACC(A, OFF) \
	VPMULDQ.BCST OFF+12(BX), A, Z1; \
	VPSRLQ $32, A, Z2; \
	VPMULDQ.BCST OFF+12(BX), Z2, Z2; \
	VPADDQ.BCST OFF+56(BX), Z1, Z1; \
	VPADDQ.BCST OFF+56(BX), Z2, Z2; \
	VPCMPQ.BCST $1, OFF+64(BX), Z1, K4; \
	VPCMPQ.BCST $1, OFF+64(BX), Z2, K5; \
	VPSUBQ.BCST OFF+72(BX), Z1, K4, Z1; \
	VPSUBQ.BCST OFF+72(BX), Z2, K5, Z2; \
	VPSRAQ OFF+80(BX), Z1, Z1; \
	VPSRAQ OFF+80(BX), Z2, Z2; \
	VPERMT2D Z2, Z13, Z1; \
	VPADDD.BCST OFF+24(BX), Z1, Z1; \
	VMOVDQA64 Z1, A

// RQF8_ACC(A, OFF): accumulator A (from its bias: VNNI5X4_BIAS)
// requantized in place by the float kernel (rqFloat8, floatrequant.go):
// to float, × fc + fd rounded toward −∞ (fc in Z1, fd in Z2: RQF8_SETUP),
// truncated (the clamp is the packs' saturation, RQ_ROW).
#define RQF8_ACC(A, OFF) \
	VCVTDQ2PS A, A; \
	VFMADD213PS.RD_SAE Z2, Z1, A; \
	VCVTTPS2DQ A, A

// RQF8_SETUP(OFF): RQF8_ACC's fc and fd from the operands at OFF(BX).
#define RQF8_SETUP(OFF) \
	VBROADCASTSS OFF+36(BX), Z1; \
	VBROADCASTSS OFF+92(BX), Z2

// RQFS_ACC(A, OFF): accumulator A (x, from the bias: VNNI5X4_BIAS)
// requantized in place by the symmetric float kernel (rqFloatSym,
// floatrequant.go): |x| to float,
// × fc + fd rounded toward −∞ (Z1, Z2: RQFS_SETUP), x's sign copied in
// (Z5 the sign bit), truncated, + Z_Y (the clamp is the packs'
// saturation, RQ_ROW).
#define RQFS_ACC(A, OFF) \
	VPABSD A, Z3; \
	VCVTDQ2PS Z3, Z3; \
	VFMADD213PS.RD_SAE Z2, Z1, Z3; \
	VPTERNLOGD $0xF8, Z5, A, Z3; \
	VCVTTPS2DQ Z3, Z3; \
	VPADDD.BCST OFF+24(BX), Z3, A

// RQFS_SETUP(OFF): RQFS_ACC's fc and fd from the operands at OFF(BX), and
// the sign bit.
#define RQFS_SETUP(OFF) \
	RQF8_SETUP(OFF); \
	VPTERNLOGD $0xFF, Z5, Z5, Z5; \
	VPSLLD $31, Z5, Z5

// RQ_NOSETUP(OFF): no per-row operands (RQ8_ACC, RQNC_ACC).
#define RQ_NOSETUP(OFF) NOP

// RQ_ROW(RQ, SETUP, A0, A1, A2, A3, OFF): a panel row's four accumulators
// of a tile requantized by RQ after SETUP (operands at OFF(BX)), narrowed
// by the saturating packs, put in order (requantPacked, Z14) and stored
// at DX.
#define RQ_ROW(RQ, SETUP, A0, A1, A2, A3, OFF) \
	SETUP(OFF); \
	RQ(A0, OFF); \
	RQ(A1, OFF); \
	RQ(A2, OFF); \
	RQ(A3, OFF); \
	VPACKSSDW A1, A0, A0; \
	VPACKSSDW A3, A2, A2; \
	VPACKUSWB A2, A0, A0; \
	VPERMD A0, Z14, A0; \
	VMOVDQU64 A0, (DX)

// VNNI5X4_RQ(RQ, SETUP, INIT) is the body of vnni5x4r8, vnni5x4f8,
// vnni5x4nc and vnni5x4fs: vnni5x4's tiles (accumulators from INIT) with
// RQ_ROW for each of the first rows rows in the epilogue (rows chOut
// bytes apart, the tiles' 64 codes one after the other). Its labels are
// local to the function it is used in.
#define VNNI5X4_RQ(RQ, SETUP, INIT) \
	MOVQ out+0(FP), DI; \
	MOVQ chOut+8(FP), R10; \
	MOVQ w+16(FP), R11; \
	MOVQ b+24(FP), SI; \
	MOVQ k4+32(FP), R12; \
	MOVQ gs+40(FP), R8; \
	MOVQ n+48(FP), R13; \
	LEAQ (R8)(R8*2), R9; \
	VMOVDQU32 requantLows<>(SB), Z13; \
	VMOVDQU32 requantPacked<>(SB), Z14; \
	TESTQ R13, R13; \
	JEQ vr_done; \
vr_tile: \
	VNNI5X4_TILE(INIT); \
	MOVQ rq+56(FP), BX; \
	MOVQ DI, DX; \
	RQ_ROW(RQ, SETUP, Z16, Z17, Z18, Z19, 0); \
	NEXT_ROW(1, vr_next); \
	RQ_ROW(RQ, SETUP, Z20, Z21, Z22, Z23, 96); \
	NEXT_ROW(2, vr_next); \
	RQ_ROW(RQ, SETUP, Z24, Z25, Z26, Z27, 192); \
	NEXT_ROW(3, vr_next); \
	RQ_ROW(RQ, SETUP, Z28, Z29, Z30, Z31, 288); \
	NEXT_ROW(4, vr_next); \
	RQ_ROW(RQ, SETUP, Z9, Z10, Z11, Z12, 384); \
vr_next: \
	ADDQ $64, DI; \
	LEAQ (SI)(R8*4), SI; \
	DECQ R13; \
	JNE vr_tile; \
vr_done: \
	VZEROUPPER; \
	RET

// NEXT_ROW(K, DONE): to DONE where the panel has no row K (rows ≤ K),
// else DX to row K's outputs (VNNI5X4_RQ, VNNI5X1_RQ).
#define NEXT_ROW(K, DONE) \
	CMPQ rows+64(FP), $K; \
	JLE DONE; \
	ADDQ R10, DX

// BIAS1: VNNI5X1_RQ's accumulators (Z16–Z20) set to their rows' biases
// (the five rows' operands at DX).
#define BIAS1 \
	VPBROADCASTD 8(DX), Z16; \
	VPBROADCASTD 104(DX), Z17; \
	VPBROADCASTD 200(DX), Z18; \
	VPBROADCASTD 296(DX), Z19; \
	VPBROADCASTD 392(DX), Z20

// ZERO1 clears VNNI5X1_RQ's accumulators.
#define ZERO1 \
	VPXORD Z16, Z16, Z16; \
	VPXORD Z17, Z17, Z17; \
	VPXORD Z18, Z18, Z18; \
	VPXORD Z19, Z19, Z19; \
	VPXORD Z20, Z20, Z20

// VNNI5X1_TILE(INIT) is a 5×1 tile's products: the 5 accumulators
// (Z16–Z20) set by INIT (ZERO1, BIAS1), then k4 k-quads of the group at
// SI times the panel's weights at R11 (vnni5x1, VNNI5X1_RQ). Its label is
// local to the function it is used in.
#define VNNI5X1_TILE(INIT) \
	INIT; \
	MOVQ SI, AX; \
	MOVQ R11, BX; \
	MOVQ R12, CX; \
v1_loop: \
	VMOVDQU32 (AX), Z0; \
	VPBROADCASTD 0(BX), Z4; \
	VPDPBUSD Z4, Z0, Z16; \
	VPBROADCASTD 4(BX), Z5; \
	VPDPBUSD Z5, Z0, Z17; \
	VPBROADCASTD 8(BX), Z6; \
	VPDPBUSD Z6, Z0, Z18; \
	VPBROADCASTD 12(BX), Z7; \
	VPDPBUSD Z7, Z0, Z19; \
	VPBROADCASTD 16(BX), Z8; \
	VPDPBUSD Z8, Z0, Z20; \
	ADDQ $64, AX; \
	ADDQ $20, BX; \
	DECQ CX; \
	JNE v1_loop

// RQ1_ROW(RQ, SETUP, A, X, OFF): a panel row's accumulator of a group
// requantized by RQ after SETUP (operands at OFF(BX)), clamped at 0 (Z6)
// and narrowed with unsigned saturation (the clamp to [0, 255]), its 16
// codes (X: A's low lane) stored at DX under K7.
#define RQ1_ROW(RQ, SETUP, A, X, OFF) \
	SETUP(OFF); \
	RQ(A, OFF); \
	VPMAXSD Z6, A, A; \
	VPMOVUSDB A, X; \
	VMOVDQU8 X, K7, (DX)

// VNNI5X1_RQ(RQ, SETUP, INIT) is the body of vnni5x1r8, vnni5x1f8,
// vnni5x1nc and vnni5x1fs: vnni5x1's groups (accumulators from INIT: ZERO1
// or BIAS1) with RQ1_ROW for each of the first rows rows (rows chOut
// bytes apart, the groups' 16 codes one after the other; the last group's
// first last codes only). Its labels are local to the function it is
// used in.
#define VNNI5X1_RQ(RQ, SETUP, INIT) \
	MOVQ out+0(FP), DI; \
	MOVQ chOut+8(FP), R10; \
	MOVQ w+16(FP), R11; \
	MOVQ b+24(FP), SI; \
	MOVQ k4+32(FP), R12; \
	MOVQ gs+40(FP), R8; \
	MOVQ n+48(FP), R13; \
	VMOVDQU32 requantLows<>(SB), Z13; \
	TESTQ R13, R13; \
	JEQ v1r_done; \
v1r_group: \
	MOVQ rq+56(FP), DX; \
	VNNI5X1_TILE(INIT); \
	MOVQ $0xffff, AX; \
	CMPQ R13, $1; \
	JNE v1r_full; \
	MOVQ $-1, AX; \
	MOVQ last+72(FP), CX; \
	BZHIQ CX, AX, AX; \
v1r_full: \
	KMOVW AX, K7; \
	VPXORD Z6, Z6, Z6; \
	MOVQ rq+56(FP), BX; \
	MOVQ DI, DX; \
	RQ1_ROW(RQ, SETUP, Z16, X16, 0); \
	NEXT_ROW(1, v1r_next); \
	RQ1_ROW(RQ, SETUP, Z17, X17, 96); \
	NEXT_ROW(2, v1r_next); \
	RQ1_ROW(RQ, SETUP, Z18, X18, 192); \
	NEXT_ROW(3, v1r_next); \
	RQ1_ROW(RQ, SETUP, Z19, X19, 288); \
	NEXT_ROW(4, v1r_next); \
	RQ1_ROW(RQ, SETUP, Z20, X20, 384); \
v1r_next: \
	ADDQ $16, DI; \
	ADDQ R8, SI; \
	DECQ R13; \
	JNE v1r_group; \
v1r_done: \
	VZEROUPPER; \
	RET

// func vnni5x4(c *int32, ldc int, w *int32, b *byte, k4, gs, n int)
// computes n tiles of 4 group(s) each, the tiles 4·gs bytes of B and 4·64 bytes of C apart.
TEXT ·vnni5x4(SB), NOSPLIT, $0-56
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R10
	SHLQ $2, R10
	MOVQ w+16(FP), R11
	MOVQ b+24(FP), SI
	MOVQ k4+32(FP), R12
	MOVQ gs+40(FP), R8
	MOVQ n+48(FP), R13
	LEAQ (R8)(R8*2), R9
	TESTQ R13, R13
	JEQ vnni5x4_done
vnni5x4_tile:
	VNNI5X4_TILE(VNNI5X4_ZERO)
	MOVQ DI, DX
	VMOVDQU32 Z16, 0(DX)
	VMOVDQU32 Z17, 64(DX)
	VMOVDQU32 Z18, 128(DX)
	VMOVDQU32 Z19, 192(DX)
	ADDQ R10, DX
	VMOVDQU32 Z20, 0(DX)
	VMOVDQU32 Z21, 64(DX)
	VMOVDQU32 Z22, 128(DX)
	VMOVDQU32 Z23, 192(DX)
	ADDQ R10, DX
	VMOVDQU32 Z24, 0(DX)
	VMOVDQU32 Z25, 64(DX)
	VMOVDQU32 Z26, 128(DX)
	VMOVDQU32 Z27, 192(DX)
	ADDQ R10, DX
	VMOVDQU32 Z28, 0(DX)
	VMOVDQU32 Z29, 64(DX)
	VMOVDQU32 Z30, 128(DX)
	VMOVDQU32 Z31, 192(DX)
	ADDQ R10, DX
	VMOVDQU32 Z9, 0(DX)
	VMOVDQU32 Z10, 64(DX)
	VMOVDQU32 Z11, 128(DX)
	VMOVDQU32 Z12, 192(DX)
	ADDQ $256, DI
	LEAQ (SI)(R8*4), SI
	DECQ R13
	JNE vnni5x4_tile
vnni5x4_done:
	VZEROUPPER
	RET

// func vnni5x1(c *int32, ldc int, w *int32, b *byte, k4, gs, n int)
// computes n tiles of 1 group(s) each, the tiles 1·gs bytes of B and 1·64 bytes of C apart.
TEXT ·vnni5x1(SB), NOSPLIT, $0-56
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R10
	SHLQ $2, R10
	MOVQ w+16(FP), R11
	MOVQ b+24(FP), SI
	MOVQ k4+32(FP), R12
	MOVQ gs+40(FP), R8
	MOVQ n+48(FP), R13
	LEAQ (R8)(R8*2), R9
	TESTQ R13, R13
	JEQ vnni5x1_done
vnni5x1_tile:
	VNNI5X1_TILE(ZERO1)
	MOVQ DI, DX
	VMOVDQU32 Z16, 0(DX)
	ADDQ R10, DX
	VMOVDQU32 Z17, 0(DX)
	ADDQ R10, DX
	VMOVDQU32 Z18, 0(DX)
	ADDQ R10, DX
	VMOVDQU32 Z19, 0(DX)
	ADDQ R10, DX
	VMOVDQU32 Z20, 0(DX)
	ADDQ $64, DI
	ADDQ R8, SI
	DECQ R13
	JNE vnni5x1_tile
vnni5x1_done:
	VZEROUPPER
	RET

// func vnniTap8x2(c *int32, ldc int, w *int32, q *uint32, qs int, offs *int32, ntaps, rows, n int)
// The tap GEMM (tapconv.go) for one 8-row panel by VPDPBUSD: n tiles of
// 32 flat positions (2 vectors, 128 bytes of each row plane and of each C
// row). For each kernel row t the rows row planes, qs bytes apart, are
// read at 4·offs[t] bytes past the tile; the panel's weights run through
// (t, row plane) in order, 8 quads each. Eight rows divide the 16-, 32-
// and 64-channel layers the taps serve, where 5-row panels computed up to
// a quarter more rows than there are.
TEXT ·vnniTap8x2(SB), NOSPLIT, $0-72
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R10
	SHLQ $2, R10
	MOVQ q+24(FP), SI
	MOVQ qs+32(FP), R8
	MOVQ n+64(FP), R13
	TESTQ R13, R13
	JEQ vnniTap_done
vnniTap_tile:
	ZERO16
	MOVQ w+16(FP), BX
	MOVQ offs+40(FP), R9
	MOVQ ntaps+48(FP), R11
vnniTap_tap:
	MOVLQSX (R9), AX
	LEAQ (SI)(AX*4), AX
	MOVQ rows+56(FP), CX
vnniTap_loop:
	VMOVDQU32 (AX), Z0
	VMOVDQU32 64(AX), Z1
	VPBROADCASTD 0(BX), Z2
	VPDPBUSD Z2, Z0, Z16
	VPDPBUSD Z2, Z1, Z17
	VPBROADCASTD 4(BX), Z3
	VPDPBUSD Z3, Z0, Z18
	VPDPBUSD Z3, Z1, Z19
	VPBROADCASTD 8(BX), Z4
	VPDPBUSD Z4, Z0, Z20
	VPDPBUSD Z4, Z1, Z21
	VPBROADCASTD 12(BX), Z5
	VPDPBUSD Z5, Z0, Z22
	VPDPBUSD Z5, Z1, Z23
	VPBROADCASTD 16(BX), Z2
	VPDPBUSD Z2, Z0, Z24
	VPDPBUSD Z2, Z1, Z25
	VPBROADCASTD 20(BX), Z3
	VPDPBUSD Z3, Z0, Z26
	VPDPBUSD Z3, Z1, Z27
	VPBROADCASTD 24(BX), Z4
	VPDPBUSD Z4, Z0, Z28
	VPDPBUSD Z4, Z1, Z29
	VPBROADCASTD 28(BX), Z5
	VPDPBUSD Z5, Z0, Z30
	VPDPBUSD Z5, Z1, Z31
	ADDQ R8, AX
	ADDQ $32, BX
	DECQ CX
	JNE vnniTap_loop
	ADDQ $4, R9
	DECQ R11
	JNE vnniTap_tap
	MOVQ DI, DX
	VMOVDQU32 Z16, 0(DX)
	VMOVDQU32 Z17, 64(DX)
	ADDQ R10, DX
	VMOVDQU32 Z18, 0(DX)
	VMOVDQU32 Z19, 64(DX)
	ADDQ R10, DX
	VMOVDQU32 Z20, 0(DX)
	VMOVDQU32 Z21, 64(DX)
	ADDQ R10, DX
	VMOVDQU32 Z22, 0(DX)
	VMOVDQU32 Z23, 64(DX)
	ADDQ R10, DX
	VMOVDQU32 Z24, 0(DX)
	VMOVDQU32 Z25, 64(DX)
	ADDQ R10, DX
	VMOVDQU32 Z26, 0(DX)
	VMOVDQU32 Z27, 64(DX)
	ADDQ R10, DX
	VMOVDQU32 Z28, 0(DX)
	VMOVDQU32 Z29, 64(DX)
	ADDQ R10, DX
	VMOVDQU32 Z30, 0(DX)
	VMOVDQU32 Z31, 64(DX)
	ADDQ $128, DI
	ADDQ $128, SI
	DECQ R13
	JNE vnniTap_tile
vnniTap_done:
	VZEROUPPER
	RET

// func vnni5x4r8(out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows int)
// is vnni5x4 with the relu8 requantization in its epilogue: each of the
// first rows rows of the panel (its channels' operands at rq, 96 bytes
// apart) turns its 64 accumulators of a tile into 64 output codes, stored
// chOut bytes after the previous row's, the tiles' 64 codes one after the
// other: the products and shifts of REQUANT16_RELU8 with the operands
// from memory, narrowed by the saturating packs (the clamp to [0, 255])
// and put in order (requantPacked) as REQUANT_RELU8_BLOCK4 does. No C is
// stored or read back.
TEXT ·vnni5x4r8(SB), NOSPLIT, $0-72
	VNNI5X4_RQ(RQ8_ACC, RQ_NOSETUP, VNNI5X4_ZERO)

// func vnni5x4nc(out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows int)
// is vnni5x4r8 for the exactSum kernel onto the whole byte range (rqExact
// with lo = 0 and hi = 255, a linear bottleneck's output): REQUANT16_CORE
// (the negative-product correction included) with the operands from
// memory, + Z_Y, narrowed by the saturating packs (the clamp to [0, 255]).
TEXT ·vnni5x4nc(SB), NOSPLIT, $0-72
	VNNI5X4_RQ(RQNC_ACC, RQ_NOSETUP, VNNI5X4_ZERO)

// func vnni5x4f8(out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows int)
// is vnni5x4r8 by the float kernel (rqFloat8: RQF8_ACC, four instructions
// per 16 accumulators instead of eight).
TEXT ·vnni5x4f8(SB), NOSPLIT, $0-72
	VNNI5X4_RQ(RQF8_ACC, RQF8_SETUP, VNNI5X4_BIAS)

// func vnni5x4fs(out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows int)
// is vnni5x4nc by the symmetric float kernel (rqFloatSym: RQFS_ACC, seven
// instructions per 16 accumulators instead of fourteen).
TEXT ·vnni5x4fs(SB), NOSPLIT, $0-72
	VNNI5X4_RQ(RQFS_ACC, RQFS_SETUP, VNNI5X4_BIAS)

// func vnni5x1r8(out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows, last int)
// is vnni5x4r8 one group of 16 columns at a time (VNNI5X1_RQ: a GEMM's
// last columns), the last group's first last codes stored only.
TEXT ·vnni5x1r8(SB), NOSPLIT, $0-80
	VNNI5X1_RQ(RQ8_ACC, RQ_NOSETUP, ZERO1)

// func vnni5x1nc(out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows, last int)
TEXT ·vnni5x1nc(SB), NOSPLIT, $0-80
	VNNI5X1_RQ(RQNC_ACC, RQ_NOSETUP, ZERO1)

// func vnni5x1f8(out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows, last int)
TEXT ·vnni5x1f8(SB), NOSPLIT, $0-80
	VNNI5X1_RQ(RQF8_ACC, RQF8_SETUP, BIAS1)

// func vnni5x1fs(out *uint8, chOut int, w *int32, b *byte, k4, gs, n int, rq *requantScalars, rows, last int)
TEXT ·vnni5x1fs(SB), NOSPLIT, $0-80
	VNNI5X1_RQ(RQFS_ACC, RQFS_SETUP, BIAS1)
