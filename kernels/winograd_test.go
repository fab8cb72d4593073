package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// winoCases are Winograd geometries: even and odd planes, a row of more
// than 16 tiles (two vector chunks), paddings 0–2, images batched into one
// set of GEMMs (7×7: 16 tiles each) and a batch split over two workers.
var winoCases = []struct {
	n, c, h, w, pad, o, workers int
}{
	{1, 16, 8, 8, 1, 16, 1},
	{2, 16, 7, 7, 1, 24, 1},
	{9, 32, 7, 7, 1, 16, 2},
	{3, 16, 5, 9, 0, 17, 1},
	{2, 17, 6, 5, 2, 16, 1},
	{1, 16, 3, 37, 1, 16, 1},
	{8, 16, 14, 14, 1, 32, 2},
	{1, 256, 5, 5, 1, 32, 1}, // the deepest forward (one packed block of A)
	{1, 32, 5, 5, 1, 256, 1}, // the deepest input gradient
}

// refConvGrads are dx and dw of a direct 3×3 stride-1 convolution with
// padding pad: dx[c][iy][ix] = Σ_o Σ_taps dy[o][iy+pad−i][ix+pad−j]·
// w[o][c][i][j] and dw[o][c][i][j] = Σ_images Σ_outputs dy[o][oy][ox]·
// x[c][oy+i−pad][ox+j−pad].
func refConvGrads(x, dy, w []float64, n, c, h, wd, pad, o int) (dx, dw []float64) {
	oh, ow := h+2*pad-2, wd+2*pad-2
	dx, dw = make([]float64, n*c*h*wd), make([]float64, o*c*9)
	for in := 0; in < n; in++ {
		for oc := 0; oc < o; oc++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					d := dy[((in*o+oc)*oh+oy)*ow+ox]
					for ic := 0; ic < c; ic++ {
						for i := 0; i < 3; i++ {
							for j := 0; j < 3; j++ {
								iy, ix := oy-pad+i, ox-pad+j
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								xi, wi := ((in*c+ic)*h+iy)*wd+ix, ((oc*c+ic)*3+i)*3+j
								dx[xi] += d * w[wi]
								dw[wi] += d * x[xi]
							}
						}
					}
				}
			}
		}
	}
	return dx, dw
}

func f32s(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

func f64s(s []float32) []float64 {
	o := make([]float64, len(s))
	for i, v := range s {
		o[i] = float64(v)
	}
	return o
}

// winoTol is the error allowed against the exact sum: float32 rounding of
// a sum of 9·c products of values in [−1, 1], a few ulps of the largest
// partial sums (Winograd's transforms add a few roundings per term).
func winoTol(c int) float64 { return 2e-6 * float64(9*c) }

// TestWinogradConv checks the Winograd forward, input gradient and weight
// gradient, with the Go transforms and the CPU's, against direct sums in
// float64.
func TestWinogradConv(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	fks := append([]floatKernel{fkGonum}, winoTestKernels()...)
	for _, tc := range winoCases {
		x := f32s(r, tc.n*tc.c*tc.h*tc.w)
		w := f32s(r, tc.o*tc.c*9)
		b := f32s(r, tc.o)
		p := ConvParams{Pad: [2]int{tc.pad, tc.pad}}
		want, shape := refConv(f64s(x), f64s(w), f64s(b), []int{tc.n, tc.c, tc.h, tc.w}, []int{tc.o, tc.c, 3, 3}, p)
		g := newWinoGeom(tc.c, tc.h, tc.w, tc.pad, tc.o)
		if g.oh != shape[2] || g.ow != shape[3] {
			t.Fatalf("%+v: output %d×%d, want %v", tc, g.oh, g.ow, shape)
		}
		dy := f32s(r, len(want))
		wantDx, wantDw := refConvGrads(f64s(x), f64s(dy), f64s(w), tc.n, tc.c, tc.h, tc.w, tc.pad, tc.o)
		for _, fk := range fks {
			name := fmt.Sprintf("%+v/%v", tc, fk)
			var wc winoConv
			wc.setWeights(w, tc.o, tc.c, false, tc.workers)
			y := make([]float32, len(want))
			seen := make([]int, tc.workers) // per worker: done runs on each worker's goroutine
			var scratch []winoWorker        // shared by the three, as a convolution shares it
			ws := winoWorkers(&scratch, tc.workers)
			wc.run(fk, g, ws, false, x, nil, y, b, tc.n, func(wk, _ int, _ []float32) { seen[wk]++ })
			total := 0
			for _, k := range seen {
				total += k
			}
			if total != tc.n {
				t.Errorf("%s: done called %d times for %d images", name, total, tc.n)
			}
			winoCompare(t, name+" forward", y, want, winoTol(tc.c))

			var wb winoConv
			wb.setWeights(w, tc.o, tc.c, true, tc.workers)
			gb := newWinoGeom(tc.o, g.oh, g.ow, 2-tc.pad, tc.c)
			if gb.oh != tc.h || gb.ow != tc.w {
				t.Fatalf("%s: input gradient %d×%d", name, gb.oh, gb.ow)
			}
			dx := make([]float32, len(wantDx))
			wb.run(fk, gb, ws, true, dy, nil, dx, nil, tc.n, nil)
			winoCompare(t, name+" dx", dx, wantDx, winoTol(tc.o))

			dw := make([]float32, len(wantDw))
			winoRunW(fk, g, ws, x, nil, dy, dw, tc.n)
			winoCompare(t, name+" dw", dw, wantDw, 2e-6*float64(tc.n*g.oh*g.ow))
		}
	}
}

// winoTestKernels is the kernels whose Winograd transforms the tests run
// besides the Go ones: the host's, and on an AVX-512 host the AVX2 ones
// too (the CPUs a test machine may lack).
func winoTestKernels() []floatKernel {
	var fks []floatKernel
	if winogradCPU(hostFloatKernel) {
		fks = append(fks, hostFloatKernel)
	}
	if hostFloatKernel == fkAVX512 {
		fks = append(fks, fkAVX2)
	}
	return fks
}

func winoCompare(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol || math.IsNaN(d) {
			t.Fatalf("%s: element %d = %v, want %v (off by %.3g, allowed %.3g)", what, i, got[i], want[i], d, tol)
		}
	}
}

