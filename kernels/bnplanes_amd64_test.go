package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qatgo/qatgo/internal/minmax"
)

// randPlanes returns n values ~ N(0, 9) (3 past a test's planes: nothing
// may be written there), with sp one in oneIn of them drawn from special.
func randPlanes(r *rand.Rand, n int, special []float32, oneIn int, sp bool) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * 3)
		if sp && r.IntN(oneIn) == 0 {
			v[i] = special[r.IntN(len(special))]
		}
	}
	return v
}

// TestBnPlanes checks the batch norm's loops over adjacent planes in one
// call against the per-plane loops called plane by plane, bit for bit, as
// bnForward and bnBackward use them: three images of count channels, each
// channel with its own pivot and output map, its sums added image by image.
// Planes shorter than, equal to and longer than the 8-lane width with and
// without a tail; clamped and unclamped outputs, ±Inf and NaN; the
// gradients' loops (their masked forms: TestBnRecompute); and nothing
// written past the last plane.
func TestBnPlanes(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	kr, _ := asmBn()
	clampF := clampY
	pl := kr.planes
	r := rand.New(rand.NewPCG(91, 92))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	special := []float32{0, 6, 7, inf, -inf, nan, float32(math.Copysign(0, -1)), 5.999999, -1.5, 2.25}
	const images = 3
	for _, inner := range []int{1, 3, 7, 8, 9, 15, 16, 17, 49, 196, 784, 1027} {
		for _, count := range []int{1, 2, 13} {
			n := images * count * inner
			rnd := func(sp bool) []float32 { return randPlanes(r, n+3, special, 4, sp) }
			par := func() []float32 {
				v := make([]float32, 3*count)
				for i := range v {
					v[i] = float32(r.NormFloat64())
				}
				return v
			}
			x, dy, y := rnd(false), rnd(false), rnd(true)
			k, a, b, abc := par(), par(), par(), par()
			// each (image, channel) plane, images outermost
			planes := func(f func(o, p int)) {
				for im := range images {
					for p := range count {
						f((im*count+p)*inner, p)
					}
				}
			}
			img := func(im int) int { return im * count * inner }
			same64 := func(got, want []float64) bool {
				for i := range want {
					if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
						return false
					}
				}
				return true
			}
			want, got := make([]float64, 2*count), make([]float64, 2*count)
			planes(func(o, p int) {
				s1, s2 := kr.sums(x[o:o+inner], k[p])
				want[2*p] += s1
				want[2*p+1] += s2
			})
			for im := range images {
				pl.sums(x[img(im):], inner, count, k, got)
			}
			if !same64(got, want) {
				t.Fatalf("inner %d count %d: sums %v, plane by plane %v", inner, count, got, want)
			}
			for _, hi := range []float32{0, 6, inf} {
				want, got := append([]float32(nil), dy...), append([]float32(nil), dy...)
				planes(func(o, p int) {
					// affine then clamp, two passes (kr.affineAct runs the
					// planes kernel now)
					kr.affine(want[o:o+inner], x[o:o+inner], a[p], b[p])
					if hi > 0 {
						clampF(want[o:o+inner], want[o:o+inner], hi)
					}
				})
				lanes := emptyLanes
				for im := range images {
					pl.affineAct(got[img(im):], x[img(im):], inner, count, a, b, hi, hi > 0, &lanes)
				}
				if !sameBits32(got, want) {
					t.Fatalf("inner %d count %d hi %v: affineAct differs", inner, count, hi)
				}
				// the range lanes: the written planes' min and max, not ok
				// exactly when one of them is NaN or infinite
				var f Fold
				f.setRangeLanes([][3][8]float32{lanes})
				wmn, wmx, wok := minmax.FastScalar(want[:n])
				if f.rangeOK != wok || wok && (f.mn != wmn || f.mx != wmx) {
					t.Fatalf("inner %d count %d hi %v: range lanes give %v %v %v, the output %v %v %v", inner, count, hi, f.mn, f.mx, f.rangeOK, wmn, wmx, wok)
				}
				// an infinite input in the last plane's tail: not ok
				xi := append([]float32(nil), x...)
				xi[n-1] = inf
				lanes = emptyLanes
				for im := range images {
					pl.affineAct(got[img(im):], xi[img(im):], inner, count, a, b, hi, hi > 0, &lanes)
				}
				f.setRangeLanes([][3][8]float32{lanes})
				if _, _, wok := minmax.FastScalar(got[:n]); f.rangeOK != wok {
					t.Fatalf("inner %d count %d hi %v: with an infinite input the range lanes say ok %v, the output %v", inner, count, hi, f.rangeOK, wok)
				}
				one := append([]float32(nil), dy...)
				planes(func(o, p int) {
					kr.affineAct(clampF, one[o:o+inner], x[o:o+inner], a[p], b[p], float64(hi))
				})
				if !sameBits32(one, want) {
					t.Fatalf("inner %d hi %v: affineAct (one pass) differs from affine then clamp", inner, hi)
				}
			}
			gw, gg := make([]float64, 2*count), make([]float64, 2*count)
			planes(func(o, p int) {
				s1, s2 := kr.gradSums(dy[o:o+inner], x[o:o+inner], k[p])
				gw[2*p] += s1
				gw[2*p+1] += s2
			})
			for im := range images {
				pl.gradSums(dy[img(im):], x[img(im):], inner, count, k, gg)
			}
			if !same64(gg, gw) {
				t.Fatalf("inner %d count %d: gradSums %v, plane by plane %v", inner, count, gg, gw)
			}
			wdx, gdx := append([]float32(nil), y...), append([]float32(nil), y...)
			planes(func(o, p int) {
				kr.affine2(wdx[o:o+inner], dy[o:o+inner], x[o:o+inner], abc[3*p], abc[3*p+1], abc[3*p+2])
			})
			for im := range images {
				pl.affine2(gdx[img(im):], dy[img(im):], x[img(im):], inner, count, abc)
			}
			if !sameBits32(gdx, wdx) {
				t.Fatalf("inner %d count %d: affine2 differs", inner, count)
			}
		}
	}
}

