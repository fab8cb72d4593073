package intruntime

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// tapCase is a convolution of TestTapGemm.
type tapCase struct{ m, cin, kh, kw, H, W, ph, pw int }

// The tap GEMM on random row planes: the portable version against the
// convolution written out (each valid output position as Σ over input
// channels and taps), and every kernel the CPU has against the portable
// one: on the row planes at every position (the dropped ones included),
// on one plane per channel quad (impl.tapSingle) at the outputs. Each
// case is planned for both granularities of flat positions (tapGroup for
// AMX, 32 for VNNI), each kernel run on its own.
func TestTapGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, c := range []tapCase{
		{16, 16, 3, 3, 8, 8, 1, 1},
		{5, 16, 3, 3, 6, 9, 0, 0},
		{33, 32, 3, 3, 7, 5, 1, 1},
		{16, 64, 3, 3, 4, 4, 1, 1},
		{20, 128, 3, 3, 5, 5, 1, 1},
		{8, 20, 1, 3, 6, 7, 0, 1},
		{3, 4, 2, 2, 3, 3, 0, 0},
	} {
		for _, group := range []int{tapGroup, 32} {
			tapGemmCase(t, rng, c, group)
		}
	}
}

// tapGemmCase is one case of TestTapGemm, planned for kernels that compute
// group flat positions at a time.
func tapGemmCase(t *testing.T, rng *rand.Rand, c tapCase, group int) {
	w := make([]int8, c.m*c.cin*c.kh*c.kw)
	for i := range w {
		w[i] = int8(rng.Uint32())
	}
	p := newTapPlan(w, c.m, c.cin, c.kh, c.kw, c.H, c.W, c.ph, c.pw, group)
	if p == nil {
		t.Fatalf("%+v: no plan", c)
	}
	q := make([]uint32, p.qlen)
	for i := range q {
		q[i] = rng.Uint32()
	}
	ldc := p.ldc()
	want := make([]int32, p.mt*amxRows*ldc)
	tapGemmPortable(want, ldc, p, q)
	oh, ow := p.Hp-c.kh+1, p.Wp-c.kw+1
	for oc := range c.m {
		for y := range oh {
			for x := range ow {
				pos := y*p.Wp + x
				var s int32
				for ic := range c.cin {
					for ky := range c.kh {
						for kx := range c.kw {
							v := q[(ic/4*c.kw+kx)*p.plane+pos+ky*p.Wp] >> (8 * (ic % 4)) & 0xff
							s += int32(w[((oc*c.cin+ic)*c.kh+ky)*c.kw+kx]) * int32(v)
						}
					}
				}
				if got := want[oc*ldc+pos]; got != s {
					t.Fatalf("%+v: portable acc[%d][%d,%d] = %d, want %d", c, oc, y, x, got, s)
				}
			}
		}
	}
	// The layout without copies: random quad planes, and the row
	// planes they stand for (plane j·kw + kx at p is quad plane j at
	// p + kx) for the portable GEMM, compared at the outputs.
	q1 := make([]uint32, p.qlen1)
	for i := range q1 {
		q1[i] = rng.Uint32()
	}
	qc := make([]uint32, p.qlen)
	for r := range p.rows {
		j, kx := r/c.kw, r%c.kw
		for x := range p.plane {
			if i := j*p.plane + x + kx; i < len(q1) {
				qc[r*p.plane+x] = q1[i]
			}
		}
	}
	want1 := make([]int32, len(want))
	tapGemmPortable(want1, ldc, p, qc)
	for _, vi := range variantImpls() {
		if vi.tapGemm == nil || vi.tapPositions() != group {
			continue
		}
		got := make([]int32, len(want))
		for i := range got {
			got[i] = -1
		}
		if !vi.tapSingle {
			vi.tapGemm(got, ldc, p, q)
			if !slices.Equal(got[:c.m*ldc], want[:c.m*ldc]) {
				t.Fatalf("%+v (%s): differs from tapGemmPortable", c, vi.name)
			}
			continue
		}
		vi.tapGemm(got, ldc, p, q1)
		// The outputs only: past a plane the two layouts hold
		// different planes, which only dropped positions read.
		for oc := range c.m {
			for y := range oh {
				for x := range ow {
					if i := oc*ldc + y*p.Wp + x; got[i] != want1[i] {
						t.Fatalf("%+v (%s): one plane per quad: acc[%d][%d,%d] = %d, on the shifted copies %d", c, vi.name, oc, y, x, got[i], want1[i])
					}
				}
			}
		}
	}
}

