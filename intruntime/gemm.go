package intruntime

import "slices"

// The integer GEMM computes C[m][n] = Σ_k A[m][k]·B[k][n] with A the int8
// weights (M×K), B the uint8 activation codes (K×N) and C int32.
//
// Packed layouts (K4 = ceil(K/4); the padding k's have zero weights):
//
//   - A, packed once at load: one int32 per (row m, k-quad q) holding the
//     four weights A[m][4q..4q+3] as little-endian bytes, at a[m·K4+q];
//     M is padded with zero rows to a multiple of mr = 10 (a multiple
//     of both the archsimd kernels' 2-row and the VNNI kernels' 5-row
//     panels; LeNet's 20, 50, 500 and 10 rows need no padding), or of 16
//     for the AMX kernel, whose tiles are also kept (wt); the AVX2
//     kernel's int16 weights (w16, where a pair could saturate) pad it to
//     a multiple of 4 too. For the VNNI kernels the same quads are also
//     stored panel by panel: w5[(p·K4 + q)·5 + r] is row 5p+r's quad q.
//   - B, packed by im2col: columns in groups of 16; group g is K4 blocks of
//     64 bytes, block q holding for each of the 16 columns (lanes) the four
//     codes B[4q..4q+3][n]: byte ((g·K4+q)·16 + lane)·4 + j. The number of
//     groups is padded to a multiple of nr = 2.
//
// So one 64-byte block times one broadcast int32 of weights is exactly the
// operand pair of VPMADDUBSW: 16 lanes (columns) × 4 products, summed in
// pairs to int16, then VPMADDWD with ones sums the pairs to int32 — one
// column's 4-term dot product per lane, accumulated over q with no
// horizontal reduction.
//
// Exactness of VPMADDUBSW: it saturates u0·w0 + u1·w1 to int16. With codes
// u ≤ umax that cannot happen if umax·(|w0|+|w1|) ≤ 32767 for every pair
// (safeForPairs). Otherwise the AVX2 kernel takes the weights as int16
// (w16) and multiplies them by VPMADDWD, whose int32 pair sums are exact,
// and the archsimd AVX-512BW kernel splits them, w = lo + hi with
// lo = clamp(w, −64, 64) and hi = w − lo, both in [−64, 64], and
// 255·128 = 32640 ≤ 32767 holds always; only the pairs that are not safe
// are split (splitPairs).
const (
	mr        = 10 // rows of C per micro-kernel (padding of M)
	nr        = 2  // 16-column groups per micro-kernel
	laneCols  = 16 // columns per group
	blockSize = 64 // bytes per (group, k-quad) block
)

// The AMX kernel's tiles (gemm_amx_amd64.go).
const (
	amxRows  = 16 // rows of a C or A tile
	amxQuads = 16 // k-quads of an A tile's row (64 bytes)
)

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// packedWeights is a GEMM A operand.
type packedWeights struct {
	m, k, mpad, k4 int
	kern           int8Kernel // the GEMM kernel these are packed for
	w              []int32    // whole weights
	w5             []int32    // w in 5-row panels, for the assembly kernels only
	lo, hi         []int32    // split halves (kernAVX512BW), nil when w is safe
	// kernAVX2's weights where they are not safe: int16 quads in 4-row
	// panels, w16[(p·K4 + q)·4 + r] row 4p+r's quad q, w0 in the low 16
	// bits (rows past m zero).
	w16  []uint64
	corr []int32 // kernDot: 128·Σ_k w[m][k] per row, for its flipped codes
	// kernAMX: the weights in 16-row tiles, row r's quads at wt[r·k4a:],
	// k4a = k4 rounded up to 16 (one tile's 64 bytes), the rest zero.
	wt []int32
}

// packWeights packs the m×k row-major weights w. umax is the largest input
// code the layer can see; it decides whether the split is needed.
func packWeights(w []int8, m, k int, umax int) *packedWeights {
	kern := host.kern
	if kern == kernAMX && ceilDiv(k, 4) < amxMinQuads {
		kern = kernVNNI // AMX implies VNNI (cpufeat)
	}
	return packWeightsFor(w, m, k, umax, kern)
}

