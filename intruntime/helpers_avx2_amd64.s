#include "textflag.h"

// AVX2 helpers of the integer runtime, each the exact twin of a scalar
// function (see helpers_amd64.go). Y15 is left alone (Go's ABIInternal
// zero register).

// RQCONSTS loads the requantization operands at AX (requantScalars)
// into Y4–Y13 and X14.
#define RQCONSTS \
	VPBROADCASTD 0(AX), Y4; \
	VPBROADCASTD 4(AX), Y5; \
	VPBROADCASTD 8(AX), Y6; \
	VPBROADCASTD 12(AX), Y7; \
	VPBROADCASTD 16(AX), Y8; \
	VPBROADCASTD 20(AX), Y9; \
	VPBROADCASTD 24(AX), Y10; \
	VPBROADCASTD 28(AX), Y11; \
	VPBROADCASTD 32(AX), Y12; \
	VPBROADCASTQ 40(AX), Y13; \
	VMOVQ 48(AX), X14

// RQ8(src, dst) requantizes the 8 int32 at src into the 8 bytes at dst.
// Y4 hib, Y5 lob, Y6 bias, Y7 m0, Y8 half, Y9 mask, Y10 zy, Y11 lo, Y12
// hi, Y13 2^30 in each qword, X14 exp; Y0–Y2 temporaries. The odd lanes'
// shift left by one is an add (Zen's shift pipes are the busier ones),
// the rounding test a compare.
#define RQ8(src, dst) \
	VMOVDQU src, Y0; \
	VPMINSD Y4, Y0, Y0; \
	VPMAXSD Y5, Y0, Y0; \
	VPADDD Y6, Y0, Y0; \
	VPMULDQ Y7, Y0, Y1; \
	VPSRLQ $32, Y0, Y2; \
	VPMULDQ Y7, Y2, Y2; \
	VPADDQ Y13, Y1, Y1; \
	VPADDQ Y13, Y2, Y2; \
	VPSRLQ $31, Y1, Y1; \
	VPADDQ Y2, Y2, Y2; \
	VPBLENDD $0xaa, Y2, Y1, Y0; \
	VPSRAD $31, Y0, Y1; \
	VPSUBD Y1, Y8, Y1; \
	VPAND Y9, Y0, Y2; \
	VPCMPGTD Y1, Y2, Y1; \
	VPSRAD X14, Y0, Y0; \
	VPSUBD Y1, Y0, Y0; \
	VPADDD Y10, Y0, Y0; \
	VPMAXSD Y11, Y0, Y0; \
	VPMINSD Y12, Y0, Y0; \
	VEXTRACTI128 $1, Y0, X1; \
	VPACKUSDW X1, X0, X0; \
	VPACKUSWB X0, X0, X0; \
	VMOVQ X0, dst

// func requantAVX2(out *uint8, row *int32, n int, c *requantScalars)
// n a multiple of 8. requantRowScalar on 8 int32 lanes: the accumulator
// clamped so that adding the bias saturates exactly (hib, lob), the bias
// added, ·M0 as int64 on even and odd lanes (VPMULDQ), SRDHM as
// ⌊(p + 2^30) / 2^31⌋ — equal to gemmlowp's nudged truncating division for
// every p — taken as bits 31..62 (a logical shift of the even products, a
// left shift by one of the odd ones, blended), then RoundingDivideByPOT,
// + Z_Y and the clamp, narrowed to bytes (the bounds are within [0, 255]).
TEXT ·requantAVX2(SB), NOSPLIT, $0-32
	MOVQ out+0(FP), DI
	MOVQ row+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ c+24(FP), AX
	RQCONSTS
	SHRQ $3, CX
	JEQ requantAVX2_done
requantAVX2_loop:
	RQ8((SI), (DI))
	ADDQ $32, SI
	ADDQ $8, DI
	DECQ CX
	JNE requantAVX2_loop
requantAVX2_done:
	VZEROUPPER
	RET
// func requantRowsAVX2x(out *uint8, outStride int, row *int32, rowStride, count, width int, c *requantScalars)
// is requantAVX2 on count rows of width ≥ 8 (outStride and rowStride
// apart), a row's last vector ending at its end (overlapping the one
// before where width is not a multiple of 8): one call for a
// convolution's channel, where a call a row cost up to a tenth of its
// tap convolution's time.
TEXT ·requantRowsAVX2x(SB), NOSPLIT, $0-56
	MOVQ out+0(FP), DI
	MOVQ outStride+8(FP), R8
	MOVQ row+16(FP), SI
	MOVQ rowStride+24(FP), R9
	SHLQ $2, R9
	MOVQ count+32(FP), R13
	MOVQ width+40(FP), R10
	MOVQ c+48(FP), AX
	RQCONSTS
	LEAQ -8(R10), R11 // the last vector's start
	TESTQ R13, R13
	JEQ requantRowsAVX2x_done
requantRowsAVX2x_row:
	XORQ CX, CX
	CMPQ CX, R11
	JGE requantRowsAVX2x_last
requantRowsAVX2x_vec:
	RQ8((SI)(CX*4), (DI)(CX*1))
	ADDQ $8, CX
	CMPQ CX, R11
	JLT requantRowsAVX2x_vec
requantRowsAVX2x_last:
	RQ8((SI)(R11*4), (DI)(R11*1))
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ R13
	JNE requantRowsAVX2x_row
requantRowsAVX2x_done:
	VZEROUPPER
	RET

// func packQuadAVX2(dst *byte, stride int, r0, r1, r2, r3 *uint8, full int)
// packQuad512 in two 8-lane halves.
TEXT ·packQuadAVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ stride+8(FP), DX
	MOVQ r0+16(FP), R8
	MOVQ r1+24(FP), R9
	MOVQ r2+32(FP), R10
	MOVQ r3+40(FP), R11
	MOVQ full+48(FP), CX
	XORQ AX, AX
	TESTQ CX, CX
	JEQ packQuadAVX2_done
packQuadAVX2_loop:
	VPMOVZXBD (R8)(AX*1), Y0
	VPMOVZXBD (R9)(AX*1), Y1
	VPMOVZXBD (R10)(AX*1), Y2
	VPMOVZXBD (R11)(AX*1), Y3
	VPSLLD $8, Y1, Y1
	VPSLLD $16, Y2, Y2
	VPSLLD $24, Y3, Y3
	VPOR Y1, Y0, Y0
	VPOR Y3, Y2, Y2
	VPOR Y2, Y0, Y0
	VMOVDQU Y0, (DI)
	VPMOVZXBD 8(R8)(AX*1), Y0
	VPMOVZXBD 8(R9)(AX*1), Y1
	VPMOVZXBD 8(R10)(AX*1), Y2
	VPMOVZXBD 8(R11)(AX*1), Y3
	VPSLLD $8, Y1, Y1
	VPSLLD $16, Y2, Y2
	VPSLLD $24, Y3, Y3
	VPOR Y1, Y0, Y0
	VPOR Y3, Y2, Y2
	VPOR Y2, Y0, Y0
	VMOVDQU Y0, 32(DI)
	ADDQ $16, AX
	ADDQ DX, DI
	DECQ CX
	JNE packQuadAVX2_loop
packQuadAVX2_done:
	VZEROUPPER
	RET

