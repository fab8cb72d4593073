#include "textflag.h"

// func rdtscpAux() uint32
// RDTSCP's ECX: IA32_TSC_AUX, which Linux sets to the CPU's number (its
// low 12 bits) and node.
TEXT ·rdtscpAux(SB), NOSPLIT, $0-4
	RDTSCP
	MOVL CX, ret+0(FP)
	RET

// func hasRDTSCP() bool
// CPUID 0x80000001: EDX bit 27.
TEXT ·hasRDTSCP(SB), NOSPLIT, $0-1
	MOVL $0x80000000, AX
	CPUID
	CMPL AX, $0x80000001
	JB no
	MOVL $0x80000001, AX
	XORL CX, CX
	CPUID
	BTL $27, DX
	SETCS ret+0(FP)
	RET
no:
	MOVB $0, ret+0(FP)
	RET