// amxMinQuads is the fewest k-quads a layer needs for the AMX kernel: with
// fewer, K's padding to 16 quads costs more than the tiles save (1.16–1.19x
// faster than VNNI at 6 and 8 quads, 0.72x at 4, 0.77x on LeNet-5's first
// convolution: 7 quads, M 20 padded to 32; BenchmarkGEMM).
const amxMinQuads = 8

// packWeightsFor is packWeights for the GEMM kernel kern; gemm runs the
// kernel the weights were packed for, so that the tests can run every
// kernel the CPU has.
func packWeightsFor(w []int8, m, k int, umax int, kern int8Kernel) *packedWeights {
	p := &packedWeights{m: m, k: k, mpad: ceilDiv(m, mr) * mr, k4: ceilDiv(k, 4), kern: kern}
	if kern == kernAMX {
		p.mpad = ceilDiv(m, amxRows) * amxRows // whole tiles of C
	}
	// The AVX2 kernel multiplies weights that could saturate VPMADDUBSW
	// as int16 instead (VPMADDWD, exact), 4-row panels of them, where a
	// split would run the hi quads as a second, sparse pass (1.9–2.2x
	// slower on Zen 3 with 8-bit weights, BenchmarkGEMM).
	safe := !kern.pairs() || safeForPairs(w, m, k, umax)
	w16 := kern == kernAVX2 && !safe
	if w16 {
		p.mpad = max(p.mpad, ceilDiv(m, 4)*4)
	}
	get := func(r, c int) int8 {
		if r < m && c < k {
			return w[r*k+c]
		}
		return 0
	}
	quad := func(f func(int8) int8, r, q int) int32 {
		var v uint32
		for j := range 4 {
			v |= uint32(uint8(f(get(r, 4*q+j)))) << (8 * j)
		}
		return int32(v)
	}
	id := func(x int8) int8 { return x }
	p.w = make([]int32, p.mpad*p.k4)
	for r := range p.mpad {
		for q := range p.k4 {
			p.w[r*p.k4+q] = quad(id, r, q)
		}
	}
	// The assembly kernels read 5-row panels: x5[(p·K4 + q)·5 + r] is row
	// 5p+r's quad q.
	panels := kern == kernVNNI || kern == kernAVXVNNI || kern == kernAVX2 || kern == kernDot
	panel5 := func(x []int32) []int32 {
		y := make([]int32, len(x))
		for r := range p.mpad {
			for q := range p.k4 {
				y[(r/5*p.k4+q)*5+r%5] = x[r*p.k4+q]
			}
		}
		return y
	}
	if panels && !w16 {
		p.w5 = panel5(p.w)
	}
	if kern == kernAMX {
		k4a := ceilDiv(p.k4, amxQuads) * amxQuads
		p.wt = make([]int32, p.mpad*k4a)
		for r := range p.mpad {
			copy(p.wt[r*k4a:], p.w[r*p.k4:(r+1)*p.k4])
		}
	}
	if kern == kernDot {
		p.corr = make([]int32, p.mpad)
		for r := range m {
			var s int32
			for _, x := range w[r*k : (r+1)*k] {
				s += int32(x)
			}
			p.corr[r] = 128 * s
		}
	}
	if w16 {
		p.packW16(w)
		return p
	}
	// VPDPBUSD does not saturate: the VNNI kernels need no split.
	if !safe {
		lo, hi := splitPairs(w, m, k, umax)
		quadOf := func(x []int8, r, q int) int32 {
			var v uint32
			for j := range 4 {
				if c := 4*q + j; r < m && c < k {
					v |= uint32(uint8(x[r*k+c])) << (8 * j)
				}
			}
			return int32(v)
		}
		p.lo = make([]int32, len(p.w))
		p.hi = make([]int32, len(p.w))
		for r := range p.mpad {
			for q := range p.k4 {
				p.lo[r*p.k4+q] = quadOf(lo, r, q)
				p.hi[r*p.k4+q] = quadOf(hi, r, q)
			}
		}
	}
	return p
}