DATA wordlow<>+0(SB)/8, $0x00ff00ff00ff00ff
GLOBL wordlow<>(SB), RODATA|NOPTR, $8

// func maxPairsAVX2(dst, src *uint8, n int)
// n a multiple of 32: max of each byte pair in the low byte of its word,
// the low bytes packed (VPACKUSWB, in-lane) and the qwords reordered.
TEXT ·maxPairsAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VPBROADCASTQ wordlow<>(SB), Y7
	SHRQ $5, CX
	JEQ maxPairsAVX2_done
maxPairsAVX2_loop:
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	VPSRLW $8, Y0, Y2
	VPSRLW $8, Y1, Y3
	VPMAXUB Y2, Y0, Y0
	VPMAXUB Y3, Y1, Y1
	VPAND Y7, Y0, Y0
	VPAND Y7, Y1, Y1
	VPACKUSWB Y1, Y0, Y0
	VPERMQ $0xd8, Y0, Y0
	VMOVDQU Y0, (DI)
	ADDQ $64, SI
	ADDQ $32, DI
	DECQ CX
	JNE maxPairsAVX2_loop
maxPairsAVX2_done:
	VZEROUPPER
	RET

// func maxPairs32AVX2(dst, src *int32, n int)
// n a multiple of 8: the even and odd elements of 16 inputs separated by
// VSHUFPS (in-lane), VPMAXSD, the qwords reordered.
TEXT ·maxPairs32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JEQ maxPairs32AVX2_done
maxPairs32AVX2_loop:
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xdd, Y1, Y0, Y3
	VPMAXSD Y3, Y2, Y2
	VPERMQ $0xd8, Y2, Y2
	VMOVDQU Y2, (DI)
	ADDQ $64, SI
	ADDQ $32, DI
	DECQ CX
	JNE maxPairs32AVX2_loop
maxPairs32AVX2_done:
	VZEROUPPER
	RET

// func maxRowPairs32AVX2(dst, src *int32, rows, w int)
// dst[r·w + x] = max(src[2r·w + x], src[(2r+1)·w + x]): 8 lanes at a time,
// the last 0–7 of each row one by one.
TEXT ·maxRowPairs32AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ w+24(FP), R9
	LEAQ (SI)(R9*4), R10
	MOVQ R9, R11
	SHLQ $3, R11
	TESTQ R8, R8
	JEQ maxRowPairs32AVX2_done
maxRowPairs32AVX2_row:
	XORQ AX, AX
	MOVQ R9, CX
	SHRQ $3, CX
	JEQ maxRowPairs32AVX2_tail
maxRowPairs32AVX2_loop:
	VMOVDQU (SI)(AX*4), Y0
	VPMAXSD (R10)(AX*4), Y0, Y0
	VMOVDQU Y0, (DI)(AX*4)
	ADDQ $8, AX
	DECQ CX
	JNE maxRowPairs32AVX2_loop
maxRowPairs32AVX2_tail:
	CMPQ AX, R9
	JGE maxRowPairs32AVX2_next
	MOVL (SI)(AX*4), BX
	MOVL (R10)(AX*4), DX
	CMPL BX, DX
	CMOVLLT DX, BX
	MOVL BX, (DI)(AX*4)
	INCQ AX
	JMP maxRowPairs32AVX2_tail
maxRowPairs32AVX2_next:
	ADDQ R11, SI
	ADDQ R11, R10
	LEAQ (DI)(R9*4), DI
	DECQ R8
	JNE maxRowPairs32AVX2_row
maxRowPairs32AVX2_done:
	VZEROUPPER
	RET

// func copyRowsAVX2(dst, src *byte, planes, rows, w, srcStride, planeStride int)
// copyRowsScalar: for each of planes planes (planeStride bytes apart in
// src) and each of its rows (srcStride apart), w bytes appended to dst —
// 32, 16, 8, 4 and 1 bytes at a time, so that short rows (LeNet's 8 and
// 24 bytes) cost a few moves and no call.
TEXT ·copyRowsAVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ planes+16(FP), R8
	MOVQ rows+24(FP), R9
	MOVQ w+32(FP), R10
	MOVQ srcStride+40(FP), R11
	MOVQ planeStride+48(FP), R12
	TESTQ R9, R9
	JEQ copyRowsAVX2_done
copyRowsAVX2_plane:
	TESTQ R8, R8
	JEQ copyRowsAVX2_done
	MOVQ SI, R13
	MOVQ R9, DX
copyRowsAVX2_row:
	MOVQ R10, CX
	MOVQ R13, AX
copyRowsAVX2_c32:
	CMPQ CX, $32
	JB copyRowsAVX2_c16
	VMOVDQU (AX), Y0
	VMOVDQU Y0, (DI)
	ADDQ $32, AX
	ADDQ $32, DI
	SUBQ $32, CX
	JMP copyRowsAVX2_c32
copyRowsAVX2_c16:
	CMPQ CX, $16
	JB copyRowsAVX2_c8
	VMOVDQU (AX), X0
	VMOVDQU X0, (DI)
	ADDQ $16, AX
	ADDQ $16, DI
	SUBQ $16, CX
copyRowsAVX2_c8:
	CMPQ CX, $8
	JB copyRowsAVX2_c4
	MOVQ (AX), BX
	MOVQ BX, (DI)
	ADDQ $8, AX
	ADDQ $8, DI
	SUBQ $8, CX
copyRowsAVX2_c4:
	CMPQ CX, $4
	JB copyRowsAVX2_c1
	MOVL (AX), BX
	MOVL BX, (DI)
	ADDQ $4, AX
	ADDQ $4, DI
	SUBQ $4, CX
copyRowsAVX2_c1:
	TESTQ CX, CX
	JEQ copyRowsAVX2_rowdone
	MOVB (AX), BX
	MOVB BX, (DI)
	INCQ AX
	INCQ DI
	DECQ CX
	JMP copyRowsAVX2_c1
copyRowsAVX2_rowdone:
	ADDQ R11, R13
	DECQ DX
	JNE copyRowsAVX2_row
	ADDQ R12, SI
	DECQ R8
	JMP copyRowsAVX2_plane
copyRowsAVX2_done:
	VZEROUPPER
	RET

// func dwFlat3x3AVX2(acc *int32, frame *byte, w *[9]int32, Wp, n int)
// dwFlat3x3Scalar on 8 outputs a step (n a multiple of 8): each
// of the nine taps is 8 frame bytes zero-extended to int32 lanes
// (VPMOVZXBD), times the broadcast weight (VPMULLD), added.
TEXT ·dwFlat3x3AVX2(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), DI
	MOVQ frame+8(FP), SI
	MOVQ w+16(FP), AX
	MOVQ Wp+24(FP), DX
	MOVQ n+32(FP), CX
	VPBROADCASTD 0(AX), Y0
	VPBROADCASTD 4(AX), Y1
	VPBROADCASTD 8(AX), Y2
	VPBROADCASTD 12(AX), Y3
	VPBROADCASTD 16(AX), Y4
	VPBROADCASTD 20(AX), Y5
	VPBROADCASTD 24(AX), Y6
	VPBROADCASTD 28(AX), Y7
	VPBROADCASTD 32(AX), Y8
	LEAQ (SI)(DX*1), R8
	LEAQ (R8)(DX*1), R9
	SHRQ $3, CX
	JEQ dwFlat3x3AVX2_done
