#include "textflag.h"

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
	ZERO16
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	MOVQ SI, AX
	MOVQ R11, BX
	MOVQ R12, CX
vnni5x4_loop:
	VMOVDQU32 (AX), Z0
	VMOVDQU32 (AX)(R8*1), Z1
	VMOVDQU32 (AX)(R8*2), Z2
	VMOVDQU32 (AX)(R9*1), Z3
	VPBROADCASTD 0(BX), Z4
	VPDPBUSD Z4, Z0, Z16
	VPDPBUSD Z4, Z1, Z17
	VPDPBUSD Z4, Z2, Z18
	VPDPBUSD Z4, Z3, Z19
	VPBROADCASTD 4(BX), Z5
	VPDPBUSD Z5, Z0, Z20
	VPDPBUSD Z5, Z1, Z21
	VPDPBUSD Z5, Z2, Z22
	VPDPBUSD Z5, Z3, Z23
	VPBROADCASTD 8(BX), Z6
	VPDPBUSD Z6, Z0, Z24
	VPDPBUSD Z6, Z1, Z25
	VPDPBUSD Z6, Z2, Z26
	VPDPBUSD Z6, Z3, Z27
	VPBROADCASTD 12(BX), Z7
	VPDPBUSD Z7, Z0, Z28
	VPDPBUSD Z7, Z1, Z29
	VPDPBUSD Z7, Z2, Z30
	VPDPBUSD Z7, Z3, Z31
	VPBROADCASTD 16(BX), Z8
	VPDPBUSD Z8, Z0, Z9
	VPDPBUSD Z8, Z1, Z10
	VPDPBUSD Z8, Z2, Z11
	VPDPBUSD Z8, Z3, Z12
	ADDQ $64, AX
	ADDQ $20, BX
	DECQ CX
	JNE vnni5x4_loop
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
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	MOVQ SI, AX
	MOVQ R11, BX
	MOVQ R12, CX
vnni5x1_loop:
	VMOVDQU32 (AX), Z0
	VPBROADCASTD 0(BX), Z4
	VPDPBUSD Z4, Z0, Z16
	VPBROADCASTD 4(BX), Z5
	VPDPBUSD Z5, Z0, Z17
	VPBROADCASTD 8(BX), Z6
	VPDPBUSD Z6, Z0, Z18
	VPBROADCASTD 12(BX), Z7
	VPDPBUSD Z7, Z0, Z19
	VPBROADCASTD 16(BX), Z8
	VPDPBUSD Z8, Z0, Z20
	ADDQ $64, AX
	ADDQ $20, BX
	DECQ CX
	JNE vnni5x1_loop
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

