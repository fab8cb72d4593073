#include "textflag.h"
#include "fma8x32_amd64.h"

// The float32 GEMM micro-kernels and the 16×16 transpose of the packed
// GEMM (gemm_packed.go, gemm_amd64.go). A panel: kc steps of mr = 4
// floats (A) and of nr = 32 floats (B). The tile C[4][32] (C[8][32] for
// two A panels, sgemm8x32avx512; row stride ldc floats) becomes alpha·A·B
// when acc = 0, C + alpha·A·B otherwise.
// Z15/X15 are left alone (Go's ABIInternal zero register).

// COLMASKS sets K1 and K2 to the columns kept, 0–15 and 16–31, of a tile
// whose first cols (in CX) columns are stored; R9 scratch.
#define COLMASKS \
	MOVQ $-1, R9; \
	SHLQ CX, R9; \
	NOTQ R9; \
	KMOVW R9, K1; \
	SHRQ $16, R9; \
	KMOVW R9, K2

// ROWACC stores C row (DI) += alpha (Z4) · (LO | HI) under K1/K2 and moves
// DI to the next row (DX bytes on); ROWSET stores alpha · (LO | HI).
#define ROWACC(LO, HI) \
	VFMADD213PS (DI), Z4, K1, LO; \
	VFMADD213PS 64(DI), Z4, K2, HI; \
	VMOVUPS LO, K1, (DI); \
	VMOVUPS HI, K2, 64(DI); \
	ADDQ DX, DI

#define ROWSET(LO, HI) \
	VMULPS Z4, LO, LO; \
	VMULPS Z4, HI, HI; \
	VMOVUPS LO, K1, (DI); \
	VMOVUPS HI, K2, 64(DI); \
	ADDQ DX, DI

// func sgemm4x32avx512(kc int, a, b, c *float32, ldc int, alpha float32, acc int, cols int)
// 8 zmm accumulators, B in Z0/Z1, the broadcasts of A in Z2–Z5.
// Only the first cols (1..32) columns of each C row are read and written
// (masked: a tile at C's right edge stores straight into C).
TEXT ·sgemm4x32avx512(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), DX
	SHLQ $2, DX
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	TESTQ CX, CX
	JEQ sgemm4x32avx512_store
	PCALIGN $64
sgemm4x32avx512_loop:
	VMOVUPS (BX), Z0
	VMOVUPS 64(BX), Z1
	VBROADCASTSS 0(AX), Z2
	VBROADCASTSS 4(AX), Z3
	VBROADCASTSS 8(AX), Z4
	VBROADCASTSS 12(AX), Z5
	VFMADD231PS Z0, Z2, Z16
	VFMADD231PS Z1, Z2, Z17
	VFMADD231PS Z0, Z3, Z18
	VFMADD231PS Z1, Z3, Z19
	VFMADD231PS Z0, Z4, Z20
	VFMADD231PS Z1, Z4, Z21
	VFMADD231PS Z0, Z5, Z22
	VFMADD231PS Z1, Z5, Z23
	ADDQ $16, AX
	ADDQ $128, BX
	DECQ CX
	JNE sgemm4x32avx512_loop
sgemm4x32avx512_store:
	MOVQ cols+56(FP), CX
	COLMASKS
	VBROADCASTSS alpha+40(FP), Z4
	MOVQ acc+48(FP), R8
	TESTQ R8, R8
	JEQ sgemm4x32avx512_set
	ROWACC(Z16, Z17)
	ROWACC(Z18, Z19)
	ROWACC(Z20, Z21)
	ROWACC(Z22, Z23)
	VZEROUPPER
	RET
sgemm4x32avx512_set:
	ROWSET(Z16, Z17)
	ROWSET(Z18, Z19)
	ROWSET(Z20, Z21)
	ROWSET(Z22, Z23)
	VZEROUPPER
	RET

