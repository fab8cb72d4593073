package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestWindowGradMask checks the batch norm backward's mask of dy by the
// output's window: windowGrad32 against windowGradGeneric, bit for bit, on
// lengths around the 8-lane width with outputs at 0, at 6, above, +Inf and
// NaN; for the clamp's windows the mask is also the ReLU/ReLU6 gradient's
// (clampGradY). (The loops that mask inside themselves: TestBnRecompute.)
func TestWindowGradMask(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(81, 82))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	special := []float32{0, 6, 7, inf, -inf, nan, float32(math.Copysign(0, -1)), 5.999999, -1.5, 2.25}
	windows := []struct {
		lo, hi float32
		relu   float32 // the clamp's hi when the window is a clamp's, else 0
	}{
		{0, nan, inf}, {0, 6, 6}, {-1.5, 2.25, 0}, {-inf, 3, 0}, {0.5, nan, 0}, {math.Nextafter32(-1.5, -inf), math.Nextafter32(2.25, inf), 0},
	}
	for _, n := range []int{1, 7, 8, 9, 16, 23, 40} {
		for _, wd := range windows {
			dy, y := make([]float32, n), make([]float32, n)
			for i := range dy {
				dy[i] = float32(r.NormFloat64())
				y[i] = float32(r.NormFloat64() * 5)
				if r.IntN(3) == 0 {
					y[i] = special[r.IntN(len(special))]
				}
			}
			g := make([]float32, n)
			windowGradGeneric(g, y, dy, wd.lo, wd.hi)
			if wd.relu > 0 {
				c := make([]float32, n)
				clampGradY(c, y, dy, wd.relu)
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(g[i]) {
						t.Fatalf("n=%d window %v: mask at y=%v is %v, the clamp's %v", n, wd, y[i], g[i], c[i])
					}
				}
			}
			g32 := make([]float32, n)
			windowGrad32(g32, y, dy, wd.lo, wd.hi)
			if !sameBits32(g32, g) {
				t.Fatalf("n=%d window %v: windowGrad32 differs from windowGradGeneric", n, wd)
			}
		}
	}
}

// TestDeint2Inter2AVX2: the AVX2 stride-2 (de)interleaves equal the Go
// loops on lengths around the 16-value step, odd ones included, and
// inter2 undoes deint2.
func TestDeint2Inter2AVX2(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(83, 84))
	for _, n := range []int{0, 1, 2, 15, 16, 17, 31, 32, 33, 57, 112} {
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(r.NormFloat64())
		}
		h := (n + 1) / 2
		we, wo := make([]float32, h+3), make([]float32, h+3)
		ge, gow := make([]float32, h+3), make([]float32, h+3)
		deint2(we, wo, src)
		deint2Y(ge, gow, src)
		if !sameBits32(we, ge) || !sameBits32(wo, gow) {
			t.Fatalf("n=%d: deint2Y differs from deint2", n)
		}
		want, got := make([]float32, n), make([]float32, n)
		inter2(want, we, wo)
		inter2Y(got, ge, gow)
		if !sameBits32(want, got) || !sameBits32(got, src) {
			t.Fatalf("n=%d: inter2Y differs from inter2 or does not undo deint2", n)
		}
	}
}

// TestCopyRows32: the AVX2 block copies (im2col's, strided source; and
// copyRowsTo32, strided destination) equal the row-by-row Go copy for
// widths around the 8-lane step, and write nothing between the rows or past
// the block.
func TestCopyRows32(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(85, 86))
	for _, n := range []int{1, 7, 8, 9, 16, 24, 33} {
		for _, rows := range []int{1, 3, 8} {
			pitch := n + r.IntN(5)
			src := make([]float32, (rows-1)*pitch+n)
			for i := range src {
				src[i] = float32(r.NormFloat64())
			}
			got, want := make([]float32, rows*n+3), make([]float32, rows*n+3)
			for i := range got {
				got[i], want[i] = -7, -7
			}
			for k := range rows {
				copy(want[k*n:(k+1)*n], src[k*pitch:k*pitch+n])
			}
			if !copyRows32(got, src, rows, n, pitch) || !sameBits32(got, want) {
				t.Fatalf("n=%d rows=%d pitch=%d: block copy differs", n, rows, pitch)
			}
			// and back: the gather of 1×1-convolution planes
			back := make([]float32, len(src)+3)
			wantBack := make([]float32, len(back))
			for k := range rows {
				copy(wantBack[k*pitch:k*pitch+n], got[k*n:(k+1)*n])
			}
			if !copyRowsTo32(back, got, rows, n, pitch) || !sameBits32(back, wantBack) {
				t.Fatalf("n=%d rows=%d pitch=%d: strided block copy differs", n, rows, pitch)
			}
		}
	}
}

// TestAddRows32: the AVX2 block add of col2im equals the row-by-row Go add
// for widths around the 8-lane step, and changes nothing between the rows
// or past the block.
func TestAddRows32(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(87, 88))
	for _, n := range []int{1, 7, 8, 9, 16, 24, 33} {
		for _, rows := range []int{1, 3, 8} {
			pitch := n + r.IntN(5)
			src := make([]float32, rows*n)
			for i := range src {
				src[i] = float32(r.NormFloat64())
			}
			got := make([]float32, (rows-1)*pitch+n+3)
			for i := range got {
				got[i] = float32(r.NormFloat64())
			}
			want := append([]float32(nil), got...)
			for k := range rows {
				for i := range n {
					want[k*pitch+i] += src[k*n+i]
				}
			}
			if !addRows32(got, src, rows, n, pitch) || !sameBits32(got, want) {
				t.Fatalf("n=%d rows=%d pitch=%d: block add differs", n, rows, pitch)
			}
		}
	}
}

// TestFill32: the AVX2 fill sets exactly the values asked for, widths
// around the 8-lane step, and nothing past them.
func TestFill32(t *testing.T) {
	for n := range 41 {
		got := make([]float32, n+9)
		for i := range got {
			got[i] = -7
		}
		fill32(got[:n], 2.5)
		for i, v := range got {
			if want := float32(-7); i < n && v != 2.5 || i >= n && v != want {
				t.Fatalf("n=%d: value %d is %v", n, i, v)
			}
		}
	}
}