// TestWinogradTransformsSameBits runs the CPU's transforms against
// winoInputGo and winoOutputGo: the same operations in the same order give
// the same bits, for tile rows of 1–40 tiles (one or two tile rows a
// vector), odd output planes, both layouts of V, a first tile inside a
// panel (later images of a batch) and several channels per call.
func TestWinogradTransformsSameBits(t *testing.T) {
	fks := winoTestKernels()
	if len(fks) == 0 {
		t.Log("no Winograd assembly on this CPU: the Go transforms are what runs, and TestWinogradConv checks them")
		return
	}
	for _, fk := range fks {
		winoTransformsSameBits(t, fk)
	}
}

func winoTransformsSameBits(t *testing.T, fk floatKernel) {
	r := rand.New(rand.NewPCG(43, 44))
	for _, sz := range [][2]int{{1, 1}, {4, 4}, {7, 7}, {8, 8}, {5, 7}, {6, 8}, {14, 14}, {13, 12}, {28, 28}, {6, 30}, {4, 29}, {5, 33}, {3, 32}, {9, 80}, {2, 15}} {
		for _, t0 := range []int{0, 13, 49} {
			for _, nc := range []int{3, 6} { // 6: two channel blocks of the AVX2 transforms (wino8Channels)
				winoTransformsCase(t, r, fk, sz, t0, nc)
			}
		}
	}
}