// func sgemm8x32avx512(kc int, a, a2, b, c *float32, ldc int, alpha float32, acc int, cols int)
// Two 4-row A panels (a: rows 0–3, a2: rows 4–7) against one B panel: 16
// zmm accumulators Z16–Z31, so the FMA latency is hidden twice over where
// the 4×32 kernel's 8 only just cover it, and each B load serves 16 FMAs.
// Every C value is the same sequence of FMAs as in sgemm4x32avx512, so the
// same bits. B in Z0/Z1, the broadcasts of A in Z2–Z9.
TEXT ·sgemm8x32avx512(SB), NOSPLIT, $0-72
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ a2+16(FP), SI
	MOVQ b+24(FP), BX
	MOVQ c+32(FP), DI
	MOVQ ldc+40(FP), DX
	SHLQ $2, DX
	ACC16ZERO
	TESTQ CX, CX
	JEQ sgemm8x32avx512_store
	PCALIGN $64
sgemm8x32avx512_loop:
	FMA8X32
	DECQ CX
	JNE sgemm8x32avx512_loop
sgemm8x32avx512_store:
	MOVQ cols+64(FP), CX
	COLMASKS
	VBROADCASTSS alpha+48(FP), Z4
	MOVQ acc+56(FP), R8
	TESTQ R8, R8
	JEQ sgemm8x32avx512_set
	ROWACC(Z16, Z17)
	ROWACC(Z18, Z19)
	ROWACC(Z20, Z21)
	ROWACC(Z22, Z23)
	ROWACC(Z24, Z25)
	ROWACC(Z26, Z27)
	ROWACC(Z28, Z29)
	ROWACC(Z30, Z31)
	VZEROUPPER
	RET
sgemm8x32avx512_set:
	ROWSET(Z16, Z17)
	ROWSET(Z18, Z19)
	ROWSET(Z20, Z21)
	ROWSET(Z22, Z23)
	ROWSET(Z24, Z25)
	ROWSET(Z26, Z27)
	ROWSET(Z28, Z29)
	ROWSET(Z30, Z31)
	VZEROUPPER
	RET

// func sgemm4x32avx2(kc int, a, b, c *float32, ldc int, alpha float32, acc int)
// Two passes of 4×16 (16 ymm registers cannot hold the 16 accumulators
// of 4×32): 8 accumulators Y4–Y11, B in Y0/Y1, broadcasts in Y2/Y3.
TEXT ·sgemm4x32avx2(SB), NOSPLIT, $0-56
	MOVQ ldc+32(FP), DX
	SHLQ $2, DX
	VBROADCASTSS alpha+40(FP), Y12
	MOVQ acc+48(FP), R8
	XORQ R9, R9 // byte offset of the half: 0, then 64
sgemm4x32avx2_half:
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	ADDQ R9, BX
	MOVQ c+24(FP), DI
	ADDQ R9, DI
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	VPXOR Y10, Y10, Y10
	VPXOR Y11, Y11, Y11
	TESTQ CX, CX
	JEQ sgemm4x32avx2_store
sgemm4x32avx2_loop:
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	VBROADCASTSS 0(AX), Y2
	VFMADD231PS Y0, Y2, Y4
	VFMADD231PS Y1, Y2, Y5
	VBROADCASTSS 4(AX), Y3
	VFMADD231PS Y0, Y3, Y6
	VFMADD231PS Y1, Y3, Y7
	VBROADCASTSS 8(AX), Y2
	VFMADD231PS Y0, Y2, Y8
	VFMADD231PS Y1, Y2, Y9
	VBROADCASTSS 12(AX), Y3
	VFMADD231PS Y0, Y3, Y10
	VFMADD231PS Y1, Y3, Y11
	ADDQ $16, AX
	ADDQ $128, BX
	DECQ CX
	JNE sgemm4x32avx2_loop
sgemm4x32avx2_store:
	TESTQ R8, R8
	JEQ sgemm4x32avx2_set
	VFMADD213PS (DI), Y12, Y4
	VFMADD213PS 32(DI), Y12, Y5
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ DX, DI
	VFMADD213PS (DI), Y12, Y6
	VFMADD213PS 32(DI), Y12, Y7
	VMOVUPS Y6, (DI)
	VMOVUPS Y7, 32(DI)
	ADDQ DX, DI
	VFMADD213PS (DI), Y12, Y8
	VFMADD213PS 32(DI), Y12, Y9
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 32(DI)
	ADDQ DX, DI
	VFMADD213PS (DI), Y12, Y10
	VFMADD213PS 32(DI), Y12, Y11
	VMOVUPS Y10, (DI)
	VMOVUPS Y11, 32(DI)
	JMP sgemm4x32avx2_next