dwFlat3x3AVX2_loop:
	VPMOVZXBD (SI), Y10
	VPMULLD Y0, Y10, Y9
	VPMOVZXBD 1(SI), Y11
	VPMULLD Y1, Y11, Y11
	VPADDD Y11, Y9, Y9
	VPMOVZXBD 2(SI), Y12
	VPMULLD Y2, Y12, Y12
	VPADDD Y12, Y9, Y9
	VPMOVZXBD (R8), Y10
	VPMULLD Y3, Y10, Y10
	VPADDD Y10, Y9, Y9
	VPMOVZXBD 1(R8), Y11
	VPMULLD Y4, Y11, Y11
	VPADDD Y11, Y9, Y9
	VPMOVZXBD 2(R8), Y12
	VPMULLD Y5, Y12, Y12
	VPADDD Y12, Y9, Y9
	VPMOVZXBD (R9), Y10
	VPMULLD Y6, Y10, Y10
	VPADDD Y10, Y9, Y9
	VPMOVZXBD 1(R9), Y11
	VPMULLD Y7, Y11, Y11
	VPADDD Y11, Y9, Y9
	VPMOVZXBD 2(R9), Y12
	VPMULLD Y8, Y12, Y12
	VPADDD Y12, Y9, Y9
	VMOVDQU Y9, (DI)
	ADDQ $8, SI
	ADDQ $8, R8
	ADDQ $8, R9
	ADDQ $32, DI
	DECQ CX
	JNE dwFlat3x3AVX2_loop
dwFlat3x3AVX2_done:
	VZEROUPPER
	RET


// func packShufAVX2(dst, src *byte, chunks *shufChunk, start *int32, cnt, hw, n, b int)
// packDirectScalar for image b of n and its cnt blocks, by the plan's
// chunks (packPlan.chunks): each block is the OR of its chunks' VPSHUFB
// pairs, each chunk 16 bytes at src[(c·n + b)·hw + off] broadcast to both
// lanes, or for c < 0 (the padding) its 64 bytes themselves (shufChunk:
// c at 0, off at 4, ctl at 8; 72 bytes).
TEXT ·packShufAVX2(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ chunks+16(FP), R13
	MOVQ start+24(FP), R9
	MOVQ cnt+32(FP), R10
	MOVQ hw+40(FP), R11
	MOVQ n+48(FP), R12
	MOVQ b+56(FP), AX
	IMULQ R11, AX
	ADDQ AX, SI // image b's plane of channel 0
	IMULQ R11, R12 // bytes between channel planes
	TESTQ R10, R10
	JEQ packShufAVX2_done
packShufAVX2_entry:
	MOVL 4(R9), CX
	SUBL 0(R9), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	TESTL CX, CX
	JEQ packShufAVX2_store
packShufAVX2_chunk:
	MOVLQSX 0(R13), AX
	TESTQ AX, AX
	JS packShufAVX2_fill
	IMULQ R12, AX
	MOVLQSX 4(R13), DX
	ADDQ DX, AX
	VBROADCASTI128 (SI)(AX*1), Y2
	VPSHUFB 8(R13), Y2, Y3
	VPOR Y3, Y0, Y0
	VPSHUFB 40(R13), Y2, Y3
	VPOR Y3, Y1, Y1
	JMP packShufAVX2_next
packShufAVX2_fill:
	VPOR 8(R13), Y0, Y0
	VPOR 40(R13), Y1, Y1
packShufAVX2_next:
	ADDQ $72, R13
	DECL CX
	JNE packShufAVX2_chunk
packShufAVX2_store:
	VMOVDQU Y0, 0(DI)
	VMOVDQU Y1, 32(DI)
	ADDQ $64, DI
	ADDQ $4, R9
	DECQ R10
	JNE packShufAVX2_entry
packShufAVX2_done:
	VZEROUPPER
	RET

// DW2ROW(at, at2, w01, w2) adds kernel row ky's three products to Y0 for
// the 8 outputs whose codes start at at (at2: two bytes on): the 16 codes
// from there as
// words (VPMOVZXBW), so that dword j is the pair (2j, 2j+1) of frame
// columns, times (w[ky][0], w[ky][1]) by VPMADDWD; the 16 from two on,
// whose pair j starts at column 2j+2, times (w[ky][2], 0).
#define DW2ROW(at, at2, w01, w2) \
	VPMOVZXBW at, Y1; \
	VPMADDWD w01, Y1, Y1; \
	VPADDD Y1, Y0, Y0; \
	VPMOVZXBW at2, Y2; \
	VPMADDWD w2, Y2, Y2; \
	VPADDD Y2, Y0, Y0

// func dw3x3s2AVX2(acc *int32, frame *byte, wp *[6]uint32, Wp, oh, ow, rows, plane int)
// is dw3x3s2Scalar on the first rows output rows of frames plane bytes
// apart (oh rows each), 8 outputs a vector (exact: |Σ| ≤ 9·255·128),
// their outputs back to back. Every vector is stored whole: a row's last
// one may run into the next rows' outputs, which are written after it (the
// caller leaves out the rows whose vectors would pass the end of acc). wp
// holds per kernel row the int16 pairs (w0, w1) and (w2, 0).
TEXT ·dw3x3s2AVX2(SB), NOSPLIT, $0-64
	MOVQ acc+0(FP), DI
	MOVQ frame+8(FP), SI
	MOVQ wp+16(FP), AX
	MOVQ Wp+24(FP), DX
	MOVQ ow+40(FP), R10
	MOVQ rows+48(FP), R13
	VPBROADCASTD 0(AX), Y8
	VPBROADCASTD 4(AX), Y9
	VPBROADCASTD 8(AX), Y10
	VPBROADCASTD 12(AX), Y11
	VPBROADCASTD 16(AX), Y12
	VPBROADCASTD 20(AX), Y13
	LEAQ (DX)(DX*1), R8 // two frame rows
	TESTQ R13, R13
	JEQ dw3x3s2AVX2_done
dw3x3s2AVX2_image:
	MOVQ oh+32(FP), R11
	MOVQ SI, R9 // frame row 2y
dw3x3s2AVX2_row:
	MOVQ R9, AX
	XORQ CX, CX
dw3x3s2AVX2_vec:
	VPXOR Y0, Y0, Y0
	DW2ROW((AX), 2(AX), Y8, Y9)
	DW2ROW((AX)(DX*1), 2(AX)(DX*1), Y10, Y11)
	DW2ROW((AX)(R8*1), 2(AX)(R8*1), Y12, Y13)
	VMOVDQU Y0, (DI)(CX*4)
	ADDQ $16, AX
	ADDQ $8, CX
	CMPQ CX, R10
	JLT dw3x3s2AVX2_vec
	LEAQ (DI)(R10*4), DI
	DECQ R13
	JEQ dw3x3s2AVX2_done
	ADDQ R8, R9
	DECQ R11
	JNE dw3x3s2AVX2_row
	ADDQ plane+56(FP), SI
	JMP dw3x3s2AVX2_image
dw3x3s2AVX2_done:
	VZEROUPPER
	RET

// func pickRows32AVX2(dst, src *int32, rows, w, srcStride, total, srcPlane int)
// is pickRows32Scalar with step 1 on the first total rows (rows a plane),
// 8 values a move. Every row's last move is whole: it may run into the
// next rows' values, which are written after it (the caller leaves out
// the rows whose moves would pass the end of dst).
TEXT ·pickRows32AVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ w+24(FP), R10
	MOVQ srcStride+32(FP), R8
	SHLQ $2, R8
	MOVQ total+40(FP), R13
	TESTQ R13, R13
	JEQ pickRows32AVX2_done
pickRows32AVX2_plane:
	MOVQ rows+16(FP), R11
	MOVQ SI, R9
pickRows32AVX2_row:
	XORQ CX, CX
pickRows32AVX2_vec:
	VMOVDQU (R9)(CX*4), Y0
	VMOVDQU Y0, (DI)(CX*4)
	ADDQ $8, CX
	CMPQ CX, R10
	JLT pickRows32AVX2_vec
	LEAQ (DI)(R10*4), DI
	DECQ R13
	JEQ pickRows32AVX2_done
	ADDQ R8, R9
	DECQ R11
	JNE pickRows32AVX2_row
	MOVQ srcPlane+48(FP), AX
	LEAQ (SI)(AX*4), SI
	JMP pickRows32AVX2_plane
pickRows32AVX2_done:
	VZEROUPPER
	RET

// func frameRowsAVX2(dst, src *uint8, rows, w, dstStride, planes, dstPlane int)
// is frameRowsScalar (rows and planes ≥ 1, w ≥ 1) without a call a row:
// 16 bytes a move, a row's last move ending at its end (overlapping the
// one before); rows under 16 bytes as two overlapping moves of 8, 4 or 1.
TEXT ·frameRowsAVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ w+24(FP), R10
	MOVQ dstStride+32(FP), R8
	MOVQ planes+40(FP), R13
	MOVQ dstPlane+48(FP), R12
	LEAQ -16(R10), R11 // the last 16-byte move's offset
frameRowsAVX2_plane:
	MOVQ rows+16(FP), CX
	MOVQ DI, R9
frameRowsAVX2_row:
	CMPQ R10, $16
	JLT frameRowsAVX2_small
	XORQ AX, AX
frameRowsAVX2_move16:
	VMOVDQU (SI)(AX*1), X0
	VMOVDQU X0, (R9)(AX*1)
	ADDQ $16, AX
	CMPQ AX, R11
	JLT frameRowsAVX2_move16
	VMOVDQU (SI)(R11*1), X0
	VMOVDQU X0, (R9)(R11*1)
	JMP frameRowsAVX2_next
frameRowsAVX2_small:
	CMPQ R10, $8
	JLT frameRowsAVX2_small4
	MOVQ (SI), AX
	MOVQ -8(SI)(R10*1), BX
	MOVQ AX, (R9)
	MOVQ BX, -8(R9)(R10*1)
	JMP frameRowsAVX2_next
frameRowsAVX2_small4:
	CMPQ R10, $4
	JLT frameRowsAVX2_small1
	MOVL (SI), AX
	MOVL -4(SI)(R10*1), BX
	MOVL AX, (R9)
	MOVL BX, -4(R9)(R10*1)
	JMP frameRowsAVX2_next
frameRowsAVX2_small1: // 1 to 3 bytes
	MOVBLZX (SI), AX
	MOVBLZX -1(SI)(R10*1), BX
	MOVB AX, (R9)
	MOVB BX, -1(R9)(R10*1)
	MOVBLZX 1(SI), AX // w = 3: the middle byte (else a byte of this row again)
	CMPQ R10, $3
	JNE frameRowsAVX2_next
	MOVB AX, 1(R9)
frameRowsAVX2_next:
	ADDQ R10, SI
	ADDQ R8, R9
	DECQ CX
	JNE frameRowsAVX2_row
	ADDQ R12, DI
	DECQ R13
	JNE frameRowsAVX2_plane
	RET

// QUAD8(x) writes the quads of 8 positions from x on: the four channels'
// 8 codes (R8, R9, R10, R11) interleaved by byte, then by word.
#define QUAD8(x) \
	VMOVQ (R8)(x*1), X0; \
	VMOVQ (R9)(x*1), X1; \
	VMOVQ (R10)(x*1), X2; \
	VMOVQ (R11)(x*1), X3; \
	VPUNPCKLBW X1, X0, X0; \
	VPUNPCKLBW X3, X2, X2; \
	VPUNPCKHWD X2, X0, X1; \
	VPUNPCKLWD X2, X0, X0; \
	VMOVDQU X0, (DI)(x*4); \
	VMOVDQU X1, 16(DI)(x*4)

// func quadRowsAVX2(dst *uint32, src *uint8, chStride, rows, w, dstStride int)
// is quadRowsScalar with one copy (w ≥ 8): 8 positions a step, a row's
// last step ending at its end (overlapping the one before).
TEXT ·quadRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), R8
	MOVQ chStride+16(FP), DX
	MOVQ rows+24(FP), R13
	MOVQ w+32(FP), R12
	MOVQ dstStride+40(FP), SI
	SHLQ $2, SI
	LEAQ (R8)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11
	LEAQ -8(R12), BX // the last step's position
