package fakequant

import (
	"testing"

	"github.com/qatgo/qatgo/numerics"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestFloatQuantizer(t *testing.T) {
	for _, test := range []struct {
		f        numerics.Format
		in, want []float32
		mask     []bool
	}{
		// BF16 keeps 7 fraction bits: 1+2^-8 is a tie → even (1); 1+3·2^-8 rounds up to 1+2^-6.
		{numerics.BF16, []float32{1.00390625, 1.01171875, -3}, []float32{1, 1.015625, -3}, []bool{true, true, true}},
		// E4M3 saturates at ±448 from 464 = 448 + ulp/2 on (gradient stopped there);
		// 460 still rounds to 448 within range; 0.3 → 0.3125 (0.0101 in binary).
		{numerics.FP8E4M3, []float32{500, -1000, 460, 0.3}, []float32{448, -448, 448, 0.3125}, []bool{false, false, true, true}},
		// FP16 overflows to +Inf from 65520 = 65504 + ulp/2 on; 65519 rounds to 65504.
		{numerics.FP16, []float32{65519, 65520, 1e-8}, []float32{65504, float32(posInf()), 0}, []bool{true, false, true}},
	} {
		q, err := NewFloat(test.f)
		if err != nil {
			t.Fatal(err)
		}
		g := G.NewGraph()
		x := G.NewTensor(g, tensor.Float32, 1, G.WithShape(len(test.in)), G.WithValue(tensor.New(tensor.WithBacking(append([]float32(nil), test.in...)))), G.WithName("x"))
		y, err := q.Apply(nil, x)
		if err != nil {
			t.Fatal(err)
		}
		cost := G.Must(G.Sum(y))
		if _, err := G.Grad(cost, x); err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		got := y.Value().Data().([]float32)
		gv, _ := x.Grad()
		grad := gv.Data().([]float32)
		for i := range test.want {
			if got[i] != test.want[i] {
				t.Errorf("%v(%v) = %v, want %v", test.f.Name, test.in[i], got[i], test.want[i])
			}
			if w := map[bool]float32{true: 1, false: 0}[test.mask[i]]; grad[i] != w {
				t.Errorf("%v: gradient at %v = %v, want %v", test.f.Name, test.in[i], grad[i], w)
			}
		}
		m.Close()
		st, _ := q.MarshalState()
		other, _ := NewFloat(numerics.BF16)
		if test.f != numerics.BF16 {
			if err := other.UnmarshalState(st); err == nil {
				t.Errorf("bf16 quantizer accepted %s state", test.f.Name)
			}
		}
		if err := q.UnmarshalState(st); err != nil {
			t.Error(err)
		}
	}
	if _, err := NewFloat(numerics.Format{Name: "bad", ExpBits: 0, MantBits: 3}); err == nil {
		t.Error("invalid format accepted")
	}
}

func posInf() float64 { return 1 / zero() }
func zero() float64   { return 0 }