// packW16 stores the m×k weights w as kernAVX2's int16 panels (w16).
func (p *packedWeights) packW16(w []int8) {
	panels := ceilDiv(p.m, 4)
	p.w16 = make([]uint64, panels*4*p.k4)
	for r := range p.m {
		for c, x := range w[r*p.k : (r+1)*p.k] {
			p.w16[(r/4*p.k4+c/4)*4+r%4] |= uint64(uint16(int16(x))) << (16 * (c % 4))
		}
	}
}

// splitPairs splits the m×k weights w into lo + hi, both safe for
// VPMADDUBSW on codes ≤ umax: a pair (w[2j], w[2j+1]) that is safe as it
// is stays in lo (hi zero); one that is not is clamped to [−64, 64] in lo,
// the rest (also within ±64) in hi. Trained weights have few unsafe pairs
// (9–15% measured), so hi is mostly zero.
func splitPairs(w []int8, m, k, umax int) (lo, hi []int8) {
	lo, hi = slices.Clone(w), make([]int8, len(w))
	abs := func(x int8) int { return max(int(x), -int(x)) }
	for r := range m {
		for j := 0; j < k; j += 2 {
			s := abs(w[r*k+j])
			if j+1 < k {
				s += abs(w[r*k+j+1])
			}
			if umax*s <= 32767 {
				continue
			}
			for c := j; c < min(j+2, k); c++ {
				x := w[r*k+c]
				lo[r*k+c] = min(max(x, -64), 64)
				hi[r*k+c] = x - lo[r*k+c]
			}
		}
	}
	return lo, hi
}

// safeForPairs reports whether umax·(|w[2j]|+|w[2j+1]|) ≤ 32767 for every
// pair of every row (pairs never straddle rows: K is padded per row to 4).
func safeForPairs(w []int8, m, k, umax int) bool {
	abs := func(x int8) int {
		if x < 0 {
			return -int(x)
		}
		return int(x)
	}
	for r := range m {
		row := w[r*k : (r+1)*k]
		for j := 0; j < k; j += 2 {
			s := abs(row[j])
			if j+1 < k {
				s += abs(row[j+1])
			}
			if umax*s > 32767 {
				return false
			}
		}
	}
	return true
}

// packedCols returns the byte length of a packed B with n columns, and
// tileSlack bytes after them.
func packedCols(n, k4 int) int { return groupsFor(n)*k4*blockSize + tileSlack }

// tileSlack is what the AMX kernel may read past a packed B: a tile load
// takes 16 k-quads of a group where the group's last chunk may have fewer
// (their weights are zero, so the bytes read do not matter).
const tileSlack = (amxQuads - 1) * blockSize

// groupsFor returns the number of 16-column groups for n columns, padded to
// a multiple of nr.
func groupsFor(n int) int { return ceilDiv(ceilDiv(n, laneCols), nr) * nr }

// bIndex is the byte offset of B[k][n] in a packed B with k4 quads.
func bIndex(k, n, k4 int) int {
	return ((n>>4)*k4+k>>2)*blockSize + (n&15)*4 + k&3
}

// gemmPortable computes C for rows [0, a.mpad) and groups [0, ngroups) of
// the packed b into c (row stride ldc ≥ 16·ngroups). Plain Go, any weights.
func gemmPortable(c []int32, ldc int, a *packedWeights, b []byte, ngroups int) {
	k4 := a.k4
	for m0 := 0; m0 < a.mpad; m0 += mr {
		rows := min(mr, a.mpad-m0) // AMX's weights pad M to 16, not 10
		for g := range ngroups {
			var acc [mr][laneCols]int32
			bg := b[g*k4*blockSize : (g+1)*k4*blockSize]
			for q := range k4 {
				blk := bg[q*blockSize : q*blockSize+blockSize]
				for r := range rows {
					wq := uint32(a.w[(m0+r)*k4+q])
					w0, w1 := int32(int8(wq)), int32(int8(wq>>8))
					w2, w3 := int32(int8(wq>>16)), int32(int8(wq>>24))
					ar := &acc[r]
					for l := range laneCols {
						x := blk[l*4 : l*4+4]
						ar[l] += w0*int32(x[0]) + w1*int32(x[1]) + w2*int32(x[2]) + w3*int32(x[3])
					}
				}
			}
			for r := range rows {
				copy(c[(m0+r)*ldc+g*laneCols:], acc[r][:])
			}
		}
	}
}