quadRowsAVX2_row:
	XORQ AX, AX
	CMPQ AX, BX
	JGE quadRowsAVX2_last
quadRowsAVX2_step:
	QUAD8(AX)
	ADDQ $8, AX
	CMPQ AX, BX
	JLT quadRowsAVX2_step
quadRowsAVX2_last:
	QUAD8(BX)
	ADDQ R12, R8
	ADDQ R12, R9
	ADDQ R12, R10
	ADDQ R12, R11
	ADDQ SI, DI
	DECQ R13
	JNE quadRowsAVX2_row
	RET

// func poolFlat32AVX2(dst, src *int32, rows, w, stride int)
// is poolFlat32Scalar 8 outputs a step: rows 2y and 2y+1's 16 values
// from 2x on, their maxima, the even and odd ones apart (VSHUFPS), their
// maxima, back in order (VPERMQ). Every row's last step is whole: it may
// run into the next rows' outputs, which are written after it (the caller
// leaves out the rows whose steps would pass the end of dst).
TEXT ·poolFlat32AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), R13
	MOVQ w+24(FP), R12
	MOVQ stride+32(FP), DX
	SHLQ $2, DX
	TESTQ R13, R13
	JEQ poolFlat32AVX2_done
poolFlat32AVX2_row:
	MOVQ SI, AX
	XORQ CX, CX
poolFlat32AVX2_step:
	VMOVDQU (AX), Y0
	VMOVDQU 32(AX), Y1
	VPMAXSD (AX)(DX*1), Y0, Y0
	VPMAXSD 32(AX)(DX*1), Y1, Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xdd, Y1, Y0, Y3
	VPMAXSD Y3, Y2, Y2
	VPERMQ $0xd8, Y2, Y2
	VMOVDQU Y2, (DI)(CX*4)
	ADDQ $64, AX
	ADDQ $8, CX
	CMPQ CX, R12
	JLT poolFlat32AVX2_step
	LEAQ (DI)(R12*4), DI
	LEAQ (SI)(DX*2), SI
	DECQ R13
	JNE poolFlat32AVX2_row
poolFlat32AVX2_done:
	VZEROUPPER
	RET