sgemm4x32avx2_set:
	VMULPS Y12, Y4, Y4
	VMULPS Y12, Y5, Y5
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ DX, DI
	VMULPS Y12, Y6, Y6
	VMULPS Y12, Y7, Y7
	VMOVUPS Y6, (DI)
	VMOVUPS Y7, 32(DI)
	ADDQ DX, DI
	VMULPS Y12, Y8, Y8
	VMULPS Y12, Y9, Y9
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 32(DI)
	ADDQ DX, DI
	VMULPS Y12, Y10, Y10
	VMULPS Y12, Y11, Y11
	VMOVUPS Y10, (DI)
	VMOVUPS Y11, 32(DI)
sgemm4x32avx2_next:
	ADDQ $64, R9
	CMPQ R9, $128
	JLT sgemm4x32avx2_half
	VZEROUPPER
	RET

// TRANS16_IDX loads transIdx (at AX) into Z0–Z7.
#define TRANS16_IDX \
	VMOVDQU32 0(AX), Z0; \
	VMOVDQU32 64(AX), Z1; \
	VMOVDQU32 128(AX), Z2; \
	VMOVDQU32 192(AX), Z3; \
	VMOVDQU32 256(AX), Z4; \
	VMOVDQU32 320(AX), Z5; \
	VMOVDQU32 384(AX), Z6; \
	VMOVDQU32 448(AX), Z7

