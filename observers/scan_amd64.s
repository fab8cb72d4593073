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
	MOVQ AX, X0
	VBROADCASTSS X0, Y0  // min, first half
	VMOVAPS Y0, Y1       // min, second half
	MOVL $0xff800000, AX // −Inf
	MOVQ AX, X2
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