// TestBnRecompute: the backward's loops that recompute a clamped or folded
// batch norm's output from x and mask dy by its window (gradSumsRec,
// affine2Rec; per plane and over adjacent planes) give the bits of
// recomputing it into a buffer with affineAct, masking a copy of dy with
// windowGradGeneric and running the plain loops on that copy: planes with
// and without a tail, clamped and unclamped outputs, windows with bounds
// the outputs hit, inputs with ±Inf, NaN and −0. (A NaN's sign is not
// compared: Go's float adds in the tails and in sum8 may return either
// operand's NaN, wherever the compiler inlines them.)
func TestBnRecompute(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	kr, _ := asmBn()
	pl := kr.planes
	r := rand.New(rand.NewPCG(93, 94))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	special := []float32{0, 6, inf, -inf, nan, float32(math.Copysign(0, -1)), -1.5, 2.25}
	windows := []struct{ lo, hi float32 }{{0, nan}, {0, 6}, {-1.5, 2.25}, {math.Nextafter32(-1.5, -inf), 3}}
	for _, inner := range []int{1, 7, 8, 9, 17, 49, 196, 257} {
		for _, count := range []int{1, 5} {
			n := count * inner
			rnd := func(sp bool) []float32 { return randPlanes(r, n+3, special, 5, sp) }
			par := func(k int) []float32 {
				v := make([]float32, k*count)
				for i := range v {
					v[i] = float32(r.NormFloat64())
				}
				return v
			}
			x, dy := rnd(true), rnd(false)
			ya, yb, k, abc := par(1), par(1), par(1), par(3)
			for _, hi := range []float32{0, 6, inf} {
				ybuf := make([]float32, n)
				for p := range count {
					o := p * inner
					kr.affineAct(clampY, ybuf[o:o+inner], x[o:o+inner], ya[p], yb[p], float64(hi))
				}
				for _, wd := range windows {
					what := fmt.Sprint("inner ", inner, " count ", count, " hi ", hi, " window ", wd)
					// dy masked by the window of the recomputed output
					gm := make([]float32, n)
					windowGradGeneric(gm, ybuf, dy[:n], wd.lo, wd.hi)
					// per plane
					for p := range count {
						o := p * inner
						w1, w2 := kr.gradSums(gm[o:o+inner], x[o:o+inner], k[p])
						g1, g2 := kr.gradSumsRec(dy[o:o+inner], x[o:o+inner], ya[p], yb[p], hi, hi > 0, k[p], wd.lo, wd.hi)
						if !sameNaN64(g1, w1) || !sameNaN64(g2, w2) {
							t.Fatalf("%s plane %d: gradSumsRec %v %v, recomputed first %v %v", what, p, g1, g2, w1, w2)
						}
						want, got := make([]float32, inner), make([]float32, inner)
						kr.affine2(want, gm[o:o+inner], x[o:o+inner], abc[3*p], abc[3*p+1], abc[3*p+2])
						kr.affine2Rec(got, dy[o:o+inner], x[o:o+inner], ya[p], yb[p], hi, hi > 0, abc[3*p], abc[3*p+1], abc[3*p+2], wd.lo, wd.hi)
						if !sameNaN32(got, want) {
							t.Fatalf("%s plane %d: affine2Rec differs", what, p)
						}
					}
					// adjacent planes
					want, got := make([]float64, 2*count), make([]float64, 2*count)
					pl.gradSums(gm, x, inner, count, k, want)
					pl.gradSumsRec(dy, x, inner, count, ya, yb, hi, hi > 0, k, wd.lo, wd.hi, got)
					for i := range want {
						if !sameNaN64(got[i], want[i]) {
							t.Fatalf("%s: gradSumsRec planes %v, recomputed first %v", what, got, want)
						}
					}
					dw, dg := make([]float32, n+3), make([]float32, n+3)
					pl.affine2(dw, gm, x, inner, count, abc)
					pl.affine2Rec(dg, dy, x, inner, count, ya, yb, hi, hi > 0, abc, wd.lo, wd.hi)
					if !sameNaN32(dg, dw) {
						t.Fatalf("%s: affine2Rec planes differ (nothing may be written past the last plane)", what)
					}
				}
			}
		}
	}
}

