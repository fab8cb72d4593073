package intruntime

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qatgo/qatgo/internal/cpufeat"
	"github.com/qatgo/qatgo/intmodel"
)

// The byte helpers of every variant the CPU runs against their scalar
// twins, on every tail length.
func TestHelpersMatchScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	bytes := func(n int) []uint8 {
		b := make([]uint8, n)
		for i := range b {
			b[i] = uint8(rng.Uint32())
		}
		return b
	}
	for _, vi := range variantImpls() {
		for n := range 100 {
			src := bytes(2 * n)
			got, want := make([]uint8, n), make([]uint8, n)
			vi.maxPairs(got, src)
			maxPairsScalar(want, src)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: maxPairs n %d: %v, want %v", vi.name, n, got, want)
			}
		}
		for _, full := range []int{0, 1, 2, 5} {
			for _, k4 := range []int{1, 3} {
				for q := range k4 {
					r := [4][]uint8{bytes(16 * full), bytes(16 * full), bytes(16 * full), bytes(16 * full)}
					got, want := bytes(full*k4*blockSize), make([]uint8, full*k4*blockSize)
					copy(want, got)
					vi.packQuad(got, k4, q, r[0], r[1], r[2], r[3], full)
					packQuadScalar(want, k4, q, r[0], r[1], r[2], r[3], full)
					if !slices.Equal(got, want) {
						t.Fatalf("%s: packQuad full %d k4 %d q %d differs", vi.name, full, k4, q)
					}
				}
			}
		}
		for _, w := range []int{1, 3, 4, 7, 8, 15, 16, 24, 31, 32, 33, 70} {
			for _, planes := range []int{1, 3} {
				const rows, stride = 5, 80
				src := bytes((planes-1)*rows*stride + (rows-1)*stride + w)
				got, want := make([]uint8, planes*rows*w), make([]uint8, planes*rows*w)
				vi.copyRows(got, src, planes, rows, w, stride, rows*stride)
				copyRowsScalar(want, src, planes, rows, w, stride, rows*stride)
				if !slices.Equal(got, want) {
					t.Fatalf("%s: copyRows w %d planes %d differs", vi.name, w, planes)
				}
			}
		}
		for _, w := range []int{1, 2, 3, 4, 7, 8, 14, 15, 16, 17, 28, 63, 64, 65} { // every move size and overlap
			for _, rows := range []int{0, 1, 5} {
				const stride, planes, dstPlane = 80, 3, 500
				src := bytes(planes * rows * w)
				got := bytes((planes-1)*dstPlane + max(0, (rows-1)*stride+w) + 3)
				want := slices.Clone(got)
				vi.frameRows(got, src, rows, w, stride, planes, dstPlane)
				frameRowsScalar(want, src, rows, w, stride, planes, dstPlane)
				if !slices.Equal(got, want) {
					t.Fatalf("%s: frameRows w %d rows %d differs", vi.name, w, rows)
				}
			}
		}
		// framePlanes against its scalar twin, and both against fill +
		// frameRowsScalar (the frames they replace) on the planes given;
		// src short of the planes the masks hold (a batch's last call).
		if vi.framePlanes != nil {
			// g: h, w, ph, pw, and 1 for dwFrame's shared borders.
			for _, g := range [][5]int{{14, 14, 1, 1, 0}, {7, 7, 1, 1, 0}, {4, 4, 1, 1, 0}, {28, 28, 1, 1, 0}, {5, 9, 2, 1, 0}, {1, 1, 1, 1, 0}, {3, 70, 1, 0, 0},
				{14, 14, 1, 1, 1}, {7, 7, 1, 1, 1}, {4, 4, 1, 1, 1}, {1, 1, 1, 1, 1}, {5, 9, 1, 1, 1}} {
				h, w, ph, pw := g[0], g[1], g[2], g[3]
				Hp, Wp := h+2*ph, w+2*pw
				if g[4] == 1 {
					Hp, Wp = dwFrame(h, w, ph, pw, 1)
				}
				plane := Hp * Wp
				for _, planes := range []int{1, 3, 7} {
					masks := frameMasks(h, w, ph, pw, Hp, Wp, planes)
					for _, cnt := range []int{planes, planes - 1} {
						src := bytes(cnt * h * w)
						const zx = 131
						got, want := bytes(64*len(masks)), bytes(64*len(masks))
						vi.framePlanes(got, src, masks, zx)
						framePlanesScalar(want, src, masks, zx)
						if !slices.Equal(got, want) {
							t.Fatalf("%s: framePlanes %v planes %d cnt %d differs", vi.name, g, planes, cnt)
						}
						ref := make([]uint8, planes*plane+pw+ph*Wp)
						fill(ref, zx)
						if cnt > 0 {
							frameRowsScalar(ref[ph*Wp+pw:], src, h, w, Wp, cnt, plane)
						}
						if !slices.Equal(got[:planes*plane], ref[:planes*plane]) {
							t.Fatalf("%s: framePlanes %v planes %d cnt %d: not the frames of fill and frameRows", vi.name, g, planes, cnt)
						}
						for i, v := range got[planes*plane:] {
							if v != zx {
								t.Fatalf("%s: framePlanes %v: byte %d past the frames is %d, want zx", vi.name, g, planes*plane+i, v)
							}
						}
					}
				}
			}
		}
		for _, w := range []int{1, 4, 7, 8, 9, 14, 16, 17, 28, 33} {
			for _, step := range []int{1, 2} {
				for _, rows := range []int{0, 1, 4} {
					stride := step*w + 3
					const planes = 3
					srcPlane := rows*stride + 5
					src := make([]int32, (planes-1)*srcPlane+max(0, (rows-1)*stride+(w-1)*step+1))
					for i := range src {
						src[i] = int32(rng.Uint32())
					}
					got := make([]int32, planes*rows*w+2)
					for i := range got {
						got[i] = -7
					}
					want := slices.Clone(got)
					vi.pickRows32(got, src, rows, w, stride, step, planes, srcPlane)
					pickRows32Scalar(want, src, rows, w, stride, step, planes, srcPlane)
					if !slices.Equal(got, want) {
						t.Fatalf("%s: pickRows32 w %d step %d rows %d differs", vi.name, w, step, rows)
					}
				}
			}
		}
		for _, w := range []int{1, 5, 8, 9, 15, 16, 17, 28, 40} {
			for _, rows := range []int{0, 1, 3} {
				for _, copies := range []int{1, 3} { // one: the quad planes of impl.tapSingle
					const chStride, dstStride, copyStride = 200, 45, 179
					src := bytes(3*chStride + rows*w)
					got := make([]uint32, (copies-1)*copyStride+max(0, (rows-1)*dstStride+w)+2)
					for i := range got {
						got[i] = 0xdeadbeef
					}
					want := slices.Clone(got)
					vi.quadRows(got, src, chStride, rows, w, dstStride, copies, copyStride)
					quadRowsScalar(want, src, chStride, rows, w, dstStride, copies, copyStride)
					if !slices.Equal(got, want) {
						t.Fatalf("%s: quadRows w %d rows %d copies %d differs", vi.name, w, rows, copies)
					}
				}
			}
		}
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 33, 100} {
			const Wp = 13
			frame := bytes(dwQuadsFor(n, Wp) + 2) // what the VNNI kernel reads
			var w9 [9]int32
			for i := range w9 {
				w9[i] = int32(int8(rng.Uint32()))
			}
			if n == 33 { // extremes: VPDPBUSD's unsigned codes and signed weights
				w9 = [9]int32{-128, 127, -128, 127, -128, 127, -1, 1, -128}
				for i := range frame {
					frame[i] = 255
				}
			}
			got, want := make([]int32, n), make([]int32, n)
			vi.dwFlat3x3(got, frame, &w9, Wp, make([]uint32, dwQuadsFor(n, Wp)))
			dwFlat3x3Scalar(want, frame, &w9, Wp, nil)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: dwFlat3x3 n %d differs", vi.name, n)
			}
		}
		if vi.dw3x3s2 != nil {
			for _, c := range []struct{ H, W int }{{3, 3}, {7, 7}, {8, 8}, {14, 14}, {28, 28}, {5, 40}} {
				Wp, oh, ow := c.W+2, (c.H-1)/2+1, (c.W-1)/2+1
				frame := bytes(2*oh*Wp + 2*dw3x3s2Width(Wp) + 2)
				var w9 [9]int32
				for i := range w9 {
					w9[i] = int32(int8(rng.Uint32()))
				}
				if c.H == 7 {
					w9 = [9]int32{-128, 127, -128, 127, -128, 127, -1, 1, -128}
					for i := range frame {
						frame[i] = 255
					}
				}
				// Two images, their frames plane bytes apart.
				plane := len(frame)
				frame = append(frame, bytes(plane)...)
				P := oh * ow
				want := make([]int32, 2*P+1)
				want[2*P] = 77
				dw3x3s2Scalar(want, frame, &w9, Wp, oh, ow)
				dw3x3s2Scalar(want[P:], frame[plane:], &w9, Wp, oh, ow)
				// acc exactly the outputs (nothing written past them: the
				// 77 after them stays), then with a vector of slack (the
				// kernel may write in it).
				for _, slack := range []int{0, 8} {
					got := make([]int32, 2*P+1+slack)
					got[2*P+slack] = 77
					if !vi.dw3x3s2(got[:2*P+slack], frame, &w9, Wp, oh, ow, make([]uint32, (2*oh+1)*dw3x3s2Width(Wp)), 2, plane) {
						t.Fatalf("%s: dw3x3s2 %+v declined", vi.name, c)
					}
					if !slices.Equal(got[:2*P], want[:2*P]) || got[2*P+slack] != 77 {
						t.Fatalf("%s: dw3x3s2 %+v (slack %d) differs", vi.name, c, slack)
					}
				}
			}
		}
		for _, n := range []int{0, 1, 15, 16, 17, 33, 100} {
			src := make([]float32, n)
			for i := range src {
				switch rng.IntN(8) {
				case 0:
					src[i] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e30, -1e30, 0}[rng.IntN(6)]
				case 1:
					src[i] = float32(rng.IntN(41)-20) * 0.25 // x·inv = k/2: ties to even
				default:
					src[i] = float32(rng.NormFloat64() * 3)
				}
			}
			got, want := make([]uint8, n+1), make([]uint8, n+1)
			vi.quantizeRow(got[:n], src, 2, 37, 3, 250)
			quantizeRowScalar(want[:n], src, 2, 37, 3, 250)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: quantizeRow n %d differs: %v vs %v", vi.name, n, got, want)
			}
		}
		for _, w := range []int{1, 7, 8, 9, 14, 16, 17, 20} {
			if vi.poolFlat32 == nil {
				break
			}
			for _, rows := range []int{0, 1, 3} {
				stride := 2*w + 3
				src := make([]int32, max(0, (2*rows-1)*stride+2*w))
				for i := range src {
					src[i] = int32(rng.Uint32())
				}
				got, want := make([]int32, rows*w+1), make([]int32, rows*w+1)
				vi.poolFlat32(got, src, rows, w, stride)
				poolFlat32Scalar(want, src, rows, w, stride)
				if !slices.Equal(got, want) {
					t.Fatalf("%s: poolFlat32 w %d rows %d differs", vi.name, w, rows)
				}
			}
		}
		if vi.poolFlatCh != nil {
			for _, w := range []int{1, 7, 14, 16, 17, 33} {
				for _, rows := range []int{1, 3} {
					const planes = 3
					stride := 2*w + 5
					srcPlane := 2*rows*stride + 9
					src := make([]int32, (planes-1)*srcPlane+(2*rows-1)*stride+2*w)
					for i := range src {
						src[i] = int32(rng.Uint32())
					}
					got, want := make([]int32, planes*rows*w+1), make([]int32, planes*rows*w+1)
					got[planes*rows*w], want[planes*rows*w] = 7, 7
					vi.poolFlatCh(got[:planes*rows*w], src, rows, w, stride, planes, srcPlane)
					for p := range planes {
						poolFlat32Scalar(want[p*rows*w:], src[p*srcPlane:], rows, w, stride)
					}
					if !slices.Equal(got, want) {
						t.Fatalf("%s: poolFlatCh w %d rows %d differs", vi.name, w, rows)
					}
				}
			}
		}
		if vi.pickBytes2 != nil {
			for _, w := range []int{1, 7, 14, 31, 32, 33, 70} {
				for _, rows := range []int{1, 3} {
					const planes = 2
					srcStride := 2*w + 5
					srcPlane := rows*srcStride + 3
					// Exactly long enough for the scalar code (the
					// assembly's last word would read past it) and longer.
					for _, extra := range []int{0, 64} {
						src := bytes((planes-1)*srcPlane + (rows-1)*srcStride + 2*w - 1 + extra)
						got, want := bytes(planes*rows*w+1), make([]uint8, planes*rows*w+1)
						copy(want, got)
						vi.pickBytes2(got[:planes*rows*w], src, rows, w, srcStride, planes, srcPlane)
						pickBytes2Scalar(want[:planes*rows*w], src, rows, w, srcStride, planes, srcPlane)
						if !slices.Equal(got, want) {
							t.Fatalf("%s: pickBytes2 w %d rows %d extra %d differs", vi.name, w, rows, extra)
						}
					}
				}
			}
		}
		lut := bytes(1<<16 + 3)
		for _, n := range []int{0, 1, 15, 16, 17, 31, 64, 100} {
			a, b := bytes(n), bytes(n)
			if n == 17 {
				a[0], b[0], a[16], b[16] = 255, 255, 255, 0 // the table's last and first row's ends
			}
			got, want := make([]uint8, n+1), make([]uint8, n+1)
			vi.lookupPairs(got[:n], a, b, lut)
			lookupPairsScalar(want[:n], a, b, lut)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: lookupPairs n %d differs", vi.name, n)
			}
		}
		if vi.addPairs != nil {
			// An add whose tables span int32 (every byte plane used),
			// its output with and without a ReLU.
			a := intmodel.ActQuant{Scale: 0.37, Bits: 8, ZeroPoint: 131}
			b := intmodel.ActQuant{Scale: 0.011, Bits: 8, Signed: true, ZeroPoint: -7}
			for _, o := range []intmodel.ActQuant{{Scale: 0.29, Bits: 8, ZeroPoint: 0}, {Scale: 0.5, Bits: 8, Signed: true, ZeroPoint: 3}} {
				l, err := intmodel.NewAdd("add", a, b, o)
				if err != nil {
					t.Fatal(err)
				}
				l.QMin, l.QMax = intmodel.ClampFor(o, !o.Signed, false)
				out := newAct(o, intmodel.Shape{})
				ta, tb := addTable(a, l.LeftShift, l.M0A, l.ShiftA), addTable(b, l.LeftShift, l.M0B, l.ShiftB)
				zy, lo, hi := o.ZeroPoint+out.off, l.QMin+out.off, l.QMax+out.off
				lut, p := addLUT(l, ta, tb, zy, lo, hi), newAddPerm(l, ta, tb, zy, lo, hi)
				if p == nil {
					t.Fatalf("%s: no addPerm for %+v", vi.name, l)
				}
				for _, n := range []int{0, 1, 63, 64, 65, 130, 1000} {
					a, b := bytes(n), bytes(n)
					got, want := make([]uint8, n+1), make([]uint8, n+1)
					vi.addPairs(got[:n], a, b, p, lut)
					lookupPairsScalar(want[:n], a, b, lut)
					if !slices.Equal(got, want) {
						t.Fatalf("%s: addPairs n %d (output %+v) differs from the table", vi.name, n, o)
					}
				}
			}
		}
		if vi.addLin != nil {
			// A fitted add, then slopes of either sign whose sums wrap
			// (the kernel's int32 arithmetic is the scalar code's), with
			// and without a clamp inside [0, 255]; every pair, then short
			// runs and the tails the table gives.
			rng := rand.New(rand.NewPCG(8, 9))
			l, ta, tb, lut, lo, hi := randomAdd(t, rng, true)
			fit := newAddLinear(l, ta, tb, lut, lo, hi)
			if fit == nil {
				t.Fatalf("%s: no fit for %+v", vi.name, l)
			}
			qa, qb := allPairs()
			for _, p := range []*addLinear{fit, addLinearOf(-(1<<23)+5, 1<<22+77, 1<<30, 22, 3, 250), addLinearOf(12345, -30001, -7, 12, 0, 255)} {
				got, want := make([]uint8, 1<<16+1), make([]uint8, 1<<16+1)
				vi.addLin(got[:1<<16], qa, qb, p, lut)
				addLinearScalar(want[:1<<16], qa, qb, p)
				if j := firstDiff(got, want); j >= 0 {
					t.Fatalf("%s: addLin %+v: pair (%d, %d) gives %d, want %d", vi.name, p, j>>8, j&255, got[j], want[j])
				}
			}
			for _, n := range []int{0, 1, 31, 32, 33, 64, 100, 1000} {
				a, b := bytes(n), bytes(n)
				got, want := make([]uint8, n+1), make([]uint8, n+1)
				vi.addLin(got[:n], a, b, fit, lut)
				lookupPairsScalar(want[:n], a, b, lut)
				if !slices.Equal(got, want) {
					t.Fatalf("%s: addLin n %d differs from the table", vi.name, n)
				}
			}
		}
		// A random plan: two windows per block from any channel and
		// offset, any permutation indices (< 128).
		const C, n, hw, k4, G = 3, 4, 100, 2, 3
		src := bytes(C*n*hw + blockSize)
		entries := make([]packEntry, G*k4)
		for i := range entries {
			e := &entries[i]
			for j := range 2 {
				e.c[j] = int32(rng.IntN(C))
				e.off[j] = int32(rng.IntN(hw))
			}
			for l := range e.idx {
				e.idx[l] = uint8(rng.IntN(2 * blockSize))
			}
			if i%2 == 1 {
				e.pad = rng.Uint64() & rng.Uint64() // padding on a quarter of the bytes
			}
		}
		plan := planOf(entries, nil, 0x5a)
		for b0 := range n {
			for nb := range n - b0 + 1 {
				got, want := make([]byte, nb*G*k4*blockSize), make([]byte, nb*G*k4*blockSize)
				vi.packDirect(got, src, plan, k4, G, hw, n, b0, nb)
				packDirectScalar(want, src, plan, k4, G, hw, n, b0, nb)
				if !slices.Equal(got, want) {
					t.Fatalf("%s: packDirect b0 %d nb %d differs", vi.name, b0, nb)
				}
			}
		}
	}
}

