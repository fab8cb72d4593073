package intruntime

import (
	"math"

	"github.com/qatgo/qatgo/internal/cpufeat"
)

// The AVX-512 helpers in Go assembly (helpers_avx512_amd64.s). The Go
// wrappers check the slice lengths (the assembly does not) and leave the
// ragged tails to the scalar twins.

//go:noescape
func requant512(out *uint8, row *int32, n int, c *requantConsts)

//go:noescape
func packQuad512(dst *byte, stride int, r0, r1, r2, r3 *uint8, full int)

//go:noescape
func maxPairs512(dst, src *uint8, n int)

//go:noescape
func maxPairs32x512(dst, src *int32, n int)

//go:noescape
func maxRowPairs32x512(dst, src *int32, rows, w int)

//go:noescape
func packDirect512(dst, src *byte, plan *packEntry, cnt, hw, n, b int)

// requantConsts are requantRow's operands as the int64 lanes the assembly
// broadcasts (field order is the assembly's offsets).
type requantConsts struct {
	bias, min, max, m0, c30, mask, half, zy, lo, hi int64
	exp                                             uint64
}

// avx512Helpers sets the AVX-512 assembly helpers of im.
func avx512Helpers(im *impl, f cpufeat.Features) {
	im.requantRow = requantRow512
	im.packQuad = packQuadAVX512
	im.maxPairs = maxPairsAVX512
	im.maxPairs32 = maxPairs32AVX512
	im.maxRowPairs32 = maxRowPairs32AVX512
	if f.VBMI {
		im.packDirect = packDirectAVX512
	}
}

// requantRow512 is requantRowScalar, 8 lanes at a time.
func requantRow512(out []uint8, row []int32, bias int64, m0 int32, exp uint, zy, lo, hi int32) {
	out = out[:len(row)]
	n := len(row) &^ 7
	if n > 0 {
		mask := int64(1)<<exp - 1
		c := requantConsts{bias, math.MinInt32, math.MaxInt32, int64(m0), 1 << 30, mask, mask >> 1, int64(zy), int64(lo), int64(hi), uint64(exp)}
		requant512(&out[0], &row[0], n, &c)
	}
	requantRowScalar(out[n:], row[n:], bias, m0, exp, zy, lo, hi)
}

// packQuadAVX512 is packQuadScalar, one 64-byte block per group.
func packQuadAVX512(dst []byte, k4, q int, r0, r1, r2, r3 []uint8, full int) {
	if full <= 0 {
		return
	}
	n := full * laneCols
	_, _, _, _ = r0[n-1], r1[n-1], r2[n-1], r3[n-1]
	_ = dst[((full-1)*k4+q)*blockSize+blockSize-1]
	packQuad512(&dst[q*blockSize], k4*blockSize, &r0[0], &r1[0], &r2[0], &r3[0], full)
}

// maxPairsAVX512 is maxPairsScalar, 32 outputs at a time.
func maxPairsAVX512(dst, src []uint8) {
	src = src[:2*len(dst)]
	n := len(dst) &^ 31
	if n > 0 {
		maxPairs512(&dst[0], &src[0], n)
	}
	maxPairsScalar(dst[n:], src[2*n:])
}

// maxPairs32AVX512 is maxPairs32Scalar, 8 outputs at a time.
func maxPairs32AVX512(dst, src []int32) {
	src = src[:2*len(dst)]
	n := len(dst) &^ 7
	if n > 0 {
		maxPairs32x512(&dst[0], &src[0], n)
	}
	maxPairs32Scalar(dst[n:], src[2*n:])
}

// maxRowPairs32AVX512 is maxRowPairs32Scalar, 16 lanes at a time.
func maxRowPairs32AVX512(dst, src []int32, w int) {
	if w <= 0 {
		return
	}
	rows := len(dst) / w
	if rows == 0 {
		return
	}
	_ = src[2*rows*w-1]
	maxRowPairs32x512(&dst[0], &src[0], rows, w)
}

// packDirectAVX512 is packDirectScalar with one VPERMI2B per block. The
// assembly reads whole 64-byte windows (as the scalar code may read any
// byte of them), so src must hold them: if a window could end past
// len(src), the scalar twin runs.
func packDirectAVX512(dst []byte, src []uint8, plan []packEntry, k4, G, hw, n, b0, nb int) {
	cnt := G * k4
	if cnt == 0 || nb == 0 {
		return
	}
	plan = plan[:cnt]
	var end int
	for i := range plan {
		e := &plan[i]
		for j := range 2 {
			end = max(end, (int(e.c[j])*n+b0+nb-1)*hw+int(e.off[j])+blockSize)
		}
	}
	if end > len(src) {
		packDirectScalar(dst, src, plan, k4, G, hw, n, b0, nb)
		return
	}
	_ = dst[nb*cnt*blockSize-1]
	for bi := range nb {
		packDirect512(&dst[bi*cnt*blockSize], &src[0], &plan[0], cnt, hw, n, b0+bi)
	}
}
