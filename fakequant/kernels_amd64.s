#include "textflag.h"

// The AVX-512 fake-quant loops (see kernels_amd64.go), 16 lanes a step,
// the same float32 operations in the same order as fq32Generic:
// y = x·inv; y = max(y, lo) (VMAXPS returns its second operand lo for a
// NaN y, as the scalar `!(y >= lo)`); y = min(y, hi); r = (y+magic)−magic;
// mask = rlo ≤ r ≤ rhi; out = min(max(r, rlo), rhi)·s. Z15 is left alone.

DATA fqmagic<>+0(SB)/4, $0x4b400000 // 1.5·2^23
GLOBL fqmagic<>(SB), RODATA|NOPTR, $4

DATA fqones<>+0(SB)/8, $0x0101010101010101
DATA fqones<>+8(SB)/8, $0x0101010101010101
GLOBL fqones<>(SB), RODATA|NOPTR, $16

// func fq32avx512(dst *float32, mask *bool, src *float32, n int, c *seg32)
// n a multiple of 16; mask nil to skip it.
TEXT ·fq32avx512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ mask+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), AX
	VBROADCASTSS 0(AX), Z16  // s
	VBROADCASTSS 4(AX), Z17  // inv
	VBROADCASTSS 8(AX), Z18  // lo
	VBROADCASTSS 12(AX), Z19 // hi
	VBROADCASTSS 16(AX), Z20 // rlo
	VBROADCASTSS 20(AX), Z21 // rhi
	VBROADCASTSS fqmagic<>(SB), Z22
	VMOVDQU8 fqones<>(SB), X23
	SHRQ $4, CX
	JEQ fq32avx512_done
fq32avx512_loop:
	VMULPS (SI), Z17, Z0
	VMAXPS Z18, Z0, Z0
	VMINPS Z19, Z0, Z0
	VADDPS Z22, Z0, Z0
	VSUBPS Z22, Z0, Z0
	TESTQ R8, R8
	JEQ fq32avx512_nomask
	VCMPPS $0x1d, Z20, Z0, K1      // r ≥ rlo (GE_OQ)
	VCMPPS $0x12, Z21, Z0, K1, K2  // and r ≤ rhi (LE_OQ)
	VMOVDQU8.Z X23, K2, X1
	VMOVDQU X1, (R8)
	ADDQ $16, R8
fq32avx512_nomask:
	VMAXPS Z20, Z0, Z0
	VMINPS Z21, Z0, Z0
	VMULPS Z16, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNE fq32avx512_loop
fq32avx512_done:
	VZEROUPPER
	RET

// func maskGrad32avx512(dst, grad *float32, mask *bool, n int)
// dst = g where mask, else 0; n a multiple of 16.
TEXT ·maskGrad32avx512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ mask+16(FP), R8
	MOVQ n+24(FP), CX
	SHRQ $4, CX
	JEQ maskGrad32avx512_done
maskGrad32avx512_loop:
	VPMOVZXBD (R8), Z1
	VPTESTMD Z1, Z1, K1
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS Z0, (DI)
	ADDQ $16, R8
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNE maskGrad32avx512_loop
maskGrad32avx512_done:
	VZEROUPPER
	RET

// func fq32avx2(dst *float32, mask *bool, src *float32, n int, c *seg32)
// fq32avx512 on ymm, 8 lanes a step (the same operations in the same
// order); n a multiple of 8; mask nil to skip it. The mask's lanes (0 or
// −1 as dwords) narrow to bytes by two signed packs, then AND 1.
TEXT ·fq32avx2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ mask+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), AX
	VBROADCASTSS 0(AX), Y8   // s
	VBROADCASTSS 4(AX), Y9   // inv
	VBROADCASTSS 8(AX), Y10  // lo
	VBROADCASTSS 12(AX), Y11 // hi
	VBROADCASTSS 16(AX), Y12 // rlo
	VBROADCASTSS 20(AX), Y13 // rhi
	VBROADCASTSS fqmagic<>(SB), Y14
	VMOVDQU fqones<>(SB), X7
	SHRQ $3, CX
	JEQ fq32avx2_done
fq32avx2_loop:
	VMULPS (SI), Y9, Y0
	VMAXPS Y10, Y0, Y0
	VMINPS Y11, Y0, Y0
	VADDPS Y14, Y0, Y0
	VSUBPS Y14, Y0, Y0
	TESTQ R8, R8
	JEQ fq32avx2_nomask
	VCMPPS $0x1d, Y12, Y0, Y1 // r ≥ rlo (GE_OQ)
	VCMPPS $0x12, Y13, Y0, Y2 // r ≤ rhi (LE_OQ)
	VANDPS Y2, Y1, Y1
	VEXTRACTF128 $1, Y1, X2
	VPACKSSDW X2, X1, X1
	VPACKSSWB X1, X1, X1
	VPAND X7, X1, X1
	VMOVQ X1, (R8)
	ADDQ $8, R8
fq32avx2_nomask:
	VMAXPS Y12, Y0, Y0
	VMINPS Y13, Y0, Y0
	VMULPS Y8, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNE fq32avx2_loop
fq32avx2_done:
	VZEROUPPER
	RET
