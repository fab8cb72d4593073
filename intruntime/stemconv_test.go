package intruntime

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qatgo/qatgo/intmodel"
)

// stemModel is a first layer of few taps (c×k×k, padding p) with ReLU
// into unsigned codes (relu8), then a small fc head.
func stemModel(t testing.TB, seed uint64, c, h, w, oc, k, p, wbits int) *intmodel.Model {
	rng := rand.New(rand.NewPCG(seed, 5))
	in := intmodel.ActQuant{Scale: 1.0 / 255, ZeroPoint: 0, Bits: 8}
	a1 := intmodel.ActQuant{Scale: 0.02, ZeroPoint: 0, Bits: 8}
	out := intmodel.ActQuant{Scale: 0.1, ZeroPoint: 0, Bits: 8, Signed: true}
	conv := &intmodel.Conv2d{Name: "stem", InChannels: c, OutChannels: oc, KernelH: k, KernelW: k, StrideH: 1, StrideW: 1, PadH: p, PadW: p,
		Quantized: quantLayer(t, rng, oc, c*k*k, wbits, in, a1, true)}
	m := &intmodel.Model{Input: in, InputShape: intmodel.Shape{C: c, H: h, W: w}, Output: a1, Layers: []intmodel.Layer{conv}}
	return withHead(t, rng, m, wbits, out)
}

// TestStemCodes checks stem convolutions code for code against the same
// model without the stem plan (the GEMM path), on real random images:
// one channel 3×3 padded (vgg-small's, resnet20's and MobileNetV2's
// first layer), rows of 20 and 17 (the row's last vector overlapping),
// and two channels of 2×2 unpadded.
func TestStemCodes(t *testing.T) {
	for _, c := range []struct {
		name                       string
		cin, h, w, oc, k, p, batch int
	}{
		{"c1 3x3 p1 28x28", 1, 28, 28, 16, 3, 1, 5},
		{"c1 3x3 p1 9x20", 1, 9, 20, 7, 3, 1, 3},
		{"c1 3x3 p0 6x19", 1, 6, 19, 5, 3, 0, 2},
		{"c2 2x2 p0 5x24", 2, 5, 24, 9, 2, 0, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := stemModel(t, uint64(c.oc), c.cin, c.h, c.w, c.oc, c.k, c.p, 8)
			fast, err := NewRunner(m, c.batch, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer fast.Close()
			if host.stem != nil && fast.engines[0].steps[0].stem == nil {
				t.Fatal("no stem plan")
			}
			slow, err := NewRunner(m, c.batch, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer slow.Close()
			slow.engines[0].steps[0].stem = nil
			x := randImages(rand.New(rand.NewPCG(7, uint64(c.w))), c.batch*fast.InputSize())
			codes := func(r *Runner) []int32 {
				if err := r.Run(x, c.batch, make([]float32, c.batch*r.OutputSize())); err != nil {
					t.Fatal(err)
				}
				out, err := r.LayerCodes(0, nil)
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			got, want := codes(fast), codes(slow)
			if !slices.Equal(got, want) {
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("code %d: %d, want %d", i, got[i], want[i])
					}
				}
			}
		})
	}
}

// TestStemPlans checks where a stem plan applies: few taps, stride 1,
// outputs at least 16 wide, relu8 float requantization on every channel.
func TestStemPlans(t *testing.T) {
	if host.stem == nil {
		t.Skip("no stem kernel on this CPU")
	}
	for _, c := range []struct {
		m    *intmodel.Model
		want bool
	}{
		{stemModel(t, 1, 1, 28, 28, 16, 3, 1, 8), true},
		{stemModel(t, 2, 1, 28, 28, 16, 5, 0, 8), false},         // 25 taps
		{stemModel(t, 3, 1, 14, 14, 16, 3, 1, 8), false},         // 14 wide
		{stemModel(t, 4, 2, 28, 28, 16, 3, 1, 8), false},         // 18 taps
		{convModel(t, 5, 1, 28, 28, 16, 3, 1, 1, nil, 8), false}, // signed outputs: no relu8 kernel
	} {
		r, err := NewRunner(c.m, 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.engines[0].steps[0].stem != nil; got != c.want {
			t.Errorf("%s %v: planned %v", c.m.Layers[0].(*intmodel.Conv2d).Name, c.m.InputShape, got)
		}
		r.Close()
	}
}

// TestStemMatchesScalar checks host.stem against stemScalar (the
// fixed-point requantization) on frames of random and extreme codes, one
// image at a time, including where outputs clamp to 0 and 255.
func TestStemMatchesScalar(t *testing.T) {
	if host.stem == nil {
		t.Skip("no stem kernel on this CPU")
	}
	rng := rand.New(rand.NewPCG(8, 8))
	for _, seed := range []uint64{1, 2, 3} {
		r, err := NewRunner(stemModel(t, seed, 1, 12, 21, 16, 3, 1, 8), 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		s := r.engines[0].steps[0]
		p := s.stem
		if p == nil {
			t.Fatal("no stem plan")
		}
		frames := make([]uint8, p.frameBytes())
		for trial := range 4 {
			for i := range frames {
				switch trial {
				case 0:
					frames[i] = uint8(rng.IntN(256))
				case 1:
					frames[i] = []uint8{0, 255}[rng.IntN(2)]
				case 2:
					frames[i] = 255
				default:
					frames[i] = uint8(rng.IntN(3))
				}
			}
			// Rows 3 codes apart more than their width (as into frames).
			row := p.ow + 3
			P := p.oh * row
			got, want := make([]uint8, len(s.rq)*P), make([]uint8, len(s.rq)*P)
			host.stem(got, P, row, frames, p, s.rq)
			stemScalar(want, P, row, frames, p, s.rq)
			if i := slices.Compare(got, want); i != 0 {
				for j := range got {
					if got[j] != want[j] {
						t.Fatalf("seed %d trial %d: channel %d output %d = %d, want %d", seed, trial, j/P, j%P, got[j], want[j])
					}
				}
			}
		}
		r.Close()
	}
}