// winoTransformsCase is one geometry of winoTransformsSameBits: nc
// channels in and out.
func winoTransformsCase(t *testing.T, r *rand.Rand, fk floatKernel, sz [2]int, t0, nc int) {
	g := newWinoGeom(nc, sz[0], sz[1], 1, nc)
	tiles := g.tiles()
	cols := t0 + tiles + 7
	panels := (cols + nr - 1) / nr
	ldx := nc * panels * nr
	p := f32s(r, nc*g.plane)
	for _, packed := range []bool{false, true} {
		ps, cs := nr, cols
		if packed {
			ps, cs = nc*nr, nr
		}
		var goT, asmT winoTransforms
		vGo, vAsm := make([]float32, 16*ldx), make([]float32, 16*ldx)
		for i := range vGo {
			vGo[i], vAsm[i] = 7, 7 // unwritten values must stay
		}
		goT.input(fkGonum, vGo, ldx, ps, cs, t0, p, g)
		asmT.input(fk, vAsm, ldx, ps, cs, t0, p, g)
		for i := range vGo {
			if math.Float32bits(vGo[i]) != math.Float32bits(vAsm[i]) {
				t.Fatalf("%v %v t0 %d packed %v input: v[%d] = %v, Go %v", fk, sz, t0, packed, i, vAsm[i], vGo[i])
			}
		}
	}
	for _, packed := range []bool{false, true} {
		ps, cs := nr, cols
		if packed {
			ps, cs = nc*nr, nr
		}
		dp := f32s(r, nc*g.dplane)
		var goT, asmT winoTransforms
		vGo, vAsm := make([]float32, 16*ldx), make([]float32, 16*ldx)
		for i := range vGo {
			vGo[i], vAsm[i] = 7, 7
		}
		goT.dy(fkGonum, vGo, ldx, ps, cs, t0, dp, g)
		asmT.dy(fk, vAsm, ldx, ps, cs, t0, dp, g)
		for i := range vGo {
			if math.Float32bits(vGo[i]) != math.Float32bits(vAsm[i]) {
				t.Fatalf("%v %v t0 %d packed %v dy: v[%d] = %v, Go %v", fk, sz, t0, packed, i, vAsm[i], vGo[i])
			}
		}
	}
	m := f32s(r, 16*nc*cols)
	bias := f32s(r, nc)
	for _, b := range [][]float32{nil, bias} {
		var goT, asmT winoTransforms
		yGo, yAsm := make([]float32, nc*g.oh*g.ow+3), make([]float32, nc*g.oh*g.ow+3)
		for i := range yGo {
			yGo[i], yAsm[i] = 7, 7
		}
		goT.output(fkGonum, yGo, m[t0:], nc*cols, cols, b, nil, g)
		asmT.output(fk, yAsm[:nc*g.oh*g.ow], m[t0:], nc*cols, cols, b, nil, g)
		for i := range yGo {
			if math.Float32bits(yGo[i]) != math.Float32bits(yAsm[i]) {
				t.Fatalf("%v %v nc %d t0 %d bias %v output: y[%d] = %v, Go %v", fk, sz, nc, t0, b != nil, i, yAsm[i], yGo[i])
			}
		}
		// AVX2's post-maps (an evaluation batch norm, with and without its
		// clamp) against the passes after the transform they replace.
		if winogradCPU(fk) && !wino512(fk) {
			kr := bnKernelsFor[float32]()
			clampF, _ := clampFns[float32]()
			a, sh := f32s(r, nc), f32s(r, nc)
			for _, hi := range []float32{0, 0.5} {
				post := &wino8Post{}
				post.set(b, a, sh, hi, hi > 0)
				ohw := g.oh * g.ow
				for c := range nc {
					plane := yGo[c*ohw : (c+1)*ohw]
					kr.affineAct(clampF, plane, plane, a[c], sh[c], float64(hi))
				}
				var asmP winoTransforms
				yP := make([]float32, len(yAsm))
				for i := range yP {
					yP[i] = 7
				}
				asmP.output(fk, yP[:nc*ohw], m[t0:], nc*cols, cols, b, post, g)
				for i := range yP {
					if math.Float32bits(yGo[i]) != math.Float32bits(yP[i]) {
						t.Fatalf("%v %v nc %d t0 %d bias %v hi %v post: y[%d] = %v, the passes %v", fk, sz, nc, t0, b != nil, hi, i, yP[i], yGo[i])
					}
				}
				goT.output(fkGonum, yGo, m[t0:], nc*cols, cols, b, nil, g) // back to the plain output
			}
		}
	}
}

// TestWinogradArgsLayout pins the argument structs' field offsets, which
// the assembly reads as constants.
func TestWinogradArgsLayout(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Log("the argument structs are read by amd64 assembly only")
		return
	}
	var a winoInArgs
	var b winoOutArgs
	var pa padArgs
	var a4 wino4InArgs
	var b4 wino4OutArgs
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"in.off2", unsafe.Offsetof(a.off2), 40}, {"in.t0", unsafe.Offsetof(a.t0), 64},
		{"in.cs", unsafe.Offsetof(a.cs), 88}, {"in.idx", unsafe.Offsetof(a.idx), 96}, {"in.win", unsafe.Offsetof(a.win), 352},
		{"out.rowB", unsafe.Offsetof(b.rowB), 64}, {"out.two", unsafe.Offsetof(b.two), 88},
		{"out.bias", unsafe.Offsetof(b.bias), 96}, {"out.idx", unsafe.Offsetof(b.idx), 104},
		{"pad.w", unsafe.Offsetof(pa.w), 16}, {"pad.srcPlane", unsafe.Offsetof(pa.srcPlane), 24},
		{"pad.dstRow", unsafe.Offsetof(pa.dstRow), 40}, {"pad.srcRow", unsafe.Offsetof(pa.srcRow), 48},
		{"in4.cs", unsafe.Offsetof(a4.cs), 48}, {"in4.idx", unsafe.Offsetof(a4.idx), 64}, {"in4.istride", unsafe.Offsetof(a4.istride), 448},
		{"out4.chp", unsafe.Offsetof(b4.chp), 56}, {"out4.idx", unsafe.Offsetof(b4.idx), 72}, {"out4.istride", unsafe.Offsetof(b4.istride), 328}, {"out4.res", unsafe.Offsetof(b4.res), 336},
	} {
		if c.got != c.want {
			t.Errorf("%s at offset %d, the assembly reads %d", c.name, c.got, c.want)
		}
	}
}

