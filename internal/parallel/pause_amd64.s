#include "textflag.h"

// func pause(n int)
// n PAUSE instructions: a spin-wait hint that yields the core's issue slots
// (to a sibling hyperthread) and keeps the loop from flooding the memory
// pipeline while a helper waits for its next chunk.
TEXT ·pause(SB), NOSPLIT, $0-8
	MOVQ n+0(FP), CX
pause_loop:
	PAUSE
	DECQ CX
	JNZ pause_loop
	RET
