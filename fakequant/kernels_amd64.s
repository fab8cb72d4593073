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
