#include "textflag.h"
#include "clamp_amd64.h"
#include "fq_amd64.h"

// Training helpers of package kernels (see helpers_amd64.go).

// STRIDE2_ARGS loads the operands gather2Rows512 and scatter2AddRows512
// share: dst (DI), src (SI), rows (R9), n (R10), and the pitches in bytes
// (R11, R12).
#define STRIDE2_ARGS \
	MOVQ dst+0(FP), DI; \
	MOVQ src+8(FP), SI; \
	MOVQ rows+16(FP), R9; \
	MOVQ n+24(FP), R10; \
	MOVQ dpitch+32(FP), R11; \
	MOVQ spitch+40(FP), R12; \
	SHLQ $2, R11; \
	SHLQ $2, R12

// STRIDE2_MASKS sets, for a step of R13 = min(CX, 16) values spread over
// the even lanes of a 32-float window, K4 and K5 to the window's halves'
// even lanes up to 2·R13 − 1 and K2 to R13 lanes. R8 and AX scratch.
#define STRIDE2_MASKS \
	MOVQ CX, R13; \
	CMPQ R13, $16; \
	JLE 2(PC); \
	MOVQ $16, R13; \
	LEAQ -1(R13)(R13*1), R8; \
	MOVQ $-1, AX; \
	BZHIQ R8, AX, AX; \
	ANDQ $0x55555555, AX; \
	KMOVD AX, K4; \
	KSHIFTRD $16, K4, K5; \
	MOVQ $-1, AX; \
	BZHIQ R13, AX, AX; \
	KMOVW AX, K2

// func sum16AVX2(p *float32, n int, part *[16]float32)
// part[i] = Σ_j p[16j + i] over n/16 steps (n ≥ 16, a multiple of 16), in
// two ymm accumulators: the 16 partial sums of the AVX-512 archsimd loop it
// replaces, in the same order.
TEXT ·sum16AVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ part+16(FP), DI
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	SHRQ $4, CX
	DECQ CX
	JEQ sum16AVX2_done
sum16AVX2_loop:
	ADDQ $64, SI
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	DECQ CX
	JNE sum16AVX2_loop
sum16AVX2_done:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VZEROUPPER
	RET

// func addRowAVX2(d, s *float32, n int)
// d[i] += s[i] for i < n, n a multiple of 8.
TEXT ·addRowAVX2(SB), NOSPLIT, $0-24
	MOVQ d+0(FP), DI
	MOVQ s+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JEQ addRowAVX2_done
