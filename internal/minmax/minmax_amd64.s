#include "textflag.h"

// func scanAVX2(x *float32, n int, out *[3][8]float32)
// n a multiple of 16. Eight lanes of min, max and the v−v guard (0 unless
// some value is NaN or infinite), two vectors a step; out receives the
// lanes' min, max and guard sums. VMINPS/VMAXPS take the new value as the
// first operand, so a tie keeps the earlier value, as the scalar loop.
TEXT ·scanAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ out+16(FP), DI
	MOVL $0x7f800000, AX // +Inf
	VMOVQ AX, X0
	VBROADCASTSS X0, Y0  // min, first half
	VMOVAPS Y0, Y1       // min, second half
	MOVL $0xff800000, AX // −Inf
	VMOVQ AX, X2
	VBROADCASTSS X2, Y2
	VMOVAPS Y2, Y3
	VXORPS Y4, Y4, Y4    // guards
	VXORPS Y5, Y5, Y5
	SHRQ $4, CX
	JEQ scanAVX2_done
scanAVX2_loop:
	VMOVUPS (SI), Y6
	VMOVUPS 32(SI), Y7
	VMINPS Y0, Y6, Y0
	VMINPS Y1, Y7, Y1
	VMAXPS Y2, Y6, Y2
	VMAXPS Y3, Y7, Y3
	VSUBPS Y6, Y6, Y8
	VSUBPS Y7, Y7, Y9
	VADDPS Y8, Y4, Y4
	VADDPS Y9, Y5, Y5
	ADDQ $64, SI
	DECQ CX
	JNE scanAVX2_loop
scanAVX2_done:
	VMINPS Y0, Y1, Y0
	VMAXPS Y2, Y3, Y2
	VADDPS Y5, Y4, Y4
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y4, 64(DI)
	VZEROUPPER
	RET

// func acc512(x *float32, n int, lanes *[3][16]float32)
// Folds x (n ≥ 0 values, the tail by a masked load) into the lanes' min,
// max and sum: four vectors a step with four sets of accumulators, so the
// loop is bound by the vector units' throughput, not by the latency of one
// chain.
TEXT ·acc512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ lanes+16(FP), DI
	VMOVUPS 0(DI), Z0
	VMOVUPS 64(DI), Z4
	VMOVUPS 128(DI), Z8
	VMOVAPS Z0, Z1
	VMOVAPS Z0, Z2
	VMOVAPS Z0, Z3
	VMOVAPS Z4, Z5
	VMOVAPS Z4, Z6
	VMOVAPS Z4, Z7
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	MOVQ CX, DX
	SHRQ $6, DX
	JEQ acc512_by16
acc512_loop64:
	VMOVUPS (SI), Z12
	VMOVUPS 64(SI), Z13
	VMOVUPS 128(SI), Z14
	VMOVUPS 192(SI), Z15
	VMINPS Z12, Z0, Z0
	VMINPS Z13, Z1, Z1
	VMINPS Z14, Z2, Z2
	VMINPS Z15, Z3, Z3
	VMAXPS Z12, Z4, Z4
	VMAXPS Z13, Z5, Z5
	VMAXPS Z14, Z6, Z6
	VMAXPS Z15, Z7, Z7
	VADDPS Z12, Z8, Z8
	VADDPS Z13, Z9, Z9
	VADDPS Z14, Z10, Z10
	VADDPS Z15, Z11, Z11
	ADDQ $256, SI
	DECQ DX
	JNE acc512_loop64
acc512_by16:
	ANDQ $63, CX
	MOVQ CX, DX
	SHRQ $4, DX
	JEQ acc512_tail
acc512_loop16:
	VMOVUPS (SI), Z12
	VMINPS Z12, Z0, Z0
	VMAXPS Z12, Z4, Z4
	VADDPS Z12, Z8, Z8
	ADDQ $64, SI
	DECQ DX
	JNE acc512_loop16
acc512_tail:
	ANDQ $15, CX
	JEQ acc512_done
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z12
	VMINPS Z12, Z0, K1, Z0
	VMAXPS Z12, Z4, K1, Z4
	VADDPS Z12, Z8, Z8
acc512_done:
	VMINPS Z1, Z0, Z0
	VMINPS Z3, Z2, Z2
	VMINPS Z2, Z0, Z0
	VMAXPS Z5, Z4, Z4
	VMAXPS Z7, Z6, Z6
	VMAXPS Z6, Z4, Z4
	VADDPS Z9, Z8, Z8
	VADDPS Z11, Z10, Z10
	VADDPS Z10, Z8, Z8
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z4, 64(DI)
	VMOVUPS Z8, 128(DI)
	VZEROUPPER
	RET