// BenchmarkTapConv times resnet20's 3×3 convolutions (one conv + a small
// fc head, batch 64) by Winograd, with the tap GEMM and with im2col + GEMM.
func BenchmarkTapConv(b *testing.B) {
	for _, c := range []struct {
		name    string
		c, h, o int
	}{{"s1_16x28", 16, 28, 16}, {"s2_32x14", 32, 14, 32}, {"s3_64x7", 64, 7, 64}} {
		for _, mode := range []string{"wino", "tap", "gemm"} {
			b.Run(c.name+"_"+mode, func(b *testing.B) {
				m := convModel(b, 1, c.c, c.h, c.h, c.o, 3, 1, 1, nil, 8)
				const batch = 64
				r, err := NewRunner(m, batch, 1)
				if err != nil {
					b.Fatal(err)
				}
				defer r.Close()
				s := &r.engines[0].steps[0]
				switch {
				case mode == "wino" && s.wino == nil:
					b.Skip("no Winograd convolutions on this CPU")
				case mode == "tap" && s.tap == nil:
					b.Skip("no tap GEMM for this layer on this CPU (Winograd takes it where planned)")
				case mode != "wino":
					s.wino = nil
				}
				if mode == "gemm" {
					s.tap = nil
				}
				x := randImages(rand.New(rand.NewPCG(1, 1)), batch*r.InputSize())
				out := make([]float32, batch*r.OutputSize())
				for b.Loop() {
					if err := r.Run(x, batch, out); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkTapGemm times the tap GEMM alone on resnet20's 3×3 shapes (one
// image a call), in GOP/s of the convolution's useful multiply-adds.
func BenchmarkTapGemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		name  string
		c, hw int
	}{{"16x28", 16, 28}, {"32x14", 32, 14}, {"64x7", 64, 7}} {
		b.Run(c.name, func(b *testing.B) {
			if host.tapGemm == nil {
				b.Skip("no tap GEMM on this CPU")
			}
			w := make([]int8, c.c*c.c*9)
			for i := range w {
				w[i] = int8(rng.Uint32())
			}
			p := newTapPlan(w, c.c, c.c, 3, 3, c.hw, c.hw, 1, 1, host.tapPositions())
			q := make([]uint32, p.qlen)
			acc := make([]int32, p.mt*amxRows*p.ldc())
			for b.Loop() {
				host.tapGemm(acc, p.ldc(), p, q)
			}
			ops := 2 * float64(c.c*c.c*9*c.hw*c.hw)
			b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
		})
	}
}

// TestTapPays: narrow outputs take the VNNI tap GEMM only where its flat
// positions are at most 1.5x the outputs — resnet20's padded 14×14 (rows
// of 16: 256 positions for 196) and 7×7 (rows of 9: 64 for 49), not
// LeNet-5's unpadded 5×5 conv2 on 12×12 (8 wide in rows of 12: 128 for 64).
func TestTapPays(t *testing.T) {
	for _, tc := range []struct {
		cin, k, hw, pad int
		want            bool
	}{
		{32, 3, 14, 1, true},
		{64, 3, 7, 1, true},
		{20, 5, 12, 0, false},
		{16, 3, 4, 1, false},
	} {
		for _, group := range []int{tapGroup, 32} {
			p := newTapPlan(make([]int8, 8*tc.cin*tc.k*tc.k), 8, tc.cin, tc.k, tc.k, tc.hw, tc.hw, tc.pad, tc.pad, group)
			if p == nil {
				t.Fatalf("%+v: no tap plan", tc)
			}
			o := tc.hw + 2*tc.pad - tc.k + 1
			if got := p.pays(o * o); got != tc.want {
				t.Errorf("%+v, groups of %d: pays = %v (%d flat positions for %d outputs), want %v", tc, group, got, p.ldc(), o*o, tc.want)
			}
		}
	}
}