// func pickBytes2AVX2(dst, src *uint8, rows, w, srcStride, total, srcPlane int)
// is pickBytes2Scalar on the first total rows (rows a plane), 16 bytes a
// step: 32 source bytes, their even ones kept as words (VPAND), packed
// to bytes in each lane (VPACKUSWB), the lanes' halves joined (VPERMQ).
// Every row's last step is whole: it may run into the next rows' bytes,
// which are written after it (the caller leaves out the rows whose steps
// would pass the end of dst or read past the end of src).
TEXT ·pickBytes2AVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ w+24(FP), R10
	MOVQ srcStride+32(FP), R8
	MOVQ total+40(FP), R13
	VPCMPEQW Y3, Y3, Y3
	VPSRLW $8, Y3, Y3 // 0x00ff in each word
	TESTQ R13, R13
	JEQ pickBytes2AVX2_done
pickBytes2AVX2_plane:
	MOVQ rows+16(FP), R11
	MOVQ SI, R9
pickBytes2AVX2_row:
	XORQ CX, CX
pickBytes2AVX2_step:
	VPAND (R9)(CX*2), Y3, Y0
	VPACKUSWB Y0, Y0, Y0
	VPERMQ $0x08, Y0, Y0
	VMOVDQU X0, (DI)(CX*1)
	ADDQ $16, CX
	CMPQ CX, R10
	JLT pickBytes2AVX2_step
	ADDQ R10, DI
	DECQ R13
	JEQ pickBytes2AVX2_done
	ADDQ R8, R9
	DECQ R11
	JNE pickBytes2AVX2_row
	ADDQ srcPlane+48(FP), SI
	JMP pickBytes2AVX2_plane
pickBytes2AVX2_done:
	VZEROUPPER
	RET

// RQF8(src, dst) is the float requantization of a relu8 channel
// (rqFloat8, floatrequant.go) on the 8 int32 at src into the 8 bytes at
// dst: acc + bias (Y4; exact: exactSum), to float32 (rounded down
// where inexact, as setFloat checks),
// · fc + fd (Y5, Y6) rounded toward −∞ (MXCSR, set by the caller),
// truncated, narrowed with saturation (the clamp to [0, 255]).
#define RQF8(src, dst) \
	VPADDD src, Y4, Y0; \
	VCVTDQ2PS Y0, Y0; \
	VFMADD213PS Y6, Y5, Y0; \
	VCVTTPS2DQ Y0, Y0; \
	VEXTRACTI128 $1, Y0, X1; \
	VPACKSSDW X1, X0, X0; \
	VPACKUSWB X0, X0, X0; \
	VMOVQ X0, dst

// RQFS(src, dst) is the symmetric float requantization (rqFloatSym,
// floatrequant.go) on the 8 int32 at src into the 8 bytes at dst: x =
// acc + bias (Y4), |x| to float32 (rounded down where inexact), · fc + fd
// (Y5, Y6) rounded toward −∞, truncated, x's sign copied back (VPSIGND:
// 0 for x = 0, as q(0) = 0), + Z_Y (Y7), clamped to [lo, hi] (Y8, Y9),
// narrowed.
#define RQFS(src, dst) \
	VPADDD src, Y4, Y0; \
	VPABSD Y0, Y1; \
	VCVTDQ2PS Y1, Y1; \
	VFMADD213PS Y6, Y5, Y1; \
	VCVTTPS2DQ Y1, Y1; \
	VPSIGND Y0, Y1, Y1; \
	VPADDD Y7, Y1, Y1; \
	VPMAXSD Y8, Y1, Y1; \
	VPMINSD Y9, Y1, Y1; \
	VEXTRACTI128 $1, Y1, X2; \
	VPACKSSDW X2, X1, X1; \
	VPACKUSWB X1, X1, X1; \
	VMOVQ X1, dst

// RQFLOAT(KERNEL) is a float requantization's body (KERNEL: RQF8 or
// RQFS, its operands broadcast by the caller): count rows of width ≥ 8
// accumulators, each row's last vector its last 8 values again. AVX2 has
// no per-instruction rounding, so MXCSR's rounding control is set toward
// −∞ for the call and restored after it (the conversion VCVTDQ2PS then
// rounds down too: floatOperands checks its operands under both
// conversions). Needs an 8-byte frame; out, outStride, row, rowStride
// (bytes), count and width in DI, R8, SI, R9, R13, R10.
#define RQFLOAT(KERNEL) \
	RQMXCSR; \
	RQROWS(KERNEL); \
	VLDMXCSR mxcsr-8(SP); \
	VZEROUPPER

// RQMXCSR saves MXCSR at mxcsr-8(SP) and sets its rounding toward −∞
// (AX and BX clobbered).
#define RQMXCSR \
	VSTMXCSR mxcsr-8(SP); \
	MOVL mxcsr-8(SP), AX; \
	MOVL AX, BX; \
	ANDL $0xffff9fff, BX; \
	ORL $0x2000, BX; \
	MOVL BX, mxcsr-4(SP); \
	VLDMXCSR mxcsr-4(SP)

// RQROWS(KERNEL) is RQFLOAT's rows (R11 and CX clobbered; DI and SI
// advanced count rows, R13 counted down to 0).
#define RQROWS(KERNEL) \
	LEAQ -8(R10), R11; \
	TESTQ R13, R13; \
	JEQ rqfloat_done; \
rqfloat_row: \
	XORQ CX, CX; \
	CMPQ CX, R11; \
	JGE rqfloat_last; \
rqfloat_vec: \
	KERNEL((SI)(CX*4), (DI)(CX*1)); \
	ADDQ $8, CX; \
	CMPQ CX, R11; \
	JLT rqfloat_vec; \
rqfloat_last: \
	KERNEL((SI)(R11*4), (DI)(R11*1)); \
	ADDQ R8, DI; \
	ADDQ R9, SI; \
	DECQ R13; \
	JNE rqfloat_row; \
rqfloat_done:

// func requantRowsF8AVX2x(out *uint8, outStride int, row *int32, rowStride, count, width int, c *requantScalars)
// is requantRowsAVX2x by the float kernel (RQF8): 8 instructions a vector
// where the fixed-point one takes 25.
TEXT ·requantRowsF8AVX2x(SB), NOSPLIT, $8-56
	MOVQ out+0(FP), DI
	MOVQ outStride+8(FP), R8
	MOVQ row+16(FP), SI
	MOVQ rowStride+24(FP), R9
	SHLQ $2, R9
	MOVQ count+32(FP), R13
	MOVQ width+40(FP), R10
	MOVQ c+48(FP), AX
	VPBROADCASTD 8(AX), Y4  // bias
	VBROADCASTSS 36(AX), Y5 // fc
	VBROADCASTSS 92(AX), Y6 // fd
	RQFLOAT(RQF8)
	RET