// Kernel names what the CPU's features select: AMX where Linux granted
// it, else AVX-512 VNNI where there is VNNI.
func TestKernelName(t *testing.T) {
	want := map[bool]string{true: "amx", false: "avx512vnni"}[cpufeat.Host.AMX]
	if got := Kernel(); (cpufeat.Host.VNNI || cpufeat.Host.AMX) && got != want {
		t.Errorf("Kernel() = %q on %v, want %q", got, cpufeat.Host, want)
	}
	t.Logf("int8 GEMM: %s (CPU: %v)", Kernel(), cpufeat.Host)
}

// TestPackPointwise: each CPU level's packPointwise (group-major) against
// packQuadScalar and packQuadTail quad by quad, for whole quads of rows,
// whole and ragged groups and row strides past n; it declines rows that
// are not whole quads and fewer columns than a group.
func TestPackPointwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, vi := range variantImpls() {
		if vi.packPointwise == nil {
			continue
		}
		for _, c := range []struct{ k, n, pad int }{{4, 16, 0}, {16, 784, 0}, {24, 196, 5}, {144, 788, 0}, {8, 33, 17}, {384, 64, 3}, {12, 15, 0}, {6, 64, 0}} {
			rs := c.n + c.pad
			src := make([]uint8, c.k*rs)
			for i := range src {
				src[i] = uint8(rng.IntN(256))
			}
			k4 := ceilDiv(c.k, 4)
			size := groupsFor(c.n) * k4 * blockSize
			got, want := make([]byte, size), make([]byte, size)
			for i := range got {
				got[i], want[i] = 0xEE, 0xEE
			}
			ok := vi.packPointwise(got, src, rs, c.k, c.n)
			if wantOK := c.k%4 == 0 && c.n >= laneCols; ok != wantOK {
				t.Fatalf("%s %+v: packPointwise %v, want %v", vi.name, c, ok, wantOK)
			}
			if !ok {
				continue
			}
			for q := range k4 {
				var rows [4][]uint8
				for j := range 4 {
					rows[j] = src[(4*q+j)*rs:][:c.n]
				}
				packQuadScalar(want, k4, q, rows[0], rows[1], rows[2], rows[3], c.n/laneCols)
				packQuadTail(want, k4, q, rows, c.n)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s %+v: packPointwise differs from packQuad quad by quad", vi.name, c)
			}
		}
	}
}