// TestWinogradOp runs a Conv2d that takes the Winograd path (where the CPU
// has it) in float32 against the same graph in float64 (direct GEMMs): the
// output and the gradients of x, w and b.
func TestWinogradOp(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 46))
	// F(2×2) (9×10), F(4×4) with both gradients in one pass (28×28
	// rows mode, 7×7 quad mode with a last group of one image)
	for _, xs := range [][]int{{5, 16, 9, 10}, {3, 16, 28, 28}, {9, 16, 7, 7}} {
		n, hw := xs[0], xs[2]*xs[3]
		ws := []int{16, 16, 3, 3}
		p := ConvParams{Pad: [2]int{1, 1}, Workers: 2}
		x32, w32, b32 := f32s(r, n*16*hw), f32s(r, 16*16*9), f32s(r, 16)
		ins := func(dt tensor.Dtype) []*tensor.Dense {
			var out []*tensor.Dense
			for i, s := range [][]float32{x32, w32, b32} {
				shape := [][]int{xs, ws, {16}}[i]
				if dt == tensor.Float32 {
					out = append(out, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), s...))))
				} else {
					out = append(out, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f64s(s))))
				}
			}
			return out
		}
		build := func(n []*G.Node) (*G.Node, error) { return Conv2d(n[0], n[1], n[2], p) }
		y32, y64 := asF64(run(t, ins(tensor.Float32), build)), asF64(run(t, ins(tensor.Float64), build))
		g32, g64 := grads(t, ins(tensor.Float32), build), grads(t, ins(tensor.Float64), build)
		for _, c := range []struct {
			what      string
			got, want []float64
			tol       float64
		}{
			{"y", y32, y64, winoTol(16)},
			{"dx", asF64(g32[0]), asF64(g64[0]), winoTol(16)},
			{"dw", asF64(g32[1]), asF64(g64[1]), 2e-6 * float64(n*hw)},
			{"db", asF64(g32[2]), asF64(g64[2]), 2e-6 * float64(n*hw)},
		} {
			for i := range c.want {
				if d := math.Abs(c.got[i] - c.want[i]); d > c.tol {
					t.Fatalf("%v: %s[%d] = %v, float64 %v", xs, c.what, i, c.got[i], c.want[i])
				}
			}
		}
	}
}

// TestPadRows copies planes into wider, zero-bordered ones and checks
// every destination value, the borders included.
func TestPadRows(t *testing.T) {
	r := rand.New(rand.NewPCG(47, 48))
	for _, c := range []struct{ nc, rows, w, dr, off int }{{3, 7, 7, 10, 11}, {2, 28, 28, 34, 35}, {1, 5, 33, 40, 0}, {4, 2, 16, 16, 0}, {2, 3, 1, 3, 4}} {
		src := f32s(r, c.nc*c.rows*c.w)
		dp := c.off + c.rows*c.dr + 5
		for _, fk := range []floatKernel{fkGonum, hostFloatKernel} {
			dst := make([]float32, c.nc*dp)
			padRows(fk, dst[c.off:], src, c.nc, c.rows, c.w, c.rows*c.w, dp, c.dr)
			for p := 0; p < c.nc; p++ {
				for i := 0; i < dp; i++ {
					want := float32(0)
					if j := i - c.off; j >= 0 && j/c.dr < c.rows && j%c.dr < c.w {
						want = src[p*c.rows*c.w+(j/c.dr)*c.w+j%c.dr]
					}
					if got := dst[p*dp+i]; got != want {
						t.Fatalf("%+v %v: plane %d [%d] = %v, want %v", c, fk, p, i, got, want)
					}
				}
			}
		}
	}
}