// TRANS16_STORE transposes the 16 rows in Z16–Z31 (swapping each bit of
// the lane index with the row, indices in Z0–Z7; Z8 spare) and stores row
// p of the result at DI + p·DX.
#define TRANS16_STORE \
	VMOVAPS Z16, Z8; \
	VPERMT2PS Z17, Z0, Z8; \
	VPERMT2PS Z17, Z1, Z16; \
	VMOVAPS Z18, Z17; \
	VPERMT2PS Z19, Z0, Z17; \
	VPERMT2PS Z19, Z1, Z18; \
	VMOVAPS Z20, Z19; \
	VPERMT2PS Z21, Z0, Z19; \
	VPERMT2PS Z21, Z1, Z20; \
	VMOVAPS Z22, Z21; \
	VPERMT2PS Z23, Z0, Z21; \
	VPERMT2PS Z23, Z1, Z22; \
	VMOVAPS Z24, Z23; \
	VPERMT2PS Z25, Z0, Z23; \
	VPERMT2PS Z25, Z1, Z24; \
	VMOVAPS Z26, Z25; \
	VPERMT2PS Z27, Z0, Z25; \
	VPERMT2PS Z27, Z1, Z26; \
	VMOVAPS Z28, Z27; \
	VPERMT2PS Z29, Z0, Z27; \
	VPERMT2PS Z29, Z1, Z28; \
	VMOVAPS Z30, Z29; \
	VPERMT2PS Z31, Z0, Z29; \
	VPERMT2PS Z31, Z1, Z30; \
	VMOVAPS Z8, Z31; \
	VPERMT2PS Z17, Z2, Z31; \
	VPERMT2PS Z17, Z3, Z8; \
	VMOVAPS Z16, Z17; \
	VPERMT2PS Z18, Z2, Z17; \
	VPERMT2PS Z18, Z3, Z16; \
	VMOVAPS Z19, Z18; \
	VPERMT2PS Z21, Z2, Z18; \
	VPERMT2PS Z21, Z3, Z19; \
	VMOVAPS Z20, Z21; \
	VPERMT2PS Z22, Z2, Z21; \
	VPERMT2PS Z22, Z3, Z20; \
	VMOVAPS Z23, Z22; \
	VPERMT2PS Z25, Z2, Z22; \
	VPERMT2PS Z25, Z3, Z23; \
	VMOVAPS Z24, Z25; \
	VPERMT2PS Z26, Z2, Z25; \
	VPERMT2PS Z26, Z3, Z24; \
	VMOVAPS Z27, Z26; \
	VPERMT2PS Z29, Z2, Z26; \
	VPERMT2PS Z29, Z3, Z27; \
	VMOVAPS Z28, Z29; \
	VPERMT2PS Z30, Z2, Z29; \
	VPERMT2PS Z30, Z3, Z28; \
	VMOVAPS Z31, Z30; \
	VPERMT2PS Z18, Z4, Z30; \
	VPERMT2PS Z18, Z5, Z31; \
	VMOVAPS Z17, Z18; \
	VPERMT2PS Z21, Z4, Z18; \
	VPERMT2PS Z21, Z5, Z17; \
	VMOVAPS Z8, Z21; \
	VPERMT2PS Z19, Z4, Z21; \
	VPERMT2PS Z19, Z5, Z8; \
	VMOVAPS Z16, Z19; \
	VPERMT2PS Z20, Z4, Z19; \
	VPERMT2PS Z20, Z5, Z16; \
	VMOVAPS Z22, Z20; \
	VPERMT2PS Z26, Z4, Z20; \
	VPERMT2PS Z26, Z5, Z22; \
	VMOVAPS Z25, Z26; \
	VPERMT2PS Z29, Z4, Z26; \
	VPERMT2PS Z29, Z5, Z25; \
	VMOVAPS Z23, Z29; \
	VPERMT2PS Z27, Z4, Z29; \
	VPERMT2PS Z27, Z5, Z23; \
	VMOVAPS Z24, Z27; \
	VPERMT2PS Z28, Z4, Z27; \
	VPERMT2PS Z28, Z5, Z24; \
	VMOVAPS Z30, Z28; \
	VPERMT2PS Z20, Z6, Z28; \
	VPERMT2PS Z20, Z7, Z30; \
	VMOVAPS Z18, Z20; \
	VPERMT2PS Z26, Z6, Z20; \
	VPERMT2PS Z26, Z7, Z18; \
	VMOVAPS Z21, Z26; \
	VPERMT2PS Z29, Z6, Z26; \
	VPERMT2PS Z29, Z7, Z21; \
	VMOVAPS Z19, Z29; \
	VPERMT2PS Z27, Z6, Z29; \
	VPERMT2PS Z27, Z7, Z19; \
	VMOVAPS Z31, Z27; \
	VPERMT2PS Z22, Z6, Z27; \
	VPERMT2PS Z22, Z7, Z31; \
	VMOVAPS Z17, Z22; \
	VPERMT2PS Z25, Z6, Z22; \
	VPERMT2PS Z25, Z7, Z17; \
	VMOVAPS Z8, Z25; \
	VPERMT2PS Z23, Z6, Z25; \
	VPERMT2PS Z23, Z7, Z8; \
	VMOVAPS Z16, Z23; \
	VPERMT2PS Z24, Z6, Z23; \
	VPERMT2PS Z24, Z7, Z16; \
	VMOVUPS Z28, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Z20, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Z26, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Z29, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Z27, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Z22, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Z25, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Z23, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Z30, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Z18, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Z21, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Z19, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Z31, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Z17, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Z8, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Z16, (DI)

// func transpose16avx512(dst *float32, ldd int, src *float32, lds int, idx *[8][16]uint32)
// dst[p·ldd + r] = src[r·lds + p] for r, p < 16: the 16 rows in
// registers, then for each bit b of the lane index two VPERMT2PS per row
// pair swap bit b between row and lane (see transIdx).
TEXT ·transpose16avx512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), CX
	SHLQ $2, CX
	MOVQ idx+32(FP), AX
	TRANS16_IDX
	VMOVUPS (SI), Z16
	ADDQ CX, SI
	VMOVUPS (SI), Z17
	ADDQ CX, SI
	VMOVUPS (SI), Z18
	ADDQ CX, SI
	VMOVUPS (SI), Z19
	ADDQ CX, SI
	VMOVUPS (SI), Z20
	ADDQ CX, SI
	VMOVUPS (SI), Z21
	ADDQ CX, SI
	VMOVUPS (SI), Z22
	ADDQ CX, SI
	VMOVUPS (SI), Z23
	ADDQ CX, SI
	VMOVUPS (SI), Z24
	ADDQ CX, SI
	VMOVUPS (SI), Z25
	ADDQ CX, SI
	VMOVUPS (SI), Z26
	ADDQ CX, SI
	VMOVUPS (SI), Z27
	ADDQ CX, SI
	VMOVUPS (SI), Z28
	ADDQ CX, SI
	VMOVUPS (SI), Z29
	ADDQ CX, SI
	VMOVUPS (SI), Z30
	ADDQ CX, SI
	VMOVUPS (SI), Z31
	TRANS16_STORE
	VZEROUPPER
	RET