// sameNaN64 is bit equality, any two NaNs alike.
func sameNaN64(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || a != a && b != b
}

// sameNaN32 is sameBits32, any two NaNs alike.
func sameNaN32(got, want []float32) bool {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && (got[i] == got[i] || want[i] == want[i]) {
			return false
		}
	}
	return true
}

// TestBnQuantAddPlanes: BatchNormQuantAddAct's output loop (affineFQAdd,
// its AVX2 and, where the CPU has it, AVX-512 forms) gives the bits of the
// three loops it replaces — the batch norm's output map (affineAct), the
// folded quantizer's (foldQuantize) and AddAct's sum and clamp (addActTo) —
// and its range lanes the written values' min and max, not ok exactly when
// one of them is NaN or infinite; and the sums pass with the channels'
// extremes (sumsExt) gives sums' bits and each channel's min and max.
// Planes shorter than, equal to and longer than a vector, with and without
// tails; quantizers with zero points 0 and 128, none; ReLU and ReLU6;
// inputs and addends with ±Inf, NaN and −0 (a NaN's sign and payload not
// compared); nothing written past the last plane.
func TestBnQuantAddPlanes(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	kr, _ := asmBn()
	pl := kr.planes
	r := rand.New(rand.NewPCG(95, 96))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	special := []float32{0, 6, inf, -inf, nan, float32(math.Copysign(0, -1)), -1.5, 2.25}
	fqs := []*[6]float32{nil, {0.05, 1 / float32(0.05), -1, 256, 0, 255}, {0.03, 1 / float32(0.03), -129, 128, -128, 127}}
	levels := []bool{false}
	if useFQAdd512 {
		levels = append(levels, true)
	}
	defer func(v bool) { useFQAdd512 = v }(useFQAdd512)
	const images = 3
	for _, inner := range []int{1, 3, 8, 9, 16, 17, 31, 49, 196, 784} {
		for _, count := range []int{1, 2, 13} {
			n := images * count * inner
			rnd := func(sp bool) []float32 { return randPlanes(r, n+3, special, 6, sp) }
			par := func() []float32 {
				v := make([]float32, count)
				for i := range v {
					v[i] = float32(r.NormFloat64())
				}
				return v
			}
			a, b, k := par(), par(), par()
			img := func(im int) int { return im * count * inner }
			for _, sp := range []bool{false, true} {
				x, res := rnd(sp), rnd(sp)
				for _, fq := range fqs {
					for _, hi := range []float32{6, inf} {
						what := fmt.Sprint("inner ", inner, " count ", count, " specials ", sp, " fq ", fq, " hi ", hi)
						want := make([]float32, n+3)
						for im := range images {
							for p := range count {
								o := img(im) + p*inner
								w := want[o : o+inner]
								kr.affineAct(clampY, w, x[o:o+inner], a[p], b[p], 0)
								if fq != nil {
									foldQuantize(w, w, fq)
								}
								addActTo(w, w, res[o:o+inner], float64(hi))
							}
						}
						wmn, wmx, wok := minmax.FastScalar(want[:n])
						for _, l512 := range levels {
							useFQAdd512 = l512
							got := make([]float32, n+3)
							lanes := emptyLanes
							for im := range images {
								pl.affineFQAdd(got[img(im):], x[img(im):], res[img(im):], inner, count, a, b, hi, fq, &lanes)
							}
							if !sameBits32(got, want) {
								for i := range want {
									// (a NaN's sign and payload aside: Go's
									// float adds in the sum's tail may return
									// either operand's NaN)
									if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
										t.Fatalf("%s avx512 %v: value %d is %v, want %v", what, l512, i, got[i], want[i])
									}
								}
							}
							var f Fold
							f.setRangeLanes([][3][8]float32{lanes})
							if f.rangeOK != wok || wok && (f.mn != wmn || f.mx != wmx) {
								t.Fatalf("%s avx512 %v: range lanes give %v %v %v, the output %v %v %v", what, l512, f.mn, f.mx, f.rangeOK, wmn, wmx, wok)
							}
						}
					}
				}
				// the sums with the extremes
				want, got := make([]float64, 2*count), make([]float64, 2*count)
				ext := make([]float32, 2*count)
				for p := range count {
					ext[2*p], ext[2*p+1] = inf, -inf
				}
				for im := range images {
					pl.sums(x[img(im):], inner, count, k, want)
					pl.sumsExt(x[img(im):], inner, count, k, got, ext)
				}
				for p := range count {
					if math.Float64bits(got[2*p]) != math.Float64bits(want[2*p]) || math.Float64bits(got[2*p+1]) != math.Float64bits(want[2*p+1]) {
						t.Fatalf("inner %d count %d specials %v: sumsExt's sums %v, sums' %v", inner, count, sp, got, want)
					}
					mn, mx := inf, -inf
					finite := true
					for im := range images {
						for _, v := range x[img(im)+p*inner : img(im)+(p+1)*inner] {
							mn, mx = min(mn, v), max(mx, v)
							finite = finite && !math.IsInf(float64(v), 0) && v == v
						}
					}
					// a plane with a NaN or an infinity has extremes that
					// are not used (its sums are not finite)
					if finite && (ext[2*p] != mn || ext[2*p+1] != mx) {
						t.Fatalf("inner %d count %d: channel %d's extremes %v %v, want %v %v", inner, count, p, ext[2*p], ext[2*p+1], mn, mx)
					}
				}
			}
		}
	}
}
