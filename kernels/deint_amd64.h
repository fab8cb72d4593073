// DEINT sets E to the even and O to the odd floats of LO (floats 0–7)
// and HI (8–15), in order: VSHUFPS picks them within each 128-bit half and
// VPERMPD puts the halves' pairs in order. Included by the AVX2 Winograd
// transforms and the 2×2 max pool.
#define DEINT(LO, HI, E, O) \
	VSHUFPS $0x88, HI, LO, E; \
	VSHUFPS $0xDD, HI, LO, O; \
	VPERMPD $0xD8, E, E; \
	VPERMPD $0xD8, O, O
