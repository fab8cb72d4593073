#include "textflag.h"

// func sumY(p *float32, n int) float32
TEXT ·sumY(SB), NOSPLIT, $0-20
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
sumloop:
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	VADDPS 64(SI), Y2, Y2
	VADDPS 96(SI), Y3, Y3
	ADDQ $128, SI
	SUBQ $32, CX
	JNZ sumloop
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VMOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func fillY(p *float32, n int, v float32)
TEXT ·fillY(SB), NOSPLIT, $0-20
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS v+16(FP), Y0
fillloop:
	VMOVUPS Y0, (SI)
	VMOVUPS Y0, 32(SI)
	VMOVUPS Y0, 64(SI)
	VMOVUPS Y0, 96(SI)
	ADDQ $128, SI
	SUBQ $32, CX
	JNZ fillloop
	VZEROUPPER
	RET