// func requantRowsFSAVX2x(out *uint8, outStride int, row *int32, rowStride, count, width int, c *requantScalars)
// is requantRowsAVX2x by the symmetric float kernel (RQFS): 13
// instructions a vector.
TEXT ·requantRowsFSAVX2x(SB), NOSPLIT, $8-56
	MOVQ out+0(FP), DI
	MOVQ outStride+8(FP), R8
	MOVQ row+16(FP), SI
	MOVQ rowStride+24(FP), R9
	SHLQ $2, R9
	MOVQ count+32(FP), R13
	MOVQ width+40(FP), R10
	MOVQ c+48(FP), AX
	VPBROADCASTD 8(AX), Y4  // bias
	VBROADCASTSS 36(AX), Y5 // fc
	VBROADCASTSS 92(AX), Y6 // fd
	VPBROADCASTD 24(AX), Y7 // zy
	VPBROADCASTD 28(AX), Y8 // lo
	VPBROADCASTD 32(AX), Y9 // hi
	RQFLOAT(RQFS)
	RET

DATA quantLim8<>+0(SB)/4, $0x49742400 // 1e6
DATA quantLim8<>+4(SB)/4, $0xc9742400 // −1e6
GLOBL quantLim8<>(SB), RODATA|NOPTR, $8

// func quantizeAVX2(dst *uint8, src *float32, n int, inv float32, z, lo, hi int32)
// is quantizeRowScalar 8 values a step (n a multiple of 8), as quantize512:
// v = x·inv, rounded half to even (VROUNDPS 0), clamped to ±1e6,
// converted, + z, clamped to [lo, hi]; NaN lanes get z; narrowed by
// saturating packs (the codes are within [0, 255]).
TEXT ·quantizeAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS inv+24(FP), Y8
	MOVL z+28(FP), AX
	VMOVD AX, X9
	VPBROADCASTD X9, Y9
	MOVL lo+32(FP), AX
	VMOVD AX, X10
	VPBROADCASTD X10, Y10
	MOVL hi+36(FP), AX
	VMOVD AX, X11
	VPBROADCASTD X11, Y11
	VBROADCASTSS quantLim8<>+0(SB), Y12
	VBROADCASTSS quantLim8<>+4(SB), Y13
	SHRQ $3, CX
	JEQ quantizeAVX2_done
quantizeAVX2_loop:
	VMULPS (SI), Y8, Y0
	VCMPPS $3, Y0, Y0, Y2 // NaN lanes
	VROUNDPS $0, Y0, Y0
	VMINPS Y12, Y0, Y0
	VMAXPS Y13, Y0, Y0
	VCVTPS2DQ Y0, Y1
	VPADDD Y9, Y1, Y1
	VPMAXSD Y10, Y1, Y1
	VPMINSD Y11, Y1, Y1
	VBLENDVPS Y2, Y9, Y1, Y1
	VEXTRACTI128 $1, Y1, X3
	VPACKUSDW X3, X1, X1
	VPACKUSWB X1, X1, X1
	VMOVQ X1, (DI)
	ADDQ $32, SI
	ADDQ $8, DI
	DECQ CX
	JNE quantizeAVX2_loop
quantizeAVX2_done:
	VZEROUPPER
	RET

// ADDLIN turns the (a, b) word pairs in X into A·a + B·b + C ≫ k, in X
// (T scratch): the high parts' products shifted up a byte, plus the low
// bytes' products (the sums wrap as addLinearScalar's).
#define ADDLIN(X, T) \
	VPMADDWD Y10, X, T \
	VPMADDWD Y11, X, X \
	VPSLLD   $8, T, T \
	VPADDD   X, T, T \
	VPADDD   Y12, T, T \
	VPSRAD   X13, T, X

// func addLinAVX2(dst, a, b *uint8, n int, p *addLinear)
// n a multiple of 32. Each 32 code pairs are interleaved and widened to
// four vectors of 8 (a, b) word pairs (in-lane unpacks, undone by the
// in-lane packs, whose saturation to int16 then to [0, 255] precedes the
// clamp to lo and hi).
TEXT ·addLinAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ p+32(FP), AX
	VPBROADCASTD 0(AX), Y10
	VPBROADCASTD 4(AX), Y11
	VPBROADCASTD 8(AX), Y12
	VMOVD        12(AX), X13
	VPBROADCASTB 16(AX), Y8
	VPBROADCASTB 20(AX), Y9
	VPXOR        Y7, Y7, Y7
	XORQ         BX, BX

addlin_loop:
	VMOVDQU    (SI)(BX*1), Y0
	VMOVDQU    (DX)(BX*1), Y1
	VPUNPCKHBW Y1, Y0, Y2
	VPUNPCKLBW Y1, Y0, Y0
	VPUNPCKHBW Y7, Y0, Y1
	VPUNPCKLBW Y7, Y0, Y0
	VPUNPCKHBW Y7, Y2, Y3
	VPUNPCKLBW Y7, Y2, Y2
	ADDLIN(Y0, Y4)
	ADDLIN(Y1, Y5)
	ADDLIN(Y2, Y6)
	ADDLIN(Y3, Y14)
	VPACKSSDW  Y1, Y0, Y0
	VPACKSSDW  Y3, Y2, Y2
	VPACKUSWB  Y2, Y0, Y0
	VPMAXUB    Y8, Y0, Y0
	VPMINUB    Y9, Y0, Y0
	VMOVDQU    Y0, (DI)(BX*1)
	ADDQ       $32, BX
	CMPQ       BX, CX
	JB         addlin_loop
	VZEROUPPER
	RET

// DWTAP(addr, t, X): tap t's 16 codes at addr where its mask (row t of
// the vector's masks at R11) is set, else the zero point (X14), into X.
#define DWTAP(addr, t, X) \
	VMOVDQU t*16(R11), X0; \
	VPBLENDVB X0, addr, X14, X

// DWPAIR(addrA, tA, addrB, tB, wp, ACC): taps tA and tB's codes as
// (a, b) word pairs for the 16 positions (bytes interleaved, zero-extended:
// positions 0–7 in Y3, 8–15 in Y4, in order), times the pair's weights
// (wp(R12)), by ACC into the accumulators Y8 and Y9.
#define DWPAIR(addrA, tA, addrB, tB, wp, ACC) \
	DWTAP(addrA, tA, X1); \
	DWTAP(addrB, tB, X2); \
	VPUNPCKLBW X2, X1, X3; \
	VPUNPCKHBW X2, X1, X4; \
	VPMOVZXBW X3, Y3; \
	VPMOVZXBW X4, Y4; \
	VPBROADCASTD wp(R12), Y5; \
	ACC

#define DWFIRST \
	VPMADDWD Y5, Y3, Y8; \
	VPMADDWD Y5, Y4, Y9

#define DWADD \
	VPMADDWD Y5, Y3, Y3; \
	VPMADDWD Y5, Y4, Y4; \
	VPADDD Y3, Y8, Y8; \
	VPADDD Y4, Y9, Y9

// func dwMaskAVX2(acc *int32, src *uint8, planes, hw, W int, masks *byte, nv int, wp *[5]uint32, zx uint32)
// computes dwMaskScalar: planes planes of hw codes, back to back, each in
// nv vectors of 16 positions (the last one at hw − 16), each tap's 16
// codes loaded from the position plus the tap's offset (the rows W
// apart: BX, SI and DX the rows above, at and below) and merged with the
// zero point where the vector's masks (9 × 16 bytes a vector) clear
// them; reads up to W + 1 bytes before a plane and W + 16 after it.
TEXT ·dwMaskAVX2(SB), NOSPLIT, $0-68
	MOVQ acc+0(FP), DI
	MOVQ src+8(FP), R9
	MOVQ planes+16(FP), R13
	MOVQ hw+24(FP), R10
	MOVQ W+32(FP), R8
	MOVQ wp+56(FP), R12
	MOVL zx+64(FP), AX
	VMOVD AX, X14
	VPBROADCASTB X14, X14
	VPXOR X13, X13, X13
	TESTQ R13, R13
	JEQ dwmask_done
	LEAQ -16(R10), CX // the last vector's position