// TestPackQuadIn: each CPU level's packQuadIn against packQuadScalar on
// the same codes stored as planes, for chunks starting at any position of
// a quad-interleaved tensor; the columns past n (whatever follows) are
// not compared.
func TestPackQuadIn(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	for _, vi := range variantImpls() {
		if vi.packQuadIn == nil {
			continue
		}
		for _, c := range []struct{ k4, total, p0, n int }{{1, 64, 0, 64}, {4, 784, 0, 784}, {6, 588, 196, 392}, {36, 196 * 5, 196 * 3, 196 * 2}, {2, 100, 37, 50}} {
			planes := make([]uint8, 4*c.k4*c.total)
			for i := range planes {
				planes[i] = uint8(rng.IntN(256))
			}
			src := make([]uint8, len(planes), len(planes)+slack)
			for ch := range 4 * c.k4 {
				for p := range c.total {
					src[quadIndex(ch, p, c.total)] = planes[ch*c.total+p]
				}
			}
			size := groupsFor(c.n) * c.k4 * blockSize
			got, want := make([]byte, size), make([]byte, size)
			vi.packQuadIn(got, src, c.k4, c.total, c.p0, c.n)
			full := c.n / laneCols
			for q := range c.k4 {
				var rows [4][]uint8
				for j := range 4 {
					rows[j] = planes[(4*q+j)*c.total+c.p0:][:c.n]
				}
				packQuadScalar(want, c.k4, q, rows[0], rows[1], rows[2], rows[3], full)
				packQuadTail(want, c.k4, q, rows, c.n)
			}
			for i := range got {
				if g, p := i/(c.k4*blockSize), i%blockSize/4; 16*g+p >= c.n {
					continue // a column past n
				}
				if got[i] != want[i] {
					t.Fatalf("%s %+v: byte %d is %d, want %d", vi.name, c, i, got[i], want[i])
				}
			}
		}
	}
}