// func packShift32avx512(dst, src *float32, rowOff, rowTap *int32, masks *uint32, kc, q0 int)
// For r < kc, with m = masks[rowTap[r]] and o = rowOff[r] + q0: the 32
// floats src[o+l] where bit l of m is set, 0 elsewhere, to dst + 32·r.
// Masked-off lanes are not read, so o + l may fall outside src there.
TEXT ·packShift32avx512(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rowOff+16(FP), R8
	MOVQ rowTap+24(FP), R9
	MOVQ masks+32(FP), R10
	MOVQ kc+40(FP), CX
	MOVQ q0+48(FP), DX
	TESTQ CX, CX
	JEQ packShift_done
packShift_loop:
	MOVLQSX (R8), AX
	ADDQ DX, AX
	MOVLQSX (R9), BX
	MOVL (R10)(BX*4), R11
	KMOVW R11, K1
	SHRL $16, R11
	KMOVW R11, K2
	VMOVUPS.Z (SI)(AX*4), K1, Z0
	VMOVUPS.Z 64(SI)(AX*4), K2, Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ $4, R8
	ADDQ $4, R9
	ADDQ $128, DI
	DECQ CX
	JNE packShift_loop
packShift_done:
	VZEROUPPER
	RET

// SHIFTROW loads row r of a transposeShift16avx512 block into REG: 16 floats
// at src (SI) + rowOff[r] + q (R12), masked by the half (CX: 0 or 16) of
// masks[rowTap[r]] (R10) that q falls in; masked-off lanes read nothing.
#define SHIFTROW(r, REG) \
	MOVLQSX (4*r)(R8), BX; \
	ADDQ R12, BX; \
	MOVLQSX (4*r)(R9), R11; \
	MOVL (R10)(R11*4), R11; \
	SHRL CX, R11; \
	KMOVW R11, K1; \
	VMOVUPS.Z (SI)(BX*4), K1, REG

// func transposeShift16avx512(dst *float32, ldd int, src *float32, rowOff, rowTap *int32, masks *uint32, q int, idx *[8][16]uint32)
// The transposed packing of an implicit-im2col block (shiftpack.go): row
// r < 16 is the plan's row at rowOff[r], rowTap[r], columns q..q+15 (q a
// multiple of 16, masks those of q's 32-column panel); dst[p·ldd + r] =
// row r[p].
TEXT ·transposeShift16avx512(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ rowOff+24(FP), R8
	MOVQ rowTap+32(FP), R9
	MOVQ masks+40(FP), R10
	MOVQ q+48(FP), R12
	MOVQ R12, CX
	ANDQ $16, CX
	MOVQ idx+56(FP), AX
	TRANS16_IDX
	SHIFTROW(0, Z16)
	SHIFTROW(1, Z17)
	SHIFTROW(2, Z18)
	SHIFTROW(3, Z19)
	SHIFTROW(4, Z20)
	SHIFTROW(5, Z21)
	SHIFTROW(6, Z22)
	SHIFTROW(7, Z23)
	SHIFTROW(8, Z24)
	SHIFTROW(9, Z25)
	SHIFTROW(10, Z26)
	SHIFTROW(11, Z27)
	SHIFTROW(12, Z28)
	SHIFTROW(13, Z29)
	SHIFTROW(14, Z30)
	SHIFTROW(15, Z31)
	TRANS16_STORE
	VZEROUPPER
	RET

// Lane i of shiftLaneBits holds 1<<i: ANDed with a broadcast mask word and
// compared, it turns 8 mask bits into 8 lane masks.
DATA shiftLaneBits<>+0(SB)/4, $1
DATA shiftLaneBits<>+4(SB)/4, $2
DATA shiftLaneBits<>+8(SB)/4, $4
DATA shiftLaneBits<>+12(SB)/4, $8
DATA shiftLaneBits<>+16(SB)/4, $16
DATA shiftLaneBits<>+20(SB)/4, $32
DATA shiftLaneBits<>+24(SB)/4, $64
DATA shiftLaneBits<>+28(SB)/4, $128
GLOBL shiftLaneBits<>(SB), RODATA|NOPTR, $32

// LANEMASK8 sets Y to the lane masks of bits 8·s..8·s+7 of the mask
// broadcast in Y0 (lane bits in Y14; Y9 spare).
#define LANEMASK8(s, Y) \
	VPSRLD $(8*s), Y0, Y9; \
	VPAND Y14, Y9, Y9; \
	VPCMPEQD Y14, Y9, Y

// func packShift32avx2(dst, src *float32, rowOff, rowTap *int32, masks *uint32, kc, q0 int)
// packShift32avx512 with AVX2: the mask bits become lane masks, and
// VMASKMOVPS, like the AVX-512 masked loads, reads nothing where a lane's
// mask is clear.
TEXT ·packShift32avx2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rowOff+16(FP), R8
	MOVQ rowTap+24(FP), R9
	MOVQ masks+32(FP), R10
	MOVQ kc+40(FP), CX
	MOVQ q0+48(FP), DX
	VMOVDQU shiftLaneBits<>(SB), Y14
	TESTQ CX, CX
	JEQ packShift2_done
packShift2_loop:
	MOVLQSX (R8), AX
	ADDQ DX, AX
	LEAQ (SI)(AX*4), AX
	MOVLQSX (R9), BX
	VPBROADCASTD (R10)(BX*4), Y0
	LANEMASK8(0, Y1)
	LANEMASK8(1, Y2)
	LANEMASK8(2, Y3)
	LANEMASK8(3, Y4)
	VMASKMOVPS (AX), Y1, Y5
	VMASKMOVPS 32(AX), Y2, Y6
	VMASKMOVPS 64(AX), Y3, Y7
	VMASKMOVPS 96(AX), Y4, Y8
	VMOVUPS Y5, (DI)
	VMOVUPS Y6, 32(DI)
	VMOVUPS Y7, 64(DI)
	VMOVUPS Y8, 96(DI)
	ADDQ $4, R8
	ADDQ $4, R9
	ADDQ $128, DI
	DECQ CX
	JNE packShift2_loop
packShift2_done:
	VZEROUPPER
	RET

// TRANS8 transposes the 8×8 block in Y0–Y7 (row r in Yr) in place (column
// p ends in Yp), with Y8–Y13 as scratch: unpack pairs, shuffle quads, swap
// 128-bit halves.
#define TRANS8 \
	VUNPCKLPS Y1, Y0, Y8; \
	VUNPCKHPS Y1, Y0, Y9; \
	VUNPCKLPS Y3, Y2, Y10; \
	VUNPCKHPS Y3, Y2, Y11; \
	VUNPCKLPS Y5, Y4, Y12; \
	VUNPCKHPS Y5, Y4, Y13; \
	VUNPCKLPS Y7, Y6, Y0; \
	VUNPCKHPS Y7, Y6, Y1; \
	VSHUFPS $0x44, Y10, Y8, Y2; \
	VSHUFPS $0xEE, Y10, Y8, Y3; \
	VSHUFPS $0x44, Y11, Y9, Y4; \
	VSHUFPS $0xEE, Y11, Y9, Y5; \
	VSHUFPS $0x44, Y0, Y12, Y6; \
	VSHUFPS $0xEE, Y0, Y12, Y7; \
	VSHUFPS $0x44, Y1, Y13, Y8; \
	VSHUFPS $0xEE, Y1, Y13, Y9; \
	VPERM2F128 $0x20, Y6, Y2, Y0; \
	VPERM2F128 $0x20, Y7, Y3, Y1; \
	VPERM2F128 $0x20, Y8, Y4, Y10; \
	VPERM2F128 $0x20, Y9, Y5, Y11; \
	VPERM2F128 $0x31, Y6, Y2, Y12; \
	VPERM2F128 $0x31, Y7, Y3, Y13; \
	VPERM2F128 $0x31, Y8, Y4, Y6; \
	VPERM2F128 $0x31, Y9, Y5, Y7; \
	VMOVAPS Y10, Y2; \
	VMOVAPS Y11, Y3; \
	VMOVAPS Y12, Y4; \
	VMOVAPS Y13, Y5

// STORE8 stores Y0–Y7 at DI, DI+DX, …, DI+7·DX.
#define STORE8 \
	VMOVUPS Y0, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Y1, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Y2, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Y3, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Y4, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Y5, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Y6, (DI); \
	ADDQ DX, DI; \
	VMOVUPS Y7, (DI); \
	ADDQ DX, DI

// func transpose8avx2(dst *float32, ldd int, src *float32, lds int, nblk int)
// For b < nblk: dst[(8b+p)·ldd + r] = src[r·lds + 8b + p] for r, p < 8:
// nblk 8×8 blocks side by side along src's rows, transposed in registers.
TEXT ·transpose8avx2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), CX
	SHLQ $2, CX
	MOVQ nblk+32(FP), R8
	TESTQ R8, R8
	JEQ transpose8_done
	LEAQ (CX)(CX*2), R9   // 3·lds
transpose8_loop:
	MOVQ SI, AX
	VMOVUPS (AX), Y0
	VMOVUPS (AX)(CX*1), Y1
	VMOVUPS (AX)(CX*2), Y2
	VMOVUPS (AX)(R9*1), Y3
	LEAQ (AX)(CX*4), AX
	VMOVUPS (AX), Y4
	VMOVUPS (AX)(CX*1), Y5
	VMOVUPS (AX)(CX*2), Y6
	VMOVUPS (AX)(R9*1), Y7
	TRANS8
	STORE8
	ADDQ $32, SI
	DECQ R8
	JNE transpose8_loop
transpose8_done:
	VZEROUPPER
	RET

// SHIFTROW8 loads row r of a transposeShift8avx2 block into Y: 8 floats at
// src (SI) + rowOff[r] + q (R12), where bits CX..CX+7 of masks[rowTap[r]]
// (R10) are set (lane bits in Y14; Y13 spare); masked-off lanes read nothing.
#define SHIFTROW8(r, Y) \
	MOVLQSX (4*r)(R8), BX; \
	ADDQ R12, BX; \
	MOVLQSX (4*r)(R9), R11; \
	VPBROADCASTD (R10)(R11*4), Y13; \
	VPSRLD X12, Y13, Y13; \
	VPAND Y14, Y13, Y13; \
	VPCMPEQD Y14, Y13, Y13; \
	VMASKMOVPS (SI)(BX*4), Y13, Y

// func transposeShift8avx2(dst *float32, ldd int, src *float32, rowOff, rowTap *int32, masks *uint32, q int)
// transposeShift16avx512's 8×8 form for AVX2 (q a multiple of 8).
TEXT ·transposeShift8avx2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ rowOff+24(FP), R8
	MOVQ rowTap+32(FP), R9
	MOVQ masks+40(FP), R10
	MOVQ q+48(FP), R12
	MOVQ R12, CX
	ANDQ $24, CX
	VMOVQ CX, X12                    // the mask's shift, for VPSRLD
	VMOVDQU shiftLaneBits<>(SB), Y14
	SHIFTROW8(0, Y0)
	SHIFTROW8(1, Y1)
	SHIFTROW8(2, Y2)
	SHIFTROW8(3, Y3)
	SHIFTROW8(4, Y4)
	SHIFTROW8(5, Y5)
	SHIFTROW8(6, Y6)
	SHIFTROW8(7, Y7)
	TRANS8
	STORE8
	VZEROUPPER
	RET

// func transpose4x8avx2(dst *float32, src *float32, ld, blocks int)
// For b < blocks: the 32 floats at dst + 32b are, for p = 0..7, rows 0..3
// of column 8b + p of the 4 rows at src (ld floats apart): an A panel of
// width 4 (the microkernel's mr) packed from rows, 8 k at a time
// (unpack, shuffle, then 128-bit lane permutes).
TEXT ·transpose4x8avx2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), DX
	MOVQ blocks+24(FP), CX
	SHLQ $2, DX
	LEAQ (SI)(DX*1), R8  // row 1
	LEAQ (R8)(DX*1), R9  // row 2
	LEAQ (R9)(DX*1), R10 // row 3
	XORQ AX, AX
	TESTQ CX, CX
	JEQ transpose4x8avx2_done
