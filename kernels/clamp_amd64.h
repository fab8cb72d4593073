// The clamp and the window mask of the activations' gradients, included
// by this package's assembly files: written once, so that every loop
// computes clampGeneric's and windowGradGeneric's bits.

// CLAMP sets X to clampGeneric's min(max(X, 0), hi) (ZERO: +0 in every
// lane, HI: hi): VMAXPS/VMINPS take 0 and hi as their second operands, so
// −0 becomes +0 as Go's max gives, and NaN lanes are put back from X. T1,
// T2 scratch.
#define CLAMP(X, ZERO, HI, T1, T2) \
	VMAXPS ZERO, X, T1; \
	VMINPS HI, T1, T1; \
	VCMPPS $3, X, X, T2; \
	VBLENDVPS T2, X, T1, X

// WINDOW sets DST to G where LO < Y and Y NGE HI (a NaN HI: no upper
// bound, which every Y passes), else 0: windowGradGeneric's mask, and with
// LO = 0 the ReLU/ReLU6 gradient's (clampGradGeneric's). G may be a memory
// operand; Y is clobbered, T scratch.
#define WINDOW(G, Y, LO, HI, T, DST) \
	VCMPPS $0x1e, LO, Y, T; \
	VCMPPS $0x19, HI, Y, Y; \
	VANDPS Y, T, T; \
	VANDPS G, T, DST