addRowAVX2_loop:
	VMOVUPS (DI), Y0
	VADDPS (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNE addRowAVX2_loop
addRowAVX2_done:
	VZEROUPPER
	RET

// func sumsAVX2(x *float32, n int, k float32, out *[16]float32)
// sumsGeneric's loop with 8-lane partial sums (n a multiple of 8): out[0:8]
// the lanes of Σ(x − k), out[8:16] those of Σ(x − k)² (by FMA).
TEXT ·sumsAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS k+16(FP), Y13
	MOVQ out+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	SHRQ $3, CX
	JEQ sumsAVX2_done
sumsAVX2_loop:
	VMOVUPS (SI), Y2
	VSUBPS Y13, Y2, Y2
	VADDPS Y2, Y0, Y0
	VFMADD231PS Y2, Y2, Y1
	ADDQ $32, SI
	DECQ CX
	JNE sumsAVX2_loop
sumsAVX2_done:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VZEROUPPER
	RET

// func gradSumsAVX2(dy, x *float32, n int, k float32, out *[16]float32)
// gradSumsGeneric's loop with 8-lane partial sums: out[0:8] of Σ dy,
// out[8:16] of Σ dy·(x − k) (by FMA).
TEXT ·gradSumsAVX2(SB), NOSPLIT, $0-40
	MOVQ dy+0(FP), DX
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS k+24(FP), Y13
	MOVQ out+32(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	SHRQ $3, CX
	JEQ gradSumsAVX2_done
gradSumsAVX2_loop:
	VMOVUPS (DX), Y2
	VMOVUPS (SI), Y3
	VSUBPS Y13, Y3, Y3
	VADDPS Y2, Y0, Y0
	VFMADD231PS Y3, Y2, Y1
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNE gradSumsAVX2_loop
gradSumsAVX2_done:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VZEROUPPER
	RET

// func affineAVX2(y, x *float32, n int, a, b float32)
// y = a·x + b by FMA, 8 lanes a step (n a multiple of 8).
TEXT ·affineAVX2(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Y13
	VBROADCASTSS b+28(FP), Y12
	SHRQ $3, CX
	JEQ affineAVX2_done
affineAVX2_loop:
	VMOVUPS (SI), Y0
	VFMADD213PS Y12, Y13, Y0 // y0 = a·x + b
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNE affineAVX2_loop
affineAVX2_done:
	VZEROUPPER
	RET

// func affine2AVX2(dx, dy, x *float32, n int, a, b, c float32)
// dx = a·dy + (b·x + c) by two FMAs, 8 lanes a step (n a multiple of 8).
TEXT ·affine2AVX2(SB), NOSPLIT, $0-44
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	VBROADCASTSS a+32(FP), Y13
	VBROADCASTSS b+36(FP), Y12
	VBROADCASTSS c+40(FP), Y11
	SHRQ $3, CX
	JEQ affine2AVX2_done
affine2AVX2_loop:
	VMOVUPS (SI), Y0
	VFMADD213PS Y11, Y12, Y0 // b·x + c
	VMOVUPS (DX), Y1
	VFMADD231PS Y13, Y1, Y0  // + a·dy
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNE affine2AVX2_loop
affine2AVX2_done:
	VZEROUPPER
	RET

// func dots4AVX2(acc *float32, dy, in *float32, offs *int, oh, ow, pitch int, mask *[8]int32)
// dotsRowsGeneric for 4 tap(s) with 8-lane partial sums by FMA: acc[8t:8t+8]
// += Σ over rows and columns of dy·(the input at offs[t]), each row's last
// ow mod 8 by masked loads (masked lanes read 0).
TEXT ·dots4AVX2(SB), NOSPLIT, $0-64
	MOVQ acc+0(FP), DI
	MOVQ dy+8(FP), DX
	MOVQ in+16(FP), SI
	MOVQ offs+24(FP), AX
	MOVQ 0(AX), R10
	SHLQ $2, R10
	MOVQ 8(AX), R11
	SHLQ $2, R11
	MOVQ 16(AX), R12
	SHLQ $2, R12
	MOVQ 24(AX), R13
	SHLQ $2, R13
	MOVQ oh+32(FP), R8
	MOVQ ow+40(FP), R9
	MOVQ pitch+48(FP), BX
	SHLQ $2, BX
	MOVQ mask+56(FP), AX
	VMOVDQU (AX), Y12
	VMOVUPS 0(DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	TESTQ R8, R8
	JEQ dots4AVX2_done
dots4AVX2_row:
	XORQ CX, CX
dots4AVX2_col:
	LEAQ 8(CX), AX
	CMPQ AX, R9
	JA dots4AVX2_tail
	VMOVUPS (DX)(CX*4), Y4
	LEAQ (SI)(CX*4), AX
	VFMADD231PS (AX)(R10*1), Y4, Y0
	VFMADD231PS (AX)(R11*1), Y4, Y1
	VFMADD231PS (AX)(R12*1), Y4, Y2
	VFMADD231PS (AX)(R13*1), Y4, Y3
	ADDQ $8, CX
	JMP dots4AVX2_col
dots4AVX2_tail:
	CMPQ CX, R9
	JEQ dots4AVX2_rowdone
	VMASKMOVPS (DX)(CX*4), Y12, Y4
	LEAQ (SI)(CX*4), AX
	VMASKMOVPS (AX)(R10*1), Y12, Y5
	VFMADD231PS Y5, Y4, Y0
	VMASKMOVPS (AX)(R11*1), Y12, Y5
	VFMADD231PS Y5, Y4, Y1
	VMASKMOVPS (AX)(R12*1), Y12, Y5
	VFMADD231PS Y5, Y4, Y2
	VMASKMOVPS (AX)(R13*1), Y12, Y5
	VFMADD231PS Y5, Y4, Y3
dots4AVX2_rowdone:
	ADDQ BX, SI
	LEAQ (DX)(R9*4), DX
	DECQ R8
	JNE dots4AVX2_row
dots4AVX2_done:
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VZEROUPPER
	RET

// func dots1AVX2(acc *float32, dy, in *float32, offs *int, oh, ow, pitch int, mask *[8]int32)
// dotsRowsGeneric for 1 tap(s) with 8-lane partial sums by FMA: acc[8t:8t+8]
// += Σ over rows and columns of dy·(the input at offs[t]), each row's last
// ow mod 8 by masked loads (masked lanes read 0).
TEXT ·dots1AVX2(SB), NOSPLIT, $0-64
	MOVQ acc+0(FP), DI
	MOVQ dy+8(FP), DX
	MOVQ in+16(FP), SI
	MOVQ offs+24(FP), AX
	MOVQ 0(AX), R10
	SHLQ $2, R10
	MOVQ oh+32(FP), R8
	MOVQ ow+40(FP), R9
	MOVQ pitch+48(FP), BX
	SHLQ $2, BX
	MOVQ mask+56(FP), AX
	VMOVDQU (AX), Y12
	VMOVUPS 0(DI), Y0
	TESTQ R8, R8
	JEQ dots1AVX2_done
dots1AVX2_row:
	XORQ CX, CX
dots1AVX2_col:
	LEAQ 8(CX), AX
	CMPQ AX, R9
	JA dots1AVX2_tail
	VMOVUPS (DX)(CX*4), Y4
	LEAQ (SI)(CX*4), AX
	VFMADD231PS (AX)(R10*1), Y4, Y0
	ADDQ $8, CX
	JMP dots1AVX2_col
dots1AVX2_tail:
	CMPQ CX, R9
	JEQ dots1AVX2_rowdone
	VMASKMOVPS (DX)(CX*4), Y12, Y4
	LEAQ (SI)(CX*4), AX
	VMASKMOVPS (AX)(R10*1), Y12, Y5
	VFMADD231PS Y5, Y4, Y0
dots1AVX2_rowdone:
	ADDQ BX, SI
	LEAQ (DX)(R9*4), DX
	DECQ R8
	JNE dots1AVX2_row
dots1AVX2_done:
	VMOVUPS Y0, 0(DI)
	VZEROUPPER
	RET

// func corr4AVX2(out, in *float32, offs *int, w *float32, ntaps, oh, ow, pitch int, init float32, add int, mask *[8]int32)
// corrRowsGeneric with FMA for oh a multiple of 4: 4 row(s) at a time,
// each 8-column block's 4 accumulator(s) kept in registers across the
// taps (independent chains; out is read once and written once), the rows'
// last ow mod 8 columns by masked loads and stores (mask: −1 in the first
// ow mod 8 lanes).
TEXT ·corr4AVX2(SB), NOSPLIT, $0-88
	MOVQ out+0(FP), DI
	MOVQ in+8(FP), SI
	MOVQ oh+40(FP), R8
	MOVQ ow+48(FP), R9
	MOVQ pitch+56(FP), BX
	SHLQ $2, BX
	VBROADCASTSS init+64(FP), Y13
	MOVQ R9, R11
	ANDQ $-8, R11
	MOVQ mask+80(FP), AX
	VMOVDQU (AX), Y12
	TESTQ R8, R8
	JEQ corr4AVX2_done
corr4AVX2_rows:
	XORQ CX, CX
corr4AVX2_col:
	CMPQ CX, R9
	JAE corr4AVX2_rowsdone
	CMPQ CX, R11
	JAE corr4AVX2_mcol
	LEAQ (DI)(CX*4), R10
	VMOVAPS Y13, Y0
	VMOVAPS Y13, Y1
	VMOVAPS Y13, Y2
	VMOVAPS Y13, Y3
	CMPQ add+72(FP), $0
	JEQ corr4AVX2_ftaps
	VADDPS (R10), Y0, Y0
	VADDPS (R10)(R9*4), Y1, Y1
	VADDPS (R10)(R9*8), Y2, Y2
	LEAQ (R10)(R9*8), DX
	VADDPS (DX)(R9*4), Y3, Y3
corr4AVX2_ftaps:
	MOVQ offs+16(FP), R12
	MOVQ w+24(FP), R13
	MOVQ ntaps+32(FP), DX
	TESTQ DX, DX
	JEQ corr4AVX2_fstore
corr4AVX2_ftap:
	MOVQ (R12), AX
	LEAQ (SI)(AX*4), AX
	LEAQ (AX)(CX*4), AX
	VBROADCASTSS (R13), Y11
	VFMADD231PS (AX), Y11, Y0
	VFMADD231PS (AX)(BX*1), Y11, Y1
	VFMADD231PS (AX)(BX*2), Y11, Y2
	LEAQ (AX)(BX*2), R10
	VFMADD231PS (R10)(BX*1), Y11, Y3
	ADDQ $8, R12
	ADDQ $4, R13
	DECQ DX
	JNE corr4AVX2_ftap
corr4AVX2_fstore:
	LEAQ (DI)(CX*4), R10
	VMOVUPS Y0, (R10)
	VMOVUPS Y1, (R10)(R9*4)
	VMOVUPS Y2, (R10)(R9*8)
	LEAQ (R10)(R9*8), DX
	VMOVUPS Y3, (DX)(R9*4)
	ADDQ $8, CX
	JMP corr4AVX2_col
corr4AVX2_mcol:
	LEAQ (DI)(CX*4), R10
	VMOVAPS Y13, Y0
	VMOVAPS Y13, Y1
	VMOVAPS Y13, Y2
	VMOVAPS Y13, Y3
	CMPQ add+72(FP), $0
	JEQ corr4AVX2_mtaps
	VMASKMOVPS (R10), Y12, Y5
	VADDPS Y5, Y0, Y0
	VMASKMOVPS (R10)(R9*4), Y12, Y5
	VADDPS Y5, Y1, Y1
	VMASKMOVPS (R10)(R9*8), Y12, Y5
	VADDPS Y5, Y2, Y2
	LEAQ (R10)(R9*8), DX
	VMASKMOVPS (DX)(R9*4), Y12, Y5
	VADDPS Y5, Y3, Y3
corr4AVX2_mtaps:
	MOVQ offs+16(FP), R12
	MOVQ w+24(FP), R13
	MOVQ ntaps+32(FP), DX
	TESTQ DX, DX
	JEQ corr4AVX2_mstore
corr4AVX2_mtap:
	MOVQ (R12), AX
	LEAQ (SI)(AX*4), AX
	LEAQ (AX)(CX*4), AX
	VBROADCASTSS (R13), Y11
	VMASKMOVPS (AX), Y12, Y5
	VFMADD231PS Y5, Y11, Y0
	VMASKMOVPS (AX)(BX*1), Y12, Y5
	VFMADD231PS Y5, Y11, Y1
	VMASKMOVPS (AX)(BX*2), Y12, Y5
	VFMADD231PS Y5, Y11, Y2
	LEAQ (AX)(BX*2), R10
	VMASKMOVPS (R10)(BX*1), Y12, Y5
	VFMADD231PS Y5, Y11, Y3
	ADDQ $8, R12
	ADDQ $4, R13
	DECQ DX
	JNE corr4AVX2_mtap
corr4AVX2_mstore:
	LEAQ (DI)(CX*4), R10
	VMASKMOVPS Y0, Y12, (R10)
	VMASKMOVPS Y1, Y12, (R10)(R9*4)
	VMASKMOVPS Y2, Y12, (R10)(R9*8)
	LEAQ (R10)(R9*8), DX
	VMASKMOVPS Y3, Y12, (DX)(R9*4)
	ADDQ $8, CX
	JMP corr4AVX2_col
corr4AVX2_rowsdone:
	LEAQ (SI)(BX*4), SI
	LEAQ (DI)(R9*8), DI
	LEAQ (DI)(R9*8), DI
	SUBQ $4, R8
	JNE corr4AVX2_rows
corr4AVX2_done:
	VZEROUPPER
	RET

// func corr1AVX2(out, in *float32, offs *int, w *float32, ntaps, oh, ow, pitch int, init float32, add int, mask *[8]int32)
// corrRowsGeneric with FMA for oh a multiple of 1: 1 row(s) at a time,
// each 8-column block's 1 accumulator(s) kept in registers across the
// taps (independent chains; out is read once and written once), the rows'
// last ow mod 8 columns by masked loads and stores (mask: −1 in the first
// ow mod 8 lanes).
TEXT ·corr1AVX2(SB), NOSPLIT, $0-88
	MOVQ out+0(FP), DI
	MOVQ in+8(FP), SI
	MOVQ oh+40(FP), R8
	MOVQ ow+48(FP), R9
	MOVQ pitch+56(FP), BX
	SHLQ $2, BX
	VBROADCASTSS init+64(FP), Y13
	MOVQ R9, R11
	ANDQ $-8, R11
	MOVQ mask+80(FP), AX
	VMOVDQU (AX), Y12
	TESTQ R8, R8
	JEQ corr1AVX2_done
corr1AVX2_rows:
	XORQ CX, CX
corr1AVX2_col:
	CMPQ CX, R9
	JAE corr1AVX2_rowsdone
	CMPQ CX, R11
	JAE corr1AVX2_mcol
	LEAQ (DI)(CX*4), R10
	VMOVAPS Y13, Y0
	CMPQ add+72(FP), $0
	JEQ corr1AVX2_ftaps
	VADDPS (R10), Y0, Y0
corr1AVX2_ftaps:
	MOVQ offs+16(FP), R12
	MOVQ w+24(FP), R13
	MOVQ ntaps+32(FP), DX
	TESTQ DX, DX
	JEQ corr1AVX2_fstore
corr1AVX2_ftap:
	MOVQ (R12), AX
	LEAQ (SI)(AX*4), AX
	LEAQ (AX)(CX*4), AX
	VBROADCASTSS (R13), Y11
	VFMADD231PS (AX), Y11, Y0
	ADDQ $8, R12
	ADDQ $4, R13
	DECQ DX
	JNE corr1AVX2_ftap
corr1AVX2_fstore:
	LEAQ (DI)(CX*4), R10
	VMOVUPS Y0, (R10)
	ADDQ $8, CX
	JMP corr1AVX2_col
corr1AVX2_mcol:
	LEAQ (DI)(CX*4), R10
	VMOVAPS Y13, Y0
	CMPQ add+72(FP), $0
	JEQ corr1AVX2_mtaps
	VMASKMOVPS (R10), Y12, Y5
	VADDPS Y5, Y0, Y0
corr1AVX2_mtaps:
	MOVQ offs+16(FP), R12
	MOVQ w+24(FP), R13
	MOVQ ntaps+32(FP), DX
	TESTQ DX, DX
	JEQ corr1AVX2_mstore
corr1AVX2_mtap:
	MOVQ (R12), AX
	LEAQ (SI)(AX*4), AX
	LEAQ (AX)(CX*4), AX
	VBROADCASTSS (R13), Y11
	VMASKMOVPS (AX), Y12, Y5
	VFMADD231PS Y5, Y11, Y0
	ADDQ $8, R12
	ADDQ $4, R13
	DECQ DX
	JNE corr1AVX2_mtap
corr1AVX2_mstore:
	LEAQ (DI)(CX*4), R10
	VMASKMOVPS Y0, Y12, (R10)
	ADDQ $8, CX
	JMP corr1AVX2_col
corr1AVX2_rowsdone:
	ADDQ BX, SI
	LEAQ (DI)(R9*4), DI
	SUBQ $1, R8
	JNE corr1AVX2_rows
corr1AVX2_done:
	VZEROUPPER
	RET

// func clampAVX2(y, x *float32, n int, hi float32)
// clampGeneric, 8 lanes a step (n a multiple of 8): max(x, +0) then
// min(·, hi) with the zero and hi as VMAXPS/VMINPS's second operands (so
// that −0 becomes +0 as Go's max gives), NaN lanes put back from x.
TEXT ·clampAVX2(SB), NOSPLIT, $0-28
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS hi+24(FP), Y13
	VXORPS Y14, Y14, Y14
	SHRQ $3, CX
	JEQ clampAVX2_done
clampAVX2_loop:
	VMOVUPS (SI), Y0
	CLAMP(Y0, Y14, Y13, Y1, Y2)
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNE clampAVX2_loop
clampAVX2_done:
	VZEROUPPER
	RET

// func panel32AVX2(dst, src *float32, ld, kc int)
// For p < kc: the 32 floats at src + p·ld to dst + 32·p (a packed GEMM
// panel of 32 contiguous columns, one k index per row).
TEXT ·panel32AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), DX
	SHLQ $2, DX
	MOVQ kc+24(FP), CX
	TESTQ CX, CX
	JEQ panel32AVX2_done
panel32AVX2_loop:
	VMOVUPS 0(SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ DX, SI
	ADDQ $128, DI
	DECQ CX
	JNE panel32AVX2_loop
panel32AVX2_done:
	VZEROUPPER
	RET

// CLAMPDY sets Y2 to dy (at DX) masked by WINDOW on y (at R8; Y14: lo, 0
// for the clamp alone; Y10: hi, or NaN for no upper bound). Y4, Y5
// scratch.
#define CLAMPDY \
	VMOVUPS (R8), Y4; \
	WINDOW((DX), Y4, Y14, Y10, Y5, Y2)

// func windowGradAVX2(dx, y, dy *float32, n int, lo, hi float32)
// windowGradGeneric 8 lanes a step (n a multiple of 8): dy where lo < y
// and y NGE hi (hi NaN: no upper bound), else 0 (CLAMPDY's mask).
TEXT ·windowGradAVX2(SB), NOSPLIT, $0-40
	MOVQ dx+0(FP), DI
	MOVQ y+8(FP), R8
	MOVQ dy+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS lo+32(FP), Y14
	VBROADCASTSS hi+36(FP), Y10
	SHRQ $3, CX
	JEQ windowGradAVX2_done
windowGradAVX2_loop:
	CLAMPDY
	VMOVUPS Y2, (DI)
	ADDQ $32, R8
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNE windowGradAVX2_loop
windowGradAVX2_done:
	VZEROUPPER
	RET

// func addClampAVX2(y, a, b *float32, n int, hi float32)
// clampAVX2 of a + b, 8 lanes a step (n a multiple of 8): the same bits as
// the two loops in sequence.
TEXT ·addClampAVX2(SB), NOSPLIT, $0-36
	MOVQ y+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS hi+32(FP), Y13
	VXORPS Y14, Y14, Y14
	SHRQ $3, CX
	JEQ addClampAVX2_done
addClampAVX2_loop:
	VMOVUPS (SI), Y0
	VADDPS (DX), Y0, Y0
	CLAMP(Y0, Y14, Y13, Y1, Y2)
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNE addClampAVX2_loop
addClampAVX2_done:
	VZEROUPPER
	RET

// func addAVX2(y, a, b *float32, n int)
// y = a + b for n a multiple of 8 (y may be a or b): the gradient sums
// gorgonia makes where a node feeds two ops (a residual block's input).
TEXT ·addAVX2(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JEQ addAVX2_done
addAVX2_loop:
	VMOVUPS (SI), Y0
	VADDPS (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNE addAVX2_loop
addAVX2_done:
	VZEROUPPER
	RET

// func deint2AVX2(e, o, src *float32, n int)
// deint2 of 16·n values of src: e gets the even ones, o the odd ones, 8
// each per step (shuffles within the 128-bit lanes, then a qword
// permutation across them).
TEXT ·deint2AVX2(SB), NOSPLIT, $0-32
	MOVQ e+0(FP), DI
	MOVQ o+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	TESTQ CX, CX
	JEQ deint2AVX2_done
deint2AVX2_loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2 // a0 a2 b0 b2 | a4 a6 b4 b6
	VSHUFPS $0xDD, Y1, Y0, Y3 // a1 a3 b1 b3 | a5 a7 b5 b7
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMOVUPS Y2, (DI)
	VMOVUPS Y3, (R8)
	ADDQ $64, SI
	ADDQ $32, DI
	ADDQ $32, R8
	DECQ CX
	JNE deint2AVX2_loop
deint2AVX2_done:
	VZEROUPPER
	RET

// func inter2AVX2(dst, e, o *float32, n int)
// inter2 of 16·n values of dst from 8·n of e and of o.
TEXT ·inter2AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ e+8(FP), SI
	MOVQ o+16(FP), R8
	MOVQ n+24(FP), CX
	TESTQ CX, CX
	JEQ inter2AVX2_done
inter2AVX2_loop:
	VMOVUPS (SI), Y0
	VMOVUPS (R8), Y1
	VUNPCKLPS Y1, Y0, Y2 // e0 o0 e1 o1 | e4 o4 e5 o5
	VUNPCKHPS Y1, Y0, Y3 // e2 o2 e3 o3 | e6 o6 e7 o7
	VPERM2F128 $0x20, Y3, Y2, Y4
	VPERM2F128 $0x31, Y3, Y2, Y5
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $64, DI
	DECQ CX
	JNE inter2AVX2_loop
inter2AVX2_done:
	VZEROUPPER
	RET

// func copyRowsAVX2(dst, src *float32, rows, n, dpitch, spitch int, tail *[8]int32)
// Copies rows rows of n floats, row r from src + r·spitch floats to
// dst + r·dpitch floats: 8 floats a step, each row's last n mod 8 under the
// lane mask tail (VMASKMOVPS touches no memory in masked-off lanes). One call
// per im2col tap, where a call per output row cost more than its copy, and
// per image of a batch of 1×1-convolution planes gathered side by side.
TEXT ·copyRowsAVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ n+24(FP), R9
	MOVQ dpitch+32(FP), R13
	MOVQ spitch+40(FP), R10
	MOVQ tail+48(FP), AX
	VMOVDQU (AX), Y14
	SHLQ $2, R10
	SHLQ $2, R13
	MOVQ R9, R11
	SHRQ $3, R11
	MOVQ R9, R12
	ANDQ $7, R12
	TESTQ R8, R8
	JEQ copyRowsAVX2_done
copyRowsAVX2_row:
	MOVQ SI, BX
	MOVQ DI, DX
	MOVQ R11, CX
	TESTQ CX, CX
	JEQ copyRowsAVX2_tail
copyRowsAVX2_vec:
	VMOVUPS (BX), Y0
	VMOVUPS Y0, (DX)
	ADDQ $32, BX
	ADDQ $32, DX
	DECQ CX
	JNE copyRowsAVX2_vec
copyRowsAVX2_tail:
	TESTQ R12, R12
	JEQ copyRowsAVX2_next
	VMASKMOVPS (BX), Y14, Y0
	VMASKMOVPS Y0, Y14, (DX)
copyRowsAVX2_next:
	ADDQ R10, SI
	ADDQ R13, DI
	DECQ R8
	JNE copyRowsAVX2_row
copyRowsAVX2_done:
	VZEROUPPER
	RET

// func axpyAVX2(dst, src *float32, n int, a float32)
// dst += a·src, 8 floats a step with FMA (n a multiple of 8).
TEXT ·axpyAVX2(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Y13
	SHRQ $3, CX
	JEQ axpyAVX2_done
axpyAVX2_loop:
	VMOVUPS (DI), Y0
	VFMADD231PS (SI), Y13, Y0 // + a·src
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNE axpyAVX2_loop
axpyAVX2_done:
	VZEROUPPER
	RET

// func addRowsAVX2(dst, src *float32, rows, n, pitch int, tail *[8]int32)
// copyRowsAVX2's adjoint: adds row r of n floats at src + r·n floats into
// dst + r·pitch floats, the tail under the lane mask (masked-off lanes add
// 0 and are not stored). One call per col2im tap.
TEXT ·addRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ n+24(FP), R9
	MOVQ pitch+32(FP), R10
	MOVQ tail+40(FP), AX
	VMOVDQU (AX), Y14
	SHLQ $2, R10
	MOVQ R9, R11
	SHRQ $3, R11
	MOVQ R9, R12
	ANDQ $7, R12
	TESTQ R8, R8
	JEQ addRowsAVX2_done
addRowsAVX2_row:
	MOVQ DI, BX
	MOVQ R11, CX
	TESTQ CX, CX
	JEQ addRowsAVX2_tail
addRowsAVX2_vec:
	VMOVUPS (BX), Y0
	VADDPS (SI), Y0, Y0
	VMOVUPS Y0, (BX)
	ADDQ $32, BX
	ADDQ $32, SI
	DECQ CX
	JNE addRowsAVX2_vec
addRowsAVX2_tail:
	TESTQ R12, R12
	JEQ addRowsAVX2_next
	VMASKMOVPS (BX), Y14, Y0
	VMASKMOVPS (SI), Y14, Y1
	VADDPS Y1, Y0, Y0
	VMASKMOVPS Y0, Y14, (BX)
	LEAQ (SI)(R12*4), SI
addRowsAVX2_next:
	ADDQ R10, DI
	DECQ R8
	JNE addRowsAVX2_row
addRowsAVX2_done:
	VZEROUPPER
	RET

// func fillAVX2(dst *float32, n int, v float32, tail *[8]int32)
// dst[0:n] = v: 8 floats a store, the last n mod 8 under the lane mask.
TEXT ·fillAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS v+16(FP), Y0
	MOVQ tail+24(FP), AX
	VMOVDQU (AX), Y14
	MOVQ CX, R12
	ANDQ $7, R12
	SHRQ $3, CX
	JEQ fillAVX2_tail
fillAVX2_loop:
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	DECQ CX
	JNE fillAVX2_loop
fillAVX2_tail:
	TESTQ R12, R12
	JEQ fillAVX2_done
	VMASKMOVPS Y0, Y14, (DI)
fillAVX2_done:
	VZEROUPPER
	RET

// func deint2RowsAVX2(e, o, src *float32, rows, n, epitch, spitch int, masks *[4][8]int32)
// deint2 of rows rows of n values: row r from src + r·spitch floats, its
// even values to e + r·epitch, its odd ones to o + r·epitch; 16 values a
// step as deint2AVX2, a row's last n mod 16 under masks: the source lanes
// of its two halves (masks[0], masks[1]) and the lanes of e and o
// (masks[2], masks[3]). Masked-off lanes touch no memory.
TEXT ·deint2RowsAVX2(SB), NOSPLIT, $0-64
	MOVQ e+0(FP), DI
	MOVQ o+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ n+32(FP), R10
	MOVQ epitch+40(FP), R11
	MOVQ spitch+48(FP), R12
	MOVQ masks+56(FP), AX
	VMOVDQU (AX), Y10
	VMOVDQU 32(AX), Y11
	VMOVDQU 64(AX), Y12
	VMOVDQU 96(AX), Y13
	SHLQ $2, R11
	SHLQ $2, R12
	MOVQ R10, R13
	ANDQ $15, R13 // the tail's length
	SHRQ $4, R10  // full steps
	TESTQ R9, R9
	JEQ deint2Rows_done
deint2Rows_row:
	MOVQ SI, BX
	MOVQ DI, DX
	MOVQ R8, R14
	MOVQ R10, CX
	TESTQ CX, CX
	JEQ deint2Rows_tail
deint2Rows_vec:
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, (R14)
	ADDQ $64, BX
	ADDQ $32, DX
	ADDQ $32, R14
	DECQ CX
	JNE deint2Rows_vec
deint2Rows_tail:
	TESTQ R13, R13
	JEQ deint2Rows_next
	VMASKMOVPS (BX), Y10, Y0
	VMASKMOVPS 32(BX), Y11, Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMASKMOVPS Y2, Y12, (DX)
	VMASKMOVPS Y3, Y13, (R14)
deint2Rows_next:
	ADDQ R12, SI
	ADDQ R11, DI
	ADDQ R11, R8
	DECQ R9
	JNE deint2Rows_row
deint2Rows_done:
	VZEROUPPER
	RET

// func inter2RowsAVX2(dst, e, o *float32, rows, n, dpitch, epitch int, masks *[4][8]int32)
// inter2 of rows rows of n values: row r to dst + r·dpitch floats from
// e + r·epitch and o + r·epitch; 16 values a step as inter2AVX2, a row's
// last n mod 16 under masks as in deint2RowsAVX2.
TEXT ·inter2RowsAVX2(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ e+8(FP), SI
	MOVQ o+16(FP), R8
	MOVQ rows+24(FP), R9
	MOVQ n+32(FP), R10
	MOVQ dpitch+40(FP), R11
	MOVQ epitch+48(FP), R12
	MOVQ masks+56(FP), AX
	VMOVDQU (AX), Y10
	VMOVDQU 32(AX), Y11
	VMOVDQU 64(AX), Y12
	VMOVDQU 96(AX), Y13
	SHLQ $2, R11
	SHLQ $2, R12
	MOVQ R10, R13
	ANDQ $15, R13
	SHRQ $4, R10
	TESTQ R9, R9
	JEQ inter2Rows_done
inter2Rows_row:
	MOVQ DI, DX
	MOVQ SI, BX
	MOVQ R8, R14
	MOVQ R10, CX
	TESTQ CX, CX
	JEQ inter2Rows_tail
inter2Rows_vec:
	VMOVUPS (BX), Y0
	VMOVUPS (R14), Y1
	VUNPCKLPS Y1, Y0, Y2
	VUNPCKHPS Y1, Y0, Y3
	VPERM2F128 $0x20, Y3, Y2, Y4
	VPERM2F128 $0x31, Y3, Y2, Y5
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ $32, BX
	ADDQ $32, R14
	ADDQ $64, DX
	DECQ CX
	JNE inter2Rows_vec
inter2Rows_tail:
	TESTQ R13, R13
	JEQ inter2Rows_next
	VMASKMOVPS (BX), Y12, Y0
	VMASKMOVPS (R14), Y13, Y1
	VUNPCKLPS Y1, Y0, Y2
	VUNPCKHPS Y1, Y0, Y3
	VPERM2F128 $0x20, Y3, Y2, Y4
	VPERM2F128 $0x31, Y3, Y2, Y5
	VMASKMOVPS Y4, Y10, (DX)
	VMASKMOVPS Y5, Y11, 32(DX)
inter2Rows_next:
	ADDQ R11, DI
	ADDQ R12, SI
	ADDQ R12, R8
	DECQ R9
	JNE inter2Rows_row
inter2Rows_done:
	VZEROUPPER
	RET

// POOL2X2ROWS is the body of the 2×2 stride-2 pools (pool2x2Rows512),
// their arguments in SI (x), DI (y), R9 (am), R10 (rows), R11 (ow), R13
// (base) and AX (idx), which each function loads itself (go vet checks a
// macro's argument names against the function before its definition):
// LOAD runs on each block's two rows of x (Z0, Z1 and Z6, Z7) as loaded,
// WIN on each block's maxima (Z4) and indices (Z9) before they are stored
// under K2, and may jump to pool2x2Rows_store.
#define POOL2X2ROWS(LOAD, WIN) \
	VMOVDQU32 0(AX), Z20 /* even lanes */; \
	VMOVDQU32 64(AX), Z21 /* odd lanes */; \
	VMOVDQU32 128(AX), Z22 /* 2·lane */; \
	MOVL $1, BX; \
	VPBROADCASTD BX, Z23; \
	LEAQ (R11)(R11*1), R12 /* w */; \
	VPBROADCASTD R12, Z24; \
	SHLQ $2, R12 /* a row of x in bytes */; \
	TESTQ R10, R10; \
	JEQ pool2x2Rows_done; \
pool2x2Rows_row: \
	XORQ AX, AX /* output offset in the row */; \
pool2x2Rows_block: \
	MOVQ R11, CX; \
	SUBQ AX, CX; \
	JLE pool2x2Rows_next; \
	CMPQ CX, $16; \
	JLE pool2x2Rows_mask; \
	MOVQ $16, CX; \
pool2x2Rows_mask: \
	MOVQ $1, BX; \
	SHLQ CX, BX; \
	DECQ BX; \
	KMOVW BX, K2 /* outputs */; \
	MOVQ $1, BX; \
	SHLQ CX, BX; \
	SHLQ CX, BX; \
	DECQ BX /* 2·CX ones: the inputs */; \
	KMOVD BX, K4; \
	KSHIFTRD $16, K4, K5; \
	LEAQ (SI)(AX*8), BX; \
	VMOVUPS.Z (BX), K4, Z0; \
	VMOVUPS.Z 64(BX), K5, Z1; \
	VMOVUPS.Z (BX)(R12*1), K4, Z6; \
	VMOVUPS.Z 64(BX)(R12*1), K5, Z7; \
	LOAD; \
	VMOVDQA32 Z20, Z2; \
	VPERMI2PS Z1, Z0, Z2 /* top a */; \
	VMOVDQA32 Z21, Z3; \
	VPERMI2PS Z1, Z0, Z3 /* top b */; \
	VMOVDQA32 Z20, Z12; \
	VPERMI2PS Z7, Z6, Z12 /* bottom a */; \
	VMOVDQA32 Z21, Z13; \
	VPERMI2PS Z7, Z6, Z13 /* bottom b */; \
	VCMPPS $0x1e, Z2, Z3, K1; \
	VBLENDMPS Z3, Z2, K1, Z4 /* top max */; \
	VCMPPS $0x1e, Z12, Z13, K3; \
	VBLENDMPS Z13, Z12, K3, Z14 /* bottom max */; \
	LEAQ (R13)(AX*2), BX; \
	VPBROADCASTD BX, Z8; \
	VPADDD Z22, Z8, Z8 /* top even indices */; \
	VMOVDQA32 Z8, Z9; \
	VPADDD Z23, Z9, K1, Z9 /* top index */; \
	VPADDD Z24, Z8, Z10; \
	VPADDD Z23, Z10, K3, Z10 /* bottom index */; \
	VCMPPS $0x1e, Z4, Z14, K2, K6; \
	VBLENDMPS Z14, Z4, K6, Z4; \
	VPBLENDMD Z10, Z9, K6, Z9; \
	WIN; \
pool2x2Rows_store: \
	VMOVUPS Z4, K2, (DI)(AX*4); \
	VMOVDQU32 Z9, K2, (R9)(AX*4); \
	ADDQ $16, AX; \
	JMP pool2x2Rows_block; \
pool2x2Rows_next: \
	LEAQ (SI)(R12*2), SI; \
	LEAQ (DI)(R11*4), DI; \
	LEAQ (R9)(R11*4), R9; \
	LEAQ (R13)(R11*4), R13 /* base += 2·w */; \
	DECQ R10; \
	JNE pool2x2Rows_row; \
pool2x2Rows_done: \
	VZEROUPPER; \
	RET

#define POOLWIN_NONE
#define POOLLOAD_NONE

// POOLFQ fake-quantizes Z in place (FQ): Z16 = s, Z17 = 1/s, Z18 = lo,
// Z19 = hi, Z31 = rlo, Z11 = rhi, Z30 = 1.5·2²³.
#define POOLFQ(Z) FQ(Z, Z16, Z17, Z18, Z19, Z31, Z11, Z30)

// POOLLOAD_FQ quantizes the loaded rows where DX (the constants) is not
// nil: their second vectors only where the block has inputs there (K5;
// rows of at most 8 outputs have none).
#define POOLLOAD_FQ \
	TESTQ DX, DX; \
	JEQ pool2x2Rows_loaded; \
	POOLFQ(Z0); \
	POOLFQ(Z6); \
	KORTESTW K5, K5; \
	JZ pool2x2Rows_loaded; \
	POOLFQ(Z1); \
	POOLFQ(Z7); \
pool2x2Rows_loaded:

// POOLWIN_AM sets the index of each maximum whose quantizer input lies
// outside the fold's window to −1: maxima strictly between the
// quantizer's edge outputs (Z25, Z26) came from inside it; the others'
// inputs are gathered from pre (R8, indices Z9) and tested as the masked
// scatter tests them, lo < v and not v >= hi (Z27, Z28); Z29 = −1.
#define POOLWIN_AM \
	VCMPPS $0x1e, Z25, Z4, K2, K7; \
	VCMPPS $0x11, Z26, Z4, K7, K7; \
	KXORW K7, K2, K7; \
	KORTESTW K7, K7; \
	JZ pool2x2Rows_store; \
	KMOVW K7, K1; \
	VGATHERDPS (R8)(Z9*4), K1, Z5; \
	VCMPPS $0x1e, Z27, Z5, K7, K1; \
	VCMPPS $0x1d, Z28, Z5, K1, K3; \
	KXORW K3, K1, K1; \
	KXORW K1, K7, K7; \
	VMOVDQA32 Z29, K7, Z9

// func pool2x2Rows512(x, y *float32, am *int32, rows, ow, base int, idx *[3][16]uint32)
// The 2×2 stride-2 max pool of rows row pairs of x (2·ow wide) in one
// pass: per 16 outputs, each row's pairs as pairMax512 takes them (the
// second only where strictly greater), then the bottom pair only where
// strictly greater than the top one, as rowMax512 — the same choices,
// without the pairs' intermediate arrays. am gets the chosen index, base
// being x[0]'s; the last block of a row under a mask.
TEXT ·pool2x2Rows512(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ am+16(FP), R9
	MOVQ rows+24(FP), R10
	MOVQ ow+32(FP), R11
	MOVQ base+40(FP), R13
	MOVQ idx+48(FP), AX
	POOL2X2ROWS(POOLLOAD_NONE, POOLWIN_NONE)

// func pool2x2Rows512w(x, y *float32, am *int32, rows, ow, base int, idx *[3][16]uint32, pre *float32, win *[4]float32, fq *[6]float32)
// pool2x2Rows512 with the fold's window applied to the indices
// (POOLWIN_AM): pre is the quantizer's input from index 0 on (the indices'
// origin), win its edge outputs and the window's (lo, hi). With fq not
// nil, x is the quantizer's input (pre from x's first plane), quantized
// as loaded (POOLLOAD_FQ) with fq's constants (s, 1/s, lo, hi, rlo, rhi).
TEXT ·pool2x2Rows512w(SB), NOSPLIT, $0-80
	MOVQ pre+56(FP), R8
	MOVQ win+64(FP), BX
	VBROADCASTSS 0(BX), Z25
	VBROADCASTSS 4(BX), Z26
	VBROADCASTSS 8(BX), Z27
	VBROADCASTSS 12(BX), Z28
	VPTERNLOGD $0xff, Z29, Z29, Z29
	MOVQ fq+72(FP), DX
	TESTQ DX, DX
	JEQ pool2x2Rows512w_args
	FQCONSTS(DX, BX, Z16, Z17, Z18, Z19, Z31, Z11, Z30)
pool2x2Rows512w_args:
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ am+16(FP), R9
	MOVQ rows+24(FP), R10
	MOVQ ow+32(FP), R11
	MOVQ base+40(FP), R13
	MOVQ idx+48(FP), AX
	POOL2X2ROWS(POOLLOAD_FQ, POOLWIN_AM)

// func gather2Rows512(dst, src *float32, rows, n, dpitch, spitch int, even *[16]uint32)
// dst[r·dpitch + i] = src[r·spitch + 2i] for i < n, r < rows (a stride-2
// convolution's im2col rows): 16 values a step, a two-table permute of
// the 32-float window whose even lanes the step's m values are, loaded
// under those lanes' mask (masked-off lanes touch no memory).
TEXT ·gather2Rows512(SB), NOSPLIT, $0-56
	STRIDE2_ARGS
	MOVQ even+48(FP), AX
	VMOVDQU32 (AX), Z20
	TESTQ R9, R9
	JEQ gather2Rows_done
	TESTQ R10, R10
	JEQ gather2Rows_done
gather2Rows_row:
	MOVQ SI, BX
	MOVQ DI, DX
	MOVQ R10, CX
gather2Rows_vec:
	STRIDE2_MASKS
	VMOVUPS.Z (BX), K4, Z0
	VMOVUPS.Z 64(BX), K5, Z1
	VMOVDQA32 Z20, Z2
	VPERMI2PS Z1, Z0, Z2
	VMOVUPS Z2, K2, (DX)
	ADDQ $128, BX
	ADDQ $64, DX
	SUBQ $16, CX
	JG gather2Rows_vec
	ADDQ R11, DI
	ADDQ R12, SI
	DECQ R9
	JNE gather2Rows_row
gather2Rows_done:
	VZEROUPPER
	RET

// func scatter2AddRows512(dst, src *float32, rows, n, dpitch, spitch int, spread *[2][16]uint32)
// dst[r·dpitch + 2i] += src[r·spitch + i] for i < n, r < rows (col2im's
// rows of a stride-2 convolution): 16 values a step spread over the even
// lanes of two vectors, added and stored under the even lanes' mask (the
// odd floats between are neither changed nor written).
TEXT ·scatter2AddRows512(SB), NOSPLIT, $0-56
	STRIDE2_ARGS
	MOVQ spread+48(FP), AX
	VMOVDQU32 (AX), Z20
	VMOVDQU32 64(AX), Z21
	TESTQ R9, R9
	JEQ scatter2Rows_done
	TESTQ R10, R10
	JEQ scatter2Rows_done
scatter2Rows_row:
	MOVQ SI, BX
	MOVQ DI, DX
	MOVQ R10, CX
scatter2Rows_vec:
	STRIDE2_MASKS
	VMOVUPS.Z (BX), K2, Z0
	VPERMPS Z0, Z20, Z1
	VPERMPS Z0, Z21, Z2
	VMOVUPS.Z (DX), K4, Z3
	VMOVUPS.Z 64(DX), K5, Z4
	VADDPS Z1, Z3, K4, Z3
	VADDPS Z2, Z4, K5, Z4
	VMOVUPS Z3, K4, (DX)
	VMOVUPS Z4, K5, 64(DX)
	ADDQ $64, BX
	ADDQ $128, DX
	SUBQ $16, CX
	JG scatter2Rows_vec
	ADDQ R11, DI
	ADDQ R12, SI
	DECQ R9
	JNE scatter2Rows_row
scatter2Rows_done:
	VZEROUPPER
	RET

// func im2col2Taps512(col, x *float32, taps *tap2, ntaps, nc, oh, ow, plane, spitch, colChan int, even *[16]uint32, full int)
// The im2col of nc channels (planes plane bytes apart in x, blocks of
// colChan bytes in col) for a stride-2 geometry of at most 16 output
// columns: for each tap (tap2), output row oy of ow values gets, in [y0,
// y1), the even lanes of the 32 source floats from the tap's row (masked
// by the lanes in the plane, the others zero; rows spitch bytes apart),
// else zeros; rows below full are stored as whole vectors.
TEXT ·im2col2Taps512(SB), NOSPLIT, $0-96
	MOVQ col+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ nc+32(FP), R9
	MOVQ oh+40(FP), R10
	MOVQ ow+48(FP), AX
	MOVQ $-1, DX
	BZHIQ AX, DX, DX
	KMOVW DX, K2
	SHLQ $2, AX
	MOVQ AX, R11
	MOVQ spitch+64(FP), R12
	MOVQ even+80(FP), AX
	VMOVDQU32 (AX), Z20
	VPXORD Z21, Z21, Z21
	TESTQ R9, R9
	JEQ im2col2_done
	TESTQ R10, R10
	JEQ im2col2_done
im2col2_chan:
	MOVQ taps+16(FP), BX
	MOVQ ntaps+24(FP), R13
	TESTQ R13, R13
	JEQ im2col2_chanNext
im2col2_tap:
	MOVQ 0(BX), DX
	ADDQ DI, DX
	MOVQ 8(BX), CX
	ADDQ SI, CX
	KMOVD 32(BX), K4
	KSHIFTRD $16, K4, K5
	KMOVW 40(BX), K3
	XORQ R8, R8
im2col2_row:
	CMPQ R8, 16(BX)
	JLT im2col2_zero
	CMPQ R8, 24(BX)
	JGE im2col2_zero
	VMOVUPS.Z (CX), K4, Z0
	VMOVUPS.Z 64(CX), K5, Z1
	VMOVDQA32 Z20, Z2
	VPERMI2PS.Z Z1, Z0, K3, Z2
	ADDQ R12, CX
	JMP im2col2_store
im2col2_zero:
	VMOVDQA32 Z21, Z2
im2col2_store:
	// The lanes past ow spill into the next rows, written after this
	// one; a tap's rows from full on are stored under the mask (nothing
	// past col's end).
	CMPQ R8, full+88(FP)
	JGE im2col2_last
	VMOVUPS Z2, (DX)
	JMP im2col2_next
im2col2_last:
	VMOVUPS Z2, K2, (DX)
im2col2_next:
	ADDQ R11, DX
	INCQ R8
	CMPQ R8, R10
	JLT im2col2_row
	ADDQ $48, BX
	DECQ R13
	JNE im2col2_tap
im2col2_chanNext:
	ADDQ colChan+72(FP), DI
	ADDQ plane+56(FP), SI
	DECQ R9
	JNE im2col2_chan
im2col2_done:
	VZEROUPPER
	RET

// func col2im2Taps512(dx, col *float32, taps *tap2, ntaps, nc, oh, ow, plane, spitch, colChan int, spread *[2][16]uint32)
// col2im of im2col2Taps512's layout: for each channel and tap, output row
// oy in [y0, y1) adds its values (those of the tap's output lanes) to the
// even lanes in the plane of the tap's source window, tap by tap in order.
TEXT ·col2im2Taps512(SB), NOSPLIT, $0-88
	MOVQ dx+0(FP), DI
	MOVQ col+8(FP), SI
	MOVQ nc+32(FP), R9
	MOVQ ow+48(FP), AX
	SHLQ $2, AX
	MOVQ AX, R11
	MOVQ spitch+64(FP), R12
	MOVQ spread+80(FP), AX
	VMOVDQU32 (AX), Z20
	VMOVDQU32 64(AX), Z21
	TESTQ R9, R9
	JEQ col2im2_done
col2im2_chan:
	MOVQ taps+16(FP), BX
	MOVQ ntaps+24(FP), R13
	TESTQ R13, R13
	JEQ col2im2_chanNext
col2im2_tap:
	MOVQ 16(BX), R8
	MOVQ 24(BX), R10
	SUBQ R8, R10
	JLE col2im2_tapNext
	IMULQ R11, R8
	MOVQ 0(BX), DX
	ADDQ SI, DX
	ADDQ R8, DX
	MOVQ 8(BX), CX
	ADDQ DI, CX
	KMOVD 32(BX), K4
	KSHIFTRD $16, K4, K5
	KMOVW 40(BX), K3
	// Where the window is one vector (ow ≤ 8), the second half is never
	// touched: its masked accesses would still overlap the next row's
	// window, and AMD then holds each row's load until the last store.
	KORTESTW K5, K5
	JEQ col2im2_row1
col2im2_row:
	VMOVUPS.Z (DX), K3, Z0
	VPERMPS Z0, Z20, Z1
	VPERMPS Z0, Z21, Z2
	VMOVUPS.Z (CX), K4, Z3
	VMOVUPS.Z 64(CX), K5, Z4
	VADDPS Z1, Z3, K4, Z3
	VADDPS Z2, Z4, K5, Z4
	VMOVUPS Z3, K4, (CX)
	VMOVUPS Z4, K5, 64(CX)
	ADDQ R11, DX
	ADDQ R12, CX
	DECQ R10
	JNE col2im2_row
	JMP col2im2_tapNext
col2im2_row1:
	VMOVUPS.Z (DX), K3, Z0
	VPERMPS Z0, Z20, Z1
	VMOVUPS.Z (CX), K4, Z3
	VADDPS Z1, Z3, K4, Z3
	VMOVUPS Z3, K4, (CX)
	ADDQ R11, DX
	ADDQ R12, CX
	DECQ R10
	JNE col2im2_row1
col2im2_tapNext:
	ADDQ $48, BX
	DECQ R13
	JNE col2im2_tap
col2im2_chanNext:
	ADDQ colChan+72(FP), SI
	ADDQ plane+56(FP), DI
	DECQ R9
	JNE col2im2_chan
col2im2_done:
	VZEROUPPER
	RET

// YREC sets Y4 to the batch norm's output recomputed from x (Y3): a·x + b
// by affineActPlanesAVX2's FMA (Y8 = a, Y9 = b), clamped as CLAMP when
// R9 ≠ 0 (Y12 = +0, Y11 = hi; Y6, Y7 scratch).
#define YREC(L) \
	VMOVAPS Y3, Y4; \
	VFMADD213PS Y9, Y8, Y4; \
	TESTQ R9, R9; \
	JEQ L; \
	CLAMP(Y4, Y12, Y11, Y6, Y7); \
L:

// func gradSumsRecAVX2(dy, x *float32, n int, a, b, chi float32, clamp int, k, lo, hi float32, out *[16]float32)
// gradSumsAVX2 of dy masked by the window (lo, hi: CLAMPDY's) of the
// batch norm's output recomputed from x (YREC): the backward of a clamped
// or folded batch norm, its output never read.
TEXT ·gradSumsRecAVX2(SB), NOSPLIT, $0-72
	MOVQ dy+0(FP), DX
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Y8
	VBROADCASTSS b+28(FP), Y9
	VBROADCASTSS chi+32(FP), Y11
	MOVQ clamp+40(FP), R9
	VBROADCASTSS k+48(FP), Y13
	VBROADCASTSS lo+52(FP), Y14
	VBROADCASTSS hi+56(FP), Y10
	MOVQ out+64(FP), DI
	VXORPS Y12, Y12, Y12
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	SHRQ $3, CX
	JEQ gradSumsRecAVX2_done
gradSumsRecAVX2_loop:
	VMOVUPS (SI), Y3
	YREC(gradSumsRecAVX2_win)
	WINDOW((DX), Y4, Y14, Y10, Y5, Y2)
	VSUBPS Y13, Y3, Y3
	VADDPS Y2, Y0, Y0
	VFMADD231PS Y3, Y2, Y1
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNE gradSumsRecAVX2_loop
gradSumsRecAVX2_done:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VZEROUPPER
	RET

// func affine2RecAVX2(dx, dy, x *float32, n int, ya, yb, chi float32, clamp int, a, b, c, lo, hi float32)
// affine2AVX2 of dy masked as in gradSumsRecAVX2 (YREC with ya, yb).
TEXT ·affine2RecAVX2(SB), NOSPLIT, $0-76
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	VBROADCASTSS ya+32(FP), Y8
	VBROADCASTSS yb+36(FP), Y9
	VBROADCASTSS chi+40(FP), Y11
	MOVQ clamp+48(FP), R9
	VBROADCASTSS a+56(FP), Y13
	VBROADCASTSS b+60(FP), Y15
	VBROADCASTSS c+64(FP), Y1
	VBROADCASTSS lo+68(FP), Y14
	VBROADCASTSS hi+72(FP), Y10
	VXORPS Y12, Y12, Y12
	SHRQ $3, CX
	JEQ affine2RecAVX2_done
affine2RecAVX2_loop:
	VMOVUPS (SI), Y3
	YREC(affine2RecAVX2_win)
	VMOVAPS Y3, Y0
	VFMADD213PS Y1, Y15, Y0 // b·x + c
	WINDOW((DX), Y4, Y14, Y10, Y5, Y2)
	VFMADD231PS Y13, Y2, Y0  // + a·dy
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNE affine2RecAVX2_loop
affine2RecAVX2_done:
	VZEROUPPER
	RET

// func prefetchAVX(p *float32, n int)
// Prefetches the n bytes at p into L1, a cache line at a time (the next
// plane of a loop that visits planes far apart, beyond the prefetchers).
TEXT ·prefetchAVX(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	ADDQ SI, CX
prefetchloop:
	PREFETCHT0 (SI)
	ADDQ $64, SI
	CMPQ SI, CX
	JLT  prefetchloop
	RET

// func foldQuantizeAVX2(dst, src *float32, n int, c *[6]float32)
// foldQuantize's formula (fq_amd64.h's FQ) on 8 lanes a step; n a
// multiple of 8.
TEXT ·foldQuantizeAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ c+24(FP), AX
	FQCONSTS8(AX, DX, Y8, Y9, Y10, Y11, Y12, Y13, Y14, X14)
	SHRQ $3, CX
	JEQ  fqavx2_done
fqavx2_loop:
	VMOVUPS (SI), Y0
	FQ(Y0, Y8, Y9, Y10, Y11, Y12, Y13, Y14)
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNE  fqavx2_loop
fqavx2_done:
	VZEROUPPER
	RET