transpose4x8avx2_loop:
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS (R8)(AX*1), Y1
	VMOVUPS (R9)(AX*1), Y2
	VMOVUPS (R10)(AX*1), Y3
	VUNPCKLPS Y1, Y0, Y4 // a0 b0 a1 b1 | a4 b4 a5 b5
	VUNPCKHPS Y1, Y0, Y5 // a2 b2 a3 b3 | a6 b6 a7 b7
	VUNPCKLPS Y3, Y2, Y6 // c0 d0 c1 d1 | c4 d4 c5 d5
	VUNPCKHPS Y3, Y2, Y7 // c2 d2 c3 d3 | c6 d6 c7 d7
	VSHUFPS $0x44, Y6, Y4, Y8  // a0 b0 c0 d0 | a4 b4 c4 d4
	VSHUFPS $0xEE, Y6, Y4, Y9  // a1 b1 c1 d1 | a5 b5 c5 d5
	VSHUFPS $0x44, Y7, Y5, Y10 // a2 b2 c2 d2 | a6 b6 c6 d6
	VSHUFPS $0xEE, Y7, Y5, Y11 // a3 b3 c3 d3 | a7 b7 c7 d7
	VPERM2F128 $0x20, Y9, Y8, Y0
	VPERM2F128 $0x20, Y11, Y10, Y1
	VPERM2F128 $0x31, Y9, Y8, Y2
	VPERM2F128 $0x31, Y11, Y10, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $32, AX
	ADDQ $128, DI
	DECQ CX
	JNE transpose4x8avx2_loop