// TestPadRowsMap checks padRowsMap's destination against the batch norm's
// own output loop (affineAct with the plane's map, clamp on), then
// foldQuantize where the map quantizes, on the same planes, the borders
// left as they were, with zeros, −0, NaN and ±Inf among the inputs and
// both ReLU's (+Inf) and ReLU6's bound.
func TestPadRowsMap(t *testing.T) {
	r := rand.New(rand.NewPCG(49, 50))
	kr := bnKernelsFor[float32]()
	clampF, _ := clampFns[float32]()
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 7, -7}
	for _, c := range []struct{ nc, rows, w, dr, off int }{{3, 7, 7, 10, 11}, {2, 28, 28, 34, 35}, {1, 5, 33, 40, 0}, {4, 2, 16, 16, 0}, {2, 3, 1, 3, 4}, {16, 8, 8, 12, 26}} {
		// an unsigned 4-bit grid of scale 0.3 (zero point 0: lo −1, hi 16,
		// codes 0..15)
		fq := &[6]float32{0.3, 1 / float32(0.3), -1, 16, 0, 15}
		for _, v := range []struct {
			hi float32
			fq *[6]float32
		}{{float32(math.Inf(1)), nil}, {6, nil}, {float32(math.Inf(1)), fq}, {6, fq}} {
			hi := v.hi
			src := f32s(r, c.nc*c.rows*c.w)
			for i := range src {
				if r.IntN(9) == 0 {
					src[i] = special[r.IntN(len(special))]
				}
			}
			m := &inMap{a: f32s(r, c.nc), b: f32s(r, c.nc), hi: hi, fq: v.fq}
			m.a[0] = -m.a[0] // a negative scale flips the clamp's side
			dp := c.off + c.rows*c.dr + 5
			want := make([]float32, c.nc*dp)
			for i := range want {
				want[i] = -1 // borders: left alone
			}
			for p := 0; p < c.nc; p++ {
				for y := 0; y < c.rows; y++ {
					o := p*dp + c.off + y*c.dr
					kr.affineAct(clampF, want[o:o+c.w], src[(p*c.rows+y)*c.w:(p*c.rows+y+1)*c.w], m.a[p], m.b[p], float64(hi))
					if v.fq != nil {
						foldQuantize(want[o:o+c.w], want[o:o+c.w], v.fq)
					}
				}
			}
			for _, fk := range []floatKernel{fkGonum, hostFloatKernel} {
				dst := make([]float32, c.nc*dp)
				for i := range dst {
					dst[i] = -1
				}
				padRowsMap(fk, dst[c.off:], src, c.nc, c.rows, c.w, c.rows*c.w, dp, c.dr, m)
				for i := range dst {
					if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%+v hi %v fq %v %v: [%d] = %v, want %v", c, hi, v.fq != nil, fk, i, dst[i], want[i])
					}
				}
			}
		}
	}
}

// TestWinogradGemmSameBits runs the one-call GEMM against a microkernel
// call per tile on the same packed operands.
func TestWinogradGemmSameBits(t *testing.T) {
	fks := winoTestKernels()
	if len(fks) == 0 {
		t.Log("no Winograd assembly on this CPU")
		return
	}
	for _, fk := range fks {
		winoGemmSameBits(t, fk)
	}
}

func winoGemmSameBits(t *testing.T, fk floatKernel) {
	r := rand.New(rand.NewPCG(49, 50))
	for _, c := range []struct{ m, k, n int }{{16, 16, 196}, {32, 32, 147}, {64, 64, 128}, {8, 3, 5}, {24, 17, 33}, {4, 1, 32}, {12, 5, 64}, {8, 9, 44}} { // last panels of 4, 19, 5, 1 and 12 columns
		g := Gemm{kern: fk}
		var p PackedA
		g.PackA(&p, false, c.m, c.k, f32s(r, c.m*c.k), c.k)
		b := f32s(r, (c.n+nr-1)/nr*nr*c.k)
		ldc := c.n + 3
		want, got := make([]float32, c.m*ldc), make([]float32, c.m*ldc)
		for i := range want {
			want[i], got[i] = 5, 5
		}
		winoGemmTiles(fk, p.data, c.m, c.k, b, c.n, want, ldc)
		if !winoGemmAsm(fk, p.data, c.m, c.k, b, c.n, got, ldc) {
			t.Fatalf("%v %+v: no one-call GEMM", fk, c)
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%v %+v: c[%d] = %v, per tile %v", fk, c, i, got[i], want[i])
			}
		}
	}
}

