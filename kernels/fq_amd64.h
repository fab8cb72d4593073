// A folded fake quantizer's formula (fakequant.QuantizingProducer's, the
// bits of fakequant's fq32avx512 without its mask), included by this
// package's assembly files: written once, so that every consumer that
// quantizes as it loads (2×2 max pools, Winograd padded-row copies)
// computes the quantizer's own bits.

// FQCONSTS broadcasts the constants c = (s, 1/s, lo, hi, rlo, rhi) at P
// into S, INV, LO, HI, RLO, RHI and 1.5·2²³ into MAGIC (T: a scratch
// general register).
#define FQCONSTS(P, T, S, INV, LO, HI, RLO, RHI, MAGIC) \
	VBROADCASTSS 0(P), S; \
	VBROADCASTSS 4(P), INV; \
	VBROADCASTSS 8(P), LO; \
	VBROADCASTSS 12(P), HI; \
	VBROADCASTSS 16(P), RLO; \
	VBROADCASTSS 20(P), RHI; \
	MOVL $0x4b400000, T; \
	VPBROADCASTD T, MAGIC

// FQCONSTS8 is FQCONSTS for AVX2 loops (ymm registers; VPBROADCASTD from
// a general register is AVX-512): MAGICX is MAGIC's xmm name. The move is
// VEX-encoded: a legacy-SSE MOVD after ymm work cost ~120 ns a call on
// Zen 3.
#define FQCONSTS8(P, T, S, INV, LO, HI, RLO, RHI, MAGIC, MAGICX) \
	VBROADCASTSS 0(P), S; \
	VBROADCASTSS 4(P), INV; \
	VBROADCASTSS 8(P), LO; \
	VBROADCASTSS 12(P), HI; \
	VBROADCASTSS 16(P), RLO; \
	VBROADCASTSS 20(P), RHI; \
	MOVL $0x4b400000, T; \
	VMOVD T, MAGICX; \
	VPBROADCASTD MAGICX, MAGIC

// FQ fake-quantizes X in place with FQCONSTS' registers:
// min(max(round(min(max(X·(1/s), lo), hi)), rlo), rhi)·s, the first max
// taking NaN to lo, round as (v + 1.5·2²³) − 1.5·2²³.
#define FQ(X, S, INV, LO, HI, RLO, RHI, MAGIC) \
	VMULPS INV, X, X; \
	VMAXPS LO, X, X; \
	VMINPS HI, X, X; \
	VADDPS MAGIC, X, X; \
	VSUBPS MAGIC, X, X; \
	VMAXPS RLO, X, X; \
	VMINPS RHI, X, X; \
	VMULPS S, X, X

// FQMEM is FQ with its constants in memory at K, each broadcast to 8
// floats (fqRows: s, 1/s, lo, hi, rlo, rhi, 1.5·2²³ at K+0, K+32, …,
// K+192), for loops that lack the registers: the same instructions on
// the same operands, so the same bits.
#define FQMEM(X, K) \
	VMULPS 32(K), X, X; \
	VMAXPS 64(K), X, X; \
	VMINPS 96(K), X, X; \
	VADDPS 192(K), X, X; \
	VSUBPS 192(K), X, X; \
	VMAXPS 128(K), X, X; \
	VMINPS 160(K), X, X; \
	VMULPS 0(K), X, X