transpose4x8avx2_done:
	VZEROUPPER
	RET

// func packSeg32avx512(dst, src *float32, rowOff *int32, kc int, segs *segRun, nseg0, nseg1 int)
// The segment plans' panel packing (segpack.go): for each of kc rows, lanes
// 0–15 are the nseg0 runs of segs merged into zeros (run s: its mask's
// lanes from src + rowOff[r] + delta), lanes 16–31 the next nseg1 runs.
// Masked-off lanes read nothing.
TEXT ·packSeg32avx512(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rowOff+16(FP), R8
	MOVQ kc+24(FP), CX
	MOVQ segs+32(FP), R9
	MOVQ nseg0+40(FP), R13
	MOVQ nseg1+48(FP), R14
	LEAQ (R9)(R13*8), R10 // the runs of lanes 16–31
	TESTQ CX, CX
	JEQ packSeg_done
packSeg_row:
	MOVLQSX (R8), AX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	MOVQ R9, BX
	MOVQ R13, DX
	TESTQ DX, DX
	JEQ packSeg_half1
packSeg_run0:
	MOVL (BX), R11
	KMOVW R11, K1
	MOVLQSX 4(BX), R12
	ADDQ AX, R12
	VMOVUPS (SI)(R12*4), K1, Z0
	ADDQ $8, BX
	DECQ DX
	JNE packSeg_run0
packSeg_half1:
	MOVQ R10, BX
	MOVQ R14, DX
	TESTQ DX, DX
	JEQ packSeg_store
packSeg_run1:
	MOVL (BX), R11
	KMOVW R11, K1
	MOVLQSX 4(BX), R12
	ADDQ AX, R12
	VMOVUPS (SI)(R12*4), K1, Z1
	ADDQ $8, BX
	DECQ DX
	JNE packSeg_run1
packSeg_store:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ $4, R8
	ADDQ $128, DI
	DECQ CX
	JNE packSeg_row
packSeg_done:
	VZEROUPPER
	RET
