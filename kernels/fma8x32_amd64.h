// The 8×32 float32 tile of the AVX-512 GEMM: its accumulators and one
// k step, shared by sgemm8x32avx512 (gemm_amd64.s) and winoGemmAVX512
// (winograd_amd64.s).

// ACC16ZERO clears the 16 accumulators Z16–Z31.
#define ACC16ZERO \
	VPXORD Z16, Z16, Z16; \
	VPXORD Z17, Z17, Z17; \
	VPXORD Z18, Z18, Z18; \
	VPXORD Z19, Z19, Z19; \
	VPXORD Z20, Z20, Z20; \
	VPXORD Z21, Z21, Z21; \
	VPXORD Z22, Z22, Z22; \
	VPXORD Z23, Z23, Z23; \
	VPXORD Z24, Z24, Z24; \
	VPXORD Z25, Z25, Z25; \
	VPXORD Z26, Z26, Z26; \
	VPXORD Z27, Z27, Z27; \
	VPXORD Z28, Z28, Z28; \
	VPXORD Z29, Z29, Z29; \
	VPXORD Z30, Z30, Z30; \
	VPXORD Z31, Z31, Z31

// FMA8X32 is one k step of the tile: B's 32 floats at BX (Z0/Z1) times
// the broadcasts of the 4 floats of each A panel at AX and SI (Z2–Z9),
// row r of the tile accumulated in Z16+2r and Z17+2r; it moves AX, SI and
// BX to the next step.
#define FMA8X32 \
	VMOVUPS (BX), Z0; \
	VMOVUPS 64(BX), Z1; \
	VBROADCASTSS 0(AX), Z2; \
	VBROADCASTSS 4(AX), Z3; \
	VBROADCASTSS 8(AX), Z4; \
	VBROADCASTSS 12(AX), Z5; \
	VBROADCASTSS 0(SI), Z6; \
	VBROADCASTSS 4(SI), Z7; \
	VBROADCASTSS 8(SI), Z8; \
	VBROADCASTSS 12(SI), Z9; \
	VFMADD231PS Z0, Z2, Z16; \
	VFMADD231PS Z1, Z2, Z17; \
	VFMADD231PS Z0, Z3, Z18; \
	VFMADD231PS Z1, Z3, Z19; \
	VFMADD231PS Z0, Z4, Z20; \
	VFMADD231PS Z1, Z4, Z21; \
	VFMADD231PS Z0, Z5, Z22; \
	VFMADD231PS Z1, Z5, Z23; \
	VFMADD231PS Z0, Z6, Z24; \
	VFMADD231PS Z1, Z6, Z25; \
	VFMADD231PS Z0, Z7, Z26; \
	VFMADD231PS Z1, Z7, Z27; \
	VFMADD231PS Z0, Z8, Z28; \
	VFMADD231PS Z1, Z8, Z29; \
	VFMADD231PS Z0, Z9, Z30; \
	VFMADD231PS Z1, Z9, Z31; \
	ADDQ $16, AX; \
	ADDQ $16, SI; \
	ADDQ $128, BX
