#include "textflag.h"

// The direct 3×3 convolution of a one-channel image (a network's stem on
// grey-scale input: resnet20's and vgg-small's first layer on MNIST-sized
// images), whose GEMM had a depth of 9. stemArgs: o 0, h 8, w 16, wp 24,
// blocks 32, tail 40, n 48, pplane 56, dyImg 64 (the last three are the
// weight gradient's).

// STEMLOAD9 loads the 3×3 shifted vectors of the column block at B (padded
// rows wp·4 = R9 bytes apart) into Z0–Z8 under K1 (zero elsewhere).
#define STEMLOAD9(B) \
	VMOVUPS.Z (B), K1, Z0; \
	VMOVUPS.Z 4(B), K1, Z1; \
	VMOVUPS.Z 8(B), K1, Z2; \
	VMOVUPS.Z (B)(R9*1), K1, Z3; \
	VMOVUPS.Z 4(B)(R9*1), K1, Z4; \
	VMOVUPS.Z 8(B)(R9*1), K1, Z5; \
	VMOVUPS.Z (B)(R9*2), K1, Z6; \
	VMOVUPS.Z 4(B)(R9*2), K1, Z7; \
	VMOVUPS.Z 8(B)(R9*2), K1, Z8

// STEMFMA9 adds the nine taps of output channel OFF/36 (weights at
// OFF(DX), broadcast) to ACC, in tap order.
#define STEMFMA9(OFF, ACC) \
	VFMADD231PS.BCST OFF+0(DX), Z0, ACC; \
	VFMADD231PS.BCST OFF+4(DX), Z1, ACC; \
	VFMADD231PS.BCST OFF+8(DX), Z2, ACC; \
	VFMADD231PS.BCST OFF+12(DX), Z3, ACC; \
	VFMADD231PS.BCST OFF+16(DX), Z4, ACC; \
	VFMADD231PS.BCST OFF+20(DX), Z5, ACC; \
	VFMADD231PS.BCST OFF+24(DX), Z6, ACC; \
	VFMADD231PS.BCST OFF+28(DX), Z7, ACC; \
	VFMADD231PS.BCST OFF+32(DX), Z8, ACC

// STEMSTORE stores ACC under K1 at AX and moves AX to the next output
// plane (R13 bytes on).
#define STEMSTORE(ACC) \
	VMOVUPS ACC, K1, (AX); \
	ADDQ R13, AX

// func stemConvAVX512(y, p, w, b *float32, a *stemArgs)
// y (a.o planes of a.h × a.w) = the 3×3 convolution of the zero-bordered
// plane p (rows a.wp floats apart, the image at row 1, column 1) with w
// (a.o × 9), plus b[o] where b is not nil: each output is b (or 0) plus
// its nine products in tap order by FMAs, 16 columns a step (the last
// block's lanes under a.tail), 8 output channels at a time (a.o a
// multiple of 8).
TEXT ·stemConvAVX512(SB), NOSPLIT, $0-40
	MOVQ a+32(FP), BX
	MOVQ 24(BX), R9
	SHLQ $2, R9                // padded row bytes
	MOVQ 8(BX), R13
	IMULQ 16(BX), R13
	SHLQ $2, R13               // output plane bytes
	MOVQ $0, R10               // row

stemrow:
	MOVQ $0, R11               // column block

stemblock:
	MOVL $0xffff, CX
	MOVQ 32(BX), AX
	DECQ AX
	CMPQ R11, AX
	JNE  stemmask
	MOVQ 40(BX), CX

stemmask:
	KMOVW CX, K1
	// SI: p + (row·wp + 16·block)·4
	MOVQ R10, SI
	IMULQ R9, SI
	MOVQ R11, AX
	SHLQ $6, AX
	ADDQ AX, SI
	ADDQ p+8(FP), SI
	STEMLOAD9(SI)
	// R12: y + (row·w + 16·block)·4 (AX is still 64·block)
	MOVQ R10, R12
	IMULQ 16(BX), R12
	SHLQ $2, R12
	ADDQ AX, R12
	ADDQ y+0(FP), R12
	MOVQ w+16(FP), DX
	MOVQ b+24(FP), R8
	MOVQ 0(BX), DI             // channels left

stemgroup:
	TESTQ R8, R8
	JEQ  stemzero
	VBROADCASTSS 0(R8), Z16
	VBROADCASTSS 4(R8), Z17
	VBROADCASTSS 8(R8), Z18
	VBROADCASTSS 12(R8), Z19
	VBROADCASTSS 16(R8), Z20
	VBROADCASTSS 20(R8), Z21
	VBROADCASTSS 24(R8), Z22
	VBROADCASTSS 28(R8), Z23
	ADDQ $32, R8
	JMP  stemacc

stemzero:
	VXORPS Z16, Z16, Z16
	VXORPS Z17, Z17, Z17
	VXORPS Z18, Z18, Z18
	VXORPS Z19, Z19, Z19
	VXORPS Z20, Z20, Z20
	VXORPS Z21, Z21, Z21
	VXORPS Z22, Z22, Z22
	VXORPS Z23, Z23, Z23