dwmask_plane:
	MOVQ masks+40(FP), R11
	XORQ AX, AX // the vector's position
dwmask_vec:
	LEAQ (R9)(AX*1), SI
	MOVQ SI, BX
	SUBQ R8, BX
	LEAQ (SI)(R8*1), DX
	DWPAIR(-1(BX), 0, (BX), 1, 0, DWFIRST)
	DWPAIR(1(BX), 2, -1(SI), 3, 4, DWADD)
	DWPAIR((SI), 4, 1(SI), 5, 8, DWADD)
	DWPAIR(-1(DX), 6, (DX), 7, 12, DWADD)
	DWTAP(1(DX), 8, X1)
	VPUNPCKLBW X13, X1, X3
	VPUNPCKHBW X13, X1, X4
	VPMOVZXBW X3, Y3
	VPMOVZXBW X4, Y4
	VPBROADCASTD 16(R12), Y5
	DWADD
	VMOVDQU Y8, (DI)(AX*4)
	VMOVDQU Y9, 32(DI)(AX*4)
	ADDQ $144, R11
	CMPQ AX, CX
	JEQ dwmask_next
	ADDQ $16, AX
	CMPQ AX, CX
	JLE dwmask_vec
	MOVQ CX, AX
	JMP dwmask_vec
dwmask_next:
	ADDQ R10, R9
	LEAQ (DI)(R10*4), DI
	DECQ R13
	JNE dwmask_plane
dwmask_done:
	VZEROUPPER
	RET

// RQCH(LOADS, KERNEL) is the channel loop of requantChF8AVX2x and
// requantChFSAVX2x: per channel its operands broadcast by LOADS (from BX,
// 96 bytes a channel), its rows by RQROWS(KERNEL). MXCSR set (RQMXCSR);
// out and acc of channel 0 in R12 and DX, outRow, rowStride (bytes) and w
// in R8, R9 and R10, the channels in AX; outStride, rows and ldc (bytes)
// in the frame's locals (vet: no argument references inside a macro).
#define RQCH(LOADS, KERNEL) \
	MOVQ AX, left-16(SP); \
	TESTQ AX, AX; \
	JEQ rqch_done; \
rqch_chan: \
	LOADS; \
	MOVQ R12, DI; \
	MOVQ DX, SI; \
	MOVQ rows-32(SP), R13; \
	RQROWS(KERNEL); \
	ADDQ ostride-24(SP), R12; \
	ADDQ ldc4-40(SP), DX; \
	ADDQ $96, BX; \
	DECQ left-16(SP); \
	JNE rqch_chan; \
rqch_done: \
	VLDMXCSR mxcsr-8(SP); \
	VZEROUPPER

// RQ8LOADS: rqFloat8's bias, fc and fd.
#define RQ8LOADS \
	VPBROADCASTD 8(BX), Y4; \
	VBROADCASTSS 36(BX), Y5; \
	VBROADCASTSS 92(BX), Y6

// RQSLOADS: rqFloatSym's bias, fc, fd, Z_Y, lo and hi.
#define RQSLOADS \
	RQ8LOADS; \
	VPBROADCASTD 24(BX), Y7; \
	VPBROADCASTD 28(BX), Y8; \
	VPBROADCASTD 32(BX), Y9

// func requantChF8AVX2x(out *uint8, outStride, outRow int, acc *int32, ldc, rows, w, rowStride int, rq *requantScalars, channels int)
// is requantRowsF8AVX2x on channels channels, MXCSR set once: channel m's
// rows rows of w accumulators rowStride apart from acc[m·ldc:] into rows
// outRow apart from out[m·outStride:], by its operands rq[m] (w ≥ 8).
TEXT ·requantChF8AVX2x(SB), NOSPLIT, $40-80
	RQMXCSR
	MOVQ out+0(FP), R12
	MOVQ acc+24(FP), DX
	MOVQ rq+64(FP), BX
	MOVQ outRow+16(FP), R8
	MOVQ rowStride+56(FP), R9
	SHLQ $2, R9
	MOVQ w+48(FP), R10
	MOVQ outStride+8(FP), AX
	MOVQ AX, ostride-24(SP)
	MOVQ rows+40(FP), AX
	MOVQ AX, rows-32(SP)
	MOVQ ldc+32(FP), AX
	SHLQ $2, AX
	MOVQ AX, ldc4-40(SP)
	MOVQ channels+72(FP), AX
	RQCH(RQ8LOADS, RQF8)
	RET

// func requantChFSAVX2x(out *uint8, outStride, outRow int, acc *int32, ldc, rows, w, rowStride int, rq *requantScalars, channels int)
// is requantChF8AVX2x by the symmetric float kernel (RQFS).
TEXT ·requantChFSAVX2x(SB), NOSPLIT, $40-80
	RQMXCSR
	MOVQ out+0(FP), R12
	MOVQ acc+24(FP), DX
	MOVQ rq+64(FP), BX
	MOVQ outRow+16(FP), R8
	MOVQ rowStride+56(FP), R9
	SHLQ $2, R9
	MOVQ w+48(FP), R10
	MOVQ outStride+8(FP), AX
	MOVQ AX, ostride-24(SP)
	MOVQ rows+40(FP), AX
	MOVQ AX, rows-32(SP)
	MOVQ ldc+32(FP), AX
	SHLQ $2, AX
	MOVQ AX, ldc4-40(SP)
	MOVQ channels+72(FP), AX
	RQCH(RQSLOADS, RQFS)
	RET

// STPAIR(a, b, L, H): taps a and b (their offsets at R11, 4 bytes each)
// of the 16 outputs from BX, zero-extended to words and interleaved: the
// pairs of outputs 0–3 and 8–11 in L, 4–7 and 12–15 in H (VPMADDWD's
// lanes; the packs put them back in order). AX and Y12 clobbered.
#define STPAIR(a, b, L, H) \
	MOVLQSX (4*a)(R11), AX; \
	VPMOVZXBW (BX)(AX*1), L; \
	MOVLQSX (4*b)(R11), AX; \
	VPMOVZXBW (BX)(AX*1), Y12; \
	VPUNPCKHWD Y12, L, H; \
	VPUNPCKLWD Y12, L, L

// STMAC(off, L, H): one pair's products added to Y10 (L) and Y11 (H), its
// weights the 32 bytes at off(R12).
#define STMAC(off, L, H) \
	VPMADDWD off(R12), L, Y12; \
	VPADDD Y12, Y10, Y10; \
	VPMADDWD off(R12), H, Y12; \
	VPADDD Y12, Y11, Y11

