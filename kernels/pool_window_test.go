package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gorgonia.org/tensor"
)

// TestPoolWindowSameBits: a max pool whose forward records a fold's window
// in its indices (the quantizer's input read only where a maximum is one
// of the edge outputs) gives the outputs and the gradient of the pool
// whose backward tests the window at every maximum, bit for bit, and so
// does one that also quantizes the input itself (the quantizer's output
// left unwritten: NaN here): the 2×2 vector path (row tails under masks),
// odd planes and padded 3×3 windows (the Go loops), one and two cores,
// with inputs at the window's ends, just outside them, NaN and ±Inf, and
// every maximum an edge output.
func TestPoolWindowSameBits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	// fq: scale ¼, zero point 0, codes −6…5 (fakequant's constants for
	// them: s, 1/s, qmin − 1, qmax + 1, qmin, qmax), and a window whose
	// ends are not on its steps
	c := [6]float32{0.25, 4, -7, 6, -6, 5}
	fq := func(p float32) float32 {
		var d [1]float32
		foldQuantize(d[:], []float32{p}, &c)
		return d[0]
	}
	lo, hi := float32(-1.5), float32(1.3)
	r := rand.New(rand.NewPCG(41, 42))
	for _, tc := range []struct {
		xs      tensor.Shape
		k, s, p int
		scale   float64 // of the inputs: large ones put most maxima on the edges; 0: inputs from a small set of ends
	}{
		{tensor.Shape{2, 3, 8, 34}, 2, 2, 0, 0},
		{tensor.Shape{2, 3, 7, 9}, 2, 2, 0, 0},
		{tensor.Shape{2, 3, 8, 34}, 2, 2, 0, 1},
		{tensor.Shape{3, 5, 28, 28}, 2, 2, 0, 1.5},
		{tensor.Shape{2, 2, 6, 64}, 2, 2, 0, 8},
		{tensor.Shape{2, 3, 7, 9}, 2, 2, 0, 1},
		{tensor.Shape{8, 20, 24, 24}, 2, 2, 0, 1.2},
		{tensor.Shape{2, 4, 10, 10}, 3, 2, 1, 1.5},
	} {
		n := tc.xs.TotalSize()
		pre, x := make([]float32, n), make([]float32, n)
		for i := range pre {
			pre[i] = float32(tc.scale * r.NormFloat64())
			if tc.scale == 0 {
				// every maximum on an edge or an end: ties, the lowest code
				pre[i] = []float32{-3, lo, hi, math.Nextafter32(lo, -10), math.Nextafter32(hi, 10), float32(math.NaN()), float32(math.Inf(-1))}[r.IntN(7)]
				x[i] = fq(pre[i])
				continue
			}
			switch r.IntN(40) {
			case 0:
				pre[i] = float32(math.NaN())
			case 1:
				pre[i] = float32(math.Inf(1 - 2*r.IntN(2)))
			case 2:
				pre[i] = []float32{lo, hi, math.Nextafter32(lo, -10), math.Nextafter32(hi, 10)}[r.IntN(4)]
			}
			x[i] = fq(pre[i])
		}
		unwritten := make([]float32, n)
		for i := range unwritten {
			unwritten[i] = float32(math.NaN())
		}
		for _, procs := range []int{1, 2} {
			t.Run(fmt.Sprint(tc.xs, tc.k, procs), func(t *testing.T) {
				runtime.GOMAXPROCS(procs)
				run := func(windowed, quant bool) (y, dx []float32, am []int32) {
					f := &Fold{claimed: true, gen: 1, maskOf: 1, lo: lo, hi: hi, quantizes: quant}
					if windowed {
						f.MaskEdges(fq(lo), fq(hi))
					}
					x := x
					if quant {
						if !f.ConsumerQuantizes(c) {
							t.Fatal("the fold declined to quantize")
						}
						x = unwritten
					}
					st := &poolState{k: [2]int{tc.k, tc.k}, s: [2]int{tc.s, tc.s}, p: [2]int{tc.p, tc.p}, fold: f}
					os, err := st.outShape("test", tc.xs)
					if err != nil {
						t.Fatal(err)
					}
					st.argmax = make([]int32, os.TotalSize())
					y = make([]float32, os.TotalSize())
					poolForward(st, x, y, pre, tc.xs, os)
					if st.windowed != windowed {
						t.Fatalf("windowed %v, want %v", st.windowed, windowed)
					}
					dy := make([]float32, len(y))
					for i := range dy {
						dy[i] = float32(i%13) - 6
					}
					dx = make([]float32, n)
					if windowed {
						poolScatter(st, tc.xs, st.argmax, dy, dx, nil, 0, 0)
					} else {
						wlo, whi := foldWindow(0, f)
						poolScatter(st, tc.xs, st.argmax, dy, dx, pre, wlo, whi)
					}
					return y, dx, st.argmax
				}
				ym, dxm, amm := run(false, false)
				for _, quant := range []bool{false, true} {
					yw, dxw, amw := run(true, quant)
					dropped := 0
					for i := range yw {
						if math.Float32bits(yw[i]) != math.Float32bits(ym[i]) {
							t.Fatalf("quant %v: y[%d] = %v, want %v", quant, i, yw[i], ym[i])
						}
						if amw[i] == -1 && amm[i] != -1 {
							dropped++
						} else if amw[i] != amm[i] {
							t.Fatalf("quant %v: argmax[%d] = %d, want %d", quant, i, amw[i], amm[i])
						}
					}
					for i := range dxw {
						if math.Float32bits(dxw[i]) != math.Float32bits(dxm[i]) {
							t.Fatalf("quant %v: dx[%d] = %v, want %v (pre %v)", quant, i, dxw[i], dxm[i], pre[i])
						}
					}
					if dropped == 0 || dropped == len(yw) {
						t.Fatalf("%d of %d maxima outside the window: the test does not tell", dropped, len(yw))
					}
				}
			})
		}
	}
}

// TestFoldQuantizeVecSameBits runs foldQuantize over runs long enough for
// its vector loop against one value a call (the scalar loop alone): ties,
// values past both ends, NaN, ±Inf and −0, tails of every length, in place
// and not.
func TestFoldQuantizeVecSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e30, -1e30}
	for _, c := range [][6]float32{
		{0.25, 4, -7, 6, -6, 5},          // codes −6…5
		{0.05, 20, -129, 128, -128, 127}, // int8
		{0.02, 50, -38, 219, -37, 218},   // uint8, zero point 37
	} {
		for n := 1; n <= 41; n++ {
			src := make([]float32, n)
			for i := range src {
				switch r.IntN(5) {
				case 0:
					src[i] = special[r.IntN(len(special))]
				case 1:
					src[i] = (float32(r.IntN(400)-200) + 0.5) * c[0]
				default:
					src[i] = float32(r.NormFloat64() * 3)
				}
			}
			want, got := make([]float32, n), make([]float32, n)
			for i := range src {
				foldQuantize(want[i:i+1], src[i:i+1], &c)
			}
			foldQuantize(got, src, &c)
			foldQuantize(src, src, &c)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(src[i]) != math.Float32bits(want[i]) {
					t.Fatalf("c %v n %d: [%d] = %v (in place %v), one at a time %v", c, n, i, got[i], src[i], want[i])
				}
			}
		}
	}
}