stemacc:
	STEMFMA9(0, Z16)
	STEMFMA9(36, Z17)
	STEMFMA9(72, Z18)
	STEMFMA9(108, Z19)
	STEMFMA9(144, Z20)
	STEMFMA9(180, Z21)
	STEMFMA9(216, Z22)
	STEMFMA9(252, Z23)
	MOVQ R12, AX
	STEMSTORE(Z16)
	STEMSTORE(Z17)
	STEMSTORE(Z18)
	STEMSTORE(Z19)
	STEMSTORE(Z20)
	STEMSTORE(Z21)
	STEMSTORE(Z22)
	STEMSTORE(Z23)
	MOVQ AX, R12               // the next 8 channels' planes
	ADDQ $288, DX
	SUBQ $8, DI
	JNZ  stemgroup

	INCQ R11
	CMPQ R11, 32(BX)
	JLT  stemblock
	INCQ R10
	CMPQ R10, 8(BX)
	JLT  stemrow
	VZEROUPPER
	RET

// STEMDOT adds the nine products of DY with Z0–Z8 to ACC0–ACC8.
#define STEMDOT(DY, A0, A1, A2, A3, A4, A5, A6, A7, A8) \
	VFMADD231PS Z0, DY, A0; \
	VFMADD231PS Z1, DY, A1; \
	VFMADD231PS Z2, DY, A2; \
	VFMADD231PS Z3, DY, A3; \
	VFMADD231PS Z4, DY, A4; \
	VFMADD231PS Z5, DY, A5; \
	VFMADD231PS Z6, DY, A6; \
	VFMADD231PS Z7, DY, A7; \
	VFMADD231PS Z8, DY, A8

// func stemGradWAVX512(acc, p, dy *float32, a *stemArgs)
// acc (a.o × 9 vectors of 16 lanes) = the lane-wise partial sums of the
// weight gradient of a.n images: for output channel o and tap t, the
// products dy[o] · p shifted by t over every row and column block (dy's
// lanes past a row's end zero under a.tail, and the shifted planes' too).
// The padded planes lie a.pplane floats apart, the output gradient's
// images a.dyImg floats apart. Two output channels at a time: 18
// accumulators.
TEXT ·stemGradWAVX512(SB), NOSPLIT, $0-32
	MOVQ a+24(FP), BX
	MOVL $0xffff, AX
	KMOVW AX, K2               // a full block
	MOVQ 40(BX), AX
	KMOVW AX, K3               // the last one
	MOVQ 24(BX), R9
	SHLQ $2, R9                // padded row bytes
	MOVQ 8(BX), R13
	IMULQ 16(BX), R13
	SHLQ $2, R13               // output plane bytes
	MOVQ acc+0(FP), DI
	MOVQ dy+16(FP), R8         // the channel pair's first plane, image 0

gwpair:
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z16, Z16, Z16
	VXORPS Z17, Z17, Z17
	VXORPS Z18, Z18, Z18
	VXORPS Z19, Z19, Z19
	VXORPS Z20, Z20, Z20
	VXORPS Z21, Z21, Z21
	VXORPS Z22, Z22, Z22
	VXORPS Z23, Z23, Z23
	VXORPS Z24, Z24, Z24
	VXORPS Z25, Z25, Z25
	VXORPS Z26, Z26, Z26
	VXORPS Z27, Z27, Z27
	VXORPS Z28, Z28, Z28
	MOVQ $0, R10               // image

gwimage:
	// SI: image R10's padded plane; R12: its dy plane of the pair's first channel
	MOVQ R10, SI
	IMULQ 56(BX), SI
	SHLQ $2, SI
	ADDQ p+8(FP), SI
	MOVQ R10, R12
	IMULQ 64(BX), R12
	SHLQ $2, R12
	ADDQ R8, R12
	MOVQ $0, R11               // row

gwrow:
	MOVQ SI, AX                // the row's first column block in p
	MOVQ R12, CX               // and in dy
	MOVQ 32(BX), DX            // blocks left

gwblock:
	KMOVW K2, K1
	CMPQ DX, $1
	JNE  gwload
	KMOVW K3, K1

gwload:
	STEMLOAD9(AX)
	VMOVUPS.Z (CX), K1, Z9
	VMOVUPS.Z (CX)(R13*1), K1, Z15
	STEMDOT(Z9, Z10, Z11, Z12, Z13, Z14, Z16, Z17, Z18, Z19)
	STEMDOT(Z15, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28)
	ADDQ $64, AX
	ADDQ $64, CX
	DECQ DX
	JNZ  gwblock
	ADDQ R9, SI                // the next row: padded and output
	MOVQ 16(BX), AX
	SHLQ $2, AX
	ADDQ AX, R12
	INCQ R11
	CMPQ R11, 8(BX)
	JLT  gwrow

	INCQ R10
	CMPQ R10, 48(BX)
	JLT  gwimage

	VMOVUPS Z10, 0(DI)
	VMOVUPS Z11, 64(DI)
	VMOVUPS Z12, 128(DI)
	VMOVUPS Z13, 192(DI)
	VMOVUPS Z14, 256(DI)
	VMOVUPS Z16, 320(DI)
	VMOVUPS Z17, 384(DI)
	VMOVUPS Z18, 448(DI)
	VMOVUPS Z19, 512(DI)
	VMOVUPS Z20, 576(DI)
	VMOVUPS Z21, 640(DI)
	VMOVUPS Z22, 704(DI)
	VMOVUPS Z23, 768(DI)
	VMOVUPS Z24, 832(DI)
	VMOVUPS Z25, 896(DI)
	VMOVUPS Z26, 960(DI)
	VMOVUPS Z27, 1024(DI)
	VMOVUPS Z28, 1088(DI)
	ADDQ $1152, DI
	LEAQ (R8)(R13*2), R8       // the next pair's planes
	MOVQ 0(BX), AX
	IMULQ $576, AX
	ADDQ acc+0(FP), AX         // acc's end
	CMPQ DI, AX
	JLT  gwpair
	VZEROUPPER
	RET