// func stemAVX2(out *uint8, outStride, outRow int, in *uint8, wf, rows, ow int, offs *int32, w *uint32, rq *requantScalars, m int)
// writes rows rows of ow codes (ow ≥ 16; rows outRow apart) of m output
// channels, channel m's from out + m·outStride, each the relu8 float requantization (RQF8's)
// of its bias plus its 5 weight pairs (w, 40 dwords a channel) times the
// codes of the ten taps at offs from the output's position in the frames
// in (rows wf apart). 16 outputs of a row a step, the row's last step at
// ow − 16 (overlapping the one before).
TEXT ·stemAVX2(SB), NOSPLIT, $16-88
	RQMXCSR
	MOVQ out+0(FP), DI
	MOVQ in+24(FP), SI
	MOVQ wf+32(FP), R8
	MOVQ rows+40(FP), R9
	MOVQ ow+48(FP), R10
	MOVQ offs+56(FP), R11
	XORQ CX, CX
stem_vec:
	LEAQ -16(R10), AX
	CMPQ CX, AX
	JLE  stem_at
	MOVQ AX, CX
stem_at:
	LEAQ (SI)(CX*1), BX
	STPAIR(0, 1, Y0, Y1)
	STPAIR(2, 3, Y2, Y3)
	STPAIR(4, 5, Y4, Y5)
	STPAIR(6, 7, Y6, Y7)
	STPAIR(8, 9, Y8, Y9)
	MOVQ w+64(FP), R12
	MOVQ rq+72(FP), R13
	MOVQ m+80(FP), DX
	LEAQ (DI)(CX*1), BX
stem_ch:
	VPBROADCASTD 8(R13), Y12
	VPMADDWD (R12), Y0, Y10
	VPADDD Y12, Y10, Y10
	VPMADDWD (R12), Y1, Y11
	VPADDD Y12, Y11, Y11
	STMAC(32, Y2, Y3)
	STMAC(64, Y4, Y5)
	STMAC(96, Y6, Y7)
	STMAC(128, Y8, Y9)
	VBROADCASTSS 36(R13), Y13
	VBROADCASTSS 92(R13), Y14
	VCVTDQ2PS Y10, Y10
	VFMADD213PS Y14, Y13, Y10
	VCVTTPS2DQ Y10, Y10
	VCVTDQ2PS Y11, Y11
	VFMADD213PS Y14, Y13, Y11
	VCVTTPS2DQ Y11, Y11
	VPACKSSDW Y11, Y10, Y10
	VPACKUSWB Y10, Y10, Y10
	VPERMQ $0x08, Y10, Y10
	VMOVDQU X10, (BX)
	ADDQ $160, R12
	ADDQ $96, R13
	ADDQ outStride+8(FP), BX
	DECQ DX
	JNE  stem_ch
	LEAQ -16(R10), AX
	CMPQ CX, AX
	JGE  stem_row
	ADDQ $16, CX
	JMP  stem_vec
stem_row:
	ADDQ R8, SI
	ADDQ outRow+16(FP), DI
	XORQ CX, CX
	DECQ R9
	JNE  stem_vec
	VLDMXCSR mxcsr-8(SP)
	VZEROUPPER
	RET

// PFSTORE(r, Y): quad r's 8 lanes (32 bytes) at DI + 64·r unless r ≥ CX.
#define PFSTORE(r, Y) \
	CMPQ CX, $r; \
	JLE  pf_stored; \
	VMOVDQU Y, (64*r)(DI)

// func packFlatAVX2(blocks *byte, src *uint8, hw, q4, channels, chStride int)
// writes packFlatGroupScalar's blocks for a group of 16 lanes: channel c's
// quad p of lane l is the dword at src + c·chStride + l·hw + 4p, into
// block c·q4 + p (64 bytes: 16 lanes' dwords). Eight lanes × eight quads a
// step, a transpose of dwords; the reads of a channel's last step run up
// to 32 bytes past its quads (the caller checks the buffer).
TEXT ·packFlatAVX2(SB), NOSPLIT, $0-48
	MOVQ blocks+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ hw+16(FP), R8
	MOVQ channels+32(FP), R9
	LEAQ (R8)(R8*2), R12 // 3 lanes
pf_chan:
	MOVQ q4+24(FP), R10 // quads left
	MOVQ SI, R11        // the chunk's first byte
pf_chunk:
	MOVQ R10, CX // rows to store (≤ 8 used)
	XORQ DX, DX  // half: lanes 0–7, 8–15
pf_half:
	MOVQ R11, BX
	MOVQ DX, AX
	IMULQ R8, AX
	SHLQ $3, AX
	ADDQ AX, BX // lane 8·half
	LEAQ (BX)(R8*4), AX // lanes 4–7
	VMOVDQU (BX), Y0
	VMOVDQU (BX)(R8*1), Y1
	VMOVDQU (BX)(R8*2), Y2
	VMOVDQU (BX)(R12*1), Y3
	VMOVDQU (AX), Y4
	VMOVDQU (AX)(R8*1), Y5
	VMOVDQU (AX)(R8*2), Y6
	VMOVDQU (AX)(R12*1), Y7
	VPUNPCKLDQ Y1, Y0, Y8
	VPUNPCKHDQ Y1, Y0, Y9
	VPUNPCKLDQ Y3, Y2, Y10
	VPUNPCKHDQ Y3, Y2, Y11
	VPUNPCKLDQ Y5, Y4, Y0
	VPUNPCKHDQ Y5, Y4, Y1
	VPUNPCKLDQ Y7, Y6, Y2
	VPUNPCKHDQ Y7, Y6, Y3
	VPUNPCKLQDQ Y10, Y8, Y4
	VPUNPCKHQDQ Y10, Y8, Y5
	VPUNPCKLQDQ Y11, Y9, Y6
	VPUNPCKHQDQ Y11, Y9, Y7
	VPUNPCKLQDQ Y2, Y0, Y8
	VPUNPCKHQDQ Y2, Y0, Y9
	VPUNPCKLQDQ Y3, Y1, Y10
	VPUNPCKHQDQ Y3, Y1, Y11
	VPERM2I128 $0x31, Y8, Y4, Y12
	VPERM2I128 $0x20, Y8, Y4, Y4
	VPERM2I128 $0x31, Y9, Y5, Y13
	VPERM2I128 $0x20, Y9, Y5, Y5
	VPERM2I128 $0x31, Y10, Y6, Y14
	VPERM2I128 $0x20, Y10, Y6, Y6
	VPERM2I128 $0x31, Y11, Y7, Y8
	VPERM2I128 $0x20, Y11, Y7, Y7
	VMOVDQU Y4, (DI)
	PFSTORE(1, Y5)
	PFSTORE(2, Y6)
	PFSTORE(3, Y7)
	PFSTORE(4, Y12)
	PFSTORE(5, Y13)
	PFSTORE(6, Y14)
	PFSTORE(7, Y8)
pf_stored:
	ADDQ $32, DI // the other half's lanes
	INCQ DX
	CMPQ DX, $2
	JLT  pf_half
	// DI: 64 bytes past the chunk's first block; on by the rows stored.
	SUBQ $64, DI
	CMPQ R10, $8
	JLE  pf_lastchunk
	ADDQ $512, DI
	ADDQ $32, R11
	SUBQ $8, R10
	JMP  pf_chunk
pf_lastchunk:
	SHLQ $6, R10
	ADDQ R10, DI
	ADDQ chStride+40(FP), SI
	DECQ R9
	JNE  pf_chan
	VZEROUPPER
	RET
