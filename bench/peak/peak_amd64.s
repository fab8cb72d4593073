#include "textflag.h"

// Each loop is 12 independent accumulator chains of one instruction (its
// other operands Z13/Y13 and Z14/Y14, never written), so that the rate is
// the core's issue limit, not the instruction's latency.

// ZERO12Z clears the accumulators Z0–Z11 by ZOP (an xor).
#define ZERO12Z(ZOP) \
	ZOP Z0, Z0, Z0; ZOP Z1, Z1, Z1; ZOP Z2, Z2, Z2; ZOP Z3, Z3, Z3; \
	ZOP Z4, Z4, Z4; ZOP Z5, Z5, Z5; ZOP Z6, Z6, Z6; ZOP Z7, Z7, Z7; \
	ZOP Z8, Z8, Z8; ZOP Z9, Z9, Z9; ZOP Z10, Z10, Z10; ZOP Z11, Z11, Z11

// STEP12Z is one OP into each accumulator.
#define STEP12Z(OP) \
	OP Z13, Z14, Z0; OP Z13, Z14, Z1; OP Z13, Z14, Z2; OP Z13, Z14, Z3; \
	OP Z13, Z14, Z4; OP Z13, Z14, Z5; OP Z13, Z14, Z6; OP Z13, Z14, Z7; \
	OP Z13, Z14, Z8; OP Z13, Z14, Z9; OP Z13, Z14, Z10; OP Z13, Z14, Z11

// ZERO12Y clears the accumulators Y0–Y11 by ZOP (an xor).
#define ZERO12Y(ZOP) \
	ZOP Y0, Y0, Y0; ZOP Y1, Y1, Y1; ZOP Y2, Y2, Y2; ZOP Y3, Y3, Y3; \
	ZOP Y4, Y4, Y4; ZOP Y5, Y5, Y5; ZOP Y6, Y6, Y6; ZOP Y7, Y7, Y7; \
	ZOP Y8, Y8, Y8; ZOP Y9, Y9, Y9; ZOP Y10, Y10, Y10; ZOP Y11, Y11, Y11

// STEP12Y is one OP into each accumulator.
#define STEP12Y(OP) \
	OP Y13, Y14, Y0; OP Y13, Y14, Y1; OP Y13, Y14, Y2; OP Y13, Y14, Y3; \
	OP Y13, Y14, Y4; OP Y13, Y14, Y5; OP Y13, Y14, Y6; OP Y13, Y14, Y7; \
	OP Y13, Y14, Y8; OP Y13, Y14, Y9; OP Y13, Y14, Y10; OP Y13, Y14, Y11

// func fmaZ(n int)
TEXT ·fmaZ(SB), NOSPLIT, $0-8
	MOVQ n+0(FP), CX
	ZERO12Z(VXORPS)

fmaZ_loop:
	STEP12Z(VFMADD231PS)
	DECQ CX
	JNZ  fmaZ_loop
	VZEROUPPER
	RET

// func fmaY(n int)
TEXT ·fmaY(SB), NOSPLIT, $0-8
	MOVQ n+0(FP), CX
	ZERO12Y(VXORPS)

fmaY_loop:
	STEP12Y(VFMADD231PS)
	DECQ CX
	JNZ  fmaY_loop
	VZEROUPPER
	RET

// func dpbusdZ(n int)
TEXT ·dpbusdZ(SB), NOSPLIT, $0-8
	MOVQ n+0(FP), CX
	ZERO12Z(VPXORD)

dpbusdZ_loop:
	STEP12Z(VPDPBUSD)
	DECQ CX
	JNZ  dpbusdZ_loop
	VZEROUPPER
	RET