// TestWinogradDot checks the weight gradient's dot-product kernel against
// float64 sums: lengths with and without a partial last vector, the
// accumulating form, blocks of 4×4 in both dimensions; the AVX-512 and the
// AVX2 kernels where the CPU has them.
func TestWinogradDot(t *testing.T) {
	fks := winoTestKernels()
	if len(fks) == 0 {
		t.Log("no Winograd assembly on this CPU")
		return
	}
	for _, fk := range fks {
		winoDotCheck(t, fk)
	}
}

func winoDotCheck(t *testing.T, fk floatKernel) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, c := range []struct{ o, c, t int }{{4, 4, 16}, {16, 16, 196}, {8, 12, 5}, {64, 32, 256}, {12, 4, 33}, {4, 8, 7}, {8, 4, 8}, {4, 4, 9}, {16, 16, 1}, {6, 12, 9}, {18, 24, 17}, {32, 32, 245}, {6, 12, 3}} {
		ldt := c.t + 3
		w, v := f32s(r, c.o*ldt), f32s(r, c.c*ldt)
		du0 := f32s(r, c.o*c.c)
		for _, acc := range []bool{false, true} {
			du := append([]float32(nil), du0...)
			if !winoDotAsm(fk, w, v, ldt, c.t, du, c.o, c.c, acc) {
				t.Fatalf("%v %+v: no dot kernel", fk, c)
			}
			for i := 0; i < c.o; i++ {
				for j := 0; j < c.c; j++ {
					want := 0.0
					if acc {
						want = float64(du0[i*c.c+j])
					}
					for k := 0; k < c.t; k++ {
						want += float64(w[i*ldt+k]) * float64(v[j*ldt+k])
					}
					if d := math.Abs(float64(du[i*c.c+j]) - want); d > 1e-5*float64(c.t+1) {
						t.Fatalf("%v %+v acc %v: du[%d][%d] = %v, want %v", fk, c, acc, i, j, du[i*c.c+j], want)
					}
				}
			}
		}
	}
}

// TestWinogradChoice pins which convolutions take the Winograd path.
func TestWinogradChoice(t *testing.T) {
	mk := func(c, h, o, k, s, p, d, groups int) *convState {
		oh := (h+2*p-d*(k-1)-1)/s + 1
		return &convState{p: ConvParams{Groups: groups}.norm(), o: o,
			g: geom{c: c, h: h, w: h, kh: k, kw: k, sh: s, sw: s, ph: p, pw: p, dh: d, dw: d, oh: oh, ow: oh}}
	}
	for _, c := range []struct {
		name string
		st   *convState
		want bool
	}{
		{"resnet20 stage 1", mk(16, 28, 16, 3, 1, 1, 1, 1), true},
		{"resnet20 stage 3", mk(64, 7, 64, 3, 1, 1, 1, 1), true},
		{"unpadded", mk(32, 12, 32, 3, 1, 0, 1, 1), true},
		{"first layer, 3 channels", mk(3, 32, 16, 3, 1, 1, 1, 1), false},
		{"strided", mk(16, 28, 32, 3, 2, 1, 1, 1), false},
		{"5×5", mk(16, 28, 16, 5, 1, 2, 1, 1), false},
		{"dilated", mk(16, 28, 16, 3, 1, 2, 2, 1), false},
		{"grouped", mk(32, 28, 32, 3, 1, 1, 1, 2), false},
		{"224×224×64: scratch past the bound", mk(64, 224, 64, 3, 1, 1, 1, 1), false},
		{"256 channels", mk(256, 7, 256, 3, 1, 1, 1, 1), true},
		{"512 input channels: deeper than one packed block", mk(512, 7, 256, 3, 1, 1, 1, 1), false},
		{"512 output channels: the input gradient's depth", mk(256, 7, 512, 3, 1, 1, 1, 1), false},
	} {
		want := c.want && winogradCPU(hostFloatKernel)
		if got := c.st.winograd(true); got != want {
			t.Errorf("%s: winograd %v, want %v", c.name, got, want)
		}
		if c.st.winograd(false) {
			t.Errorf("%s: float64 takes Winograd", c.name)
		}
	}
}
