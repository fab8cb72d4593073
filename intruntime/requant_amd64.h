// The requantization kernels' permute indexes, included by the assembly
// files that requantize (helpers_avx512_amd64.s, gemm_vnni_amd64.s): each
// gets its own file-local copy.

// requantLows picks the low dwords of two vectors of 8 qwords, alternately:
// dword 2i from the first (its qword i), 2i+1 from the second.
DATA requantLows<>+0(SB)/4, $0
DATA requantLows<>+4(SB)/4, $16
DATA requantLows<>+8(SB)/4, $2
DATA requantLows<>+12(SB)/4, $18
DATA requantLows<>+16(SB)/4, $4
DATA requantLows<>+20(SB)/4, $20
DATA requantLows<>+24(SB)/4, $6
DATA requantLows<>+28(SB)/4, $22
DATA requantLows<>+32(SB)/4, $8
DATA requantLows<>+36(SB)/4, $24
DATA requantLows<>+40(SB)/4, $10
DATA requantLows<>+44(SB)/4, $26
DATA requantLows<>+48(SB)/4, $12
DATA requantLows<>+52(SB)/4, $28
DATA requantLows<>+56(SB)/4, $14
DATA requantLows<>+60(SB)/4, $30
GLOBL requantLows<>(SB), RODATA|NOPTR, $64

// requantPacked puts the dwords of VPACKSSDW then VPACKUSWB of vectors a,
// b, c, d (per 128-bit lane l: a's, b's, c's, d's bytes 4l..4l+3) back in
// order: a's 16 bytes, then b's, c's, d's.
DATA requantPacked<>+0(SB)/4, $0
DATA requantPacked<>+4(SB)/4, $4
DATA requantPacked<>+8(SB)/4, $8
DATA requantPacked<>+12(SB)/4, $12
DATA requantPacked<>+16(SB)/4, $1
DATA requantPacked<>+20(SB)/4, $5
DATA requantPacked<>+24(SB)/4, $9
DATA requantPacked<>+28(SB)/4, $13
DATA requantPacked<>+32(SB)/4, $2
DATA requantPacked<>+36(SB)/4, $6
DATA requantPacked<>+40(SB)/4, $10
DATA requantPacked<>+44(SB)/4, $14
DATA requantPacked<>+48(SB)/4, $3
DATA requantPacked<>+52(SB)/4, $7
DATA requantPacked<>+56(SB)/4, $11
DATA requantPacked<>+60(SB)/4, $15
GLOBL requantPacked<>(SB), RODATA|NOPTR, $64
