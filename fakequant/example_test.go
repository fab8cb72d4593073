package fakequant

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Quantize a range onto uint8 and fake-quantize a few values with it.
func ExampleFakeQuantize() {
	s := QScheme{Bits: 8} // uint8 affine, per tensor
	p, err := QParamsFromRange(s, []float32{-1}, []float32{3})
	if err != nil {
		panic(err)
	}
	fmt.Printf("S = %.6f, Z = %d\n", p.Scale[0], p.ZeroPoint[0])

	x := []float32{-1.5, -0.5, 0, 0.7, 3.2}
	y := make([]float32, len(x))
	mask := make([]bool, len(x)) // where the straight-through gradient passes
	if err := FakeQuantize(y, mask, x, p, []int{len(x)}); err != nil {
		panic(err)
	}
	for i := range x {
		fmt.Printf("%5.2f → %.6f %v\n", x[i], y[i], mask[i])
	}
	// Output:
	// S = 0.015686, Z = 64
	// -1.50 → -1.003922 false
	// -0.50 → -0.501961 true
	//  0.00 → 0.000000 true
	//  0.70 → 0.705882 true
	//  3.20 → 2.996078 false
}

// Build an Affine quantizer and apply it in a gorgonia graph. The observer
// here is this package's test min-max observer; real code takes one from
// package observers.
func ExampleNewAffine() {
	obs := newObs(QScheme{Bits: 4, Signed: true, Symmetric: true}) // int4 symmetric
	q, err := NewAffine(obs)
	if err != nil {
		panic(err)
	}
	g := G.NewGraph()
	xv := tensor.New(tensor.WithShape(4), tensor.WithBacking([]float32{-1, 0.3, 0.5, 0.875}))
	x := G.NewTensor(g, tensor.Float32, 1, G.WithShape(4), G.WithValue(xv), G.WithName("x"))
	y, err := q.Apply(nil, x) // nil Binder: Affine learns nothing
	if err != nil {
		panic(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil { // training step: observes x, then fake-quantizes
		panic(err)
	}
	p, _ := q.QParams()
	fmt.Println(q)
	fmt.Printf("S = %g\n", p.Scale[0])
	// -1/S is -7.5 exactly, but like PyTorch the kernel multiplies by
	// float32(1/S) = 7.4999996, so -1 rounds to code -7, not to -8.
	fmt.Printf("%.4f\n", y.Value().Data())

	q.SetObserving(false) // evaluation: range frozen, same graph
	m.Reset()
	copy(xv.Data().([]float32), []float32{-4, 0.1, 0.2, 4})
	if err := m.RunAll(); err != nil {
		panic(err)
	}
	fmt.Printf("%.4f\n", y.Value().Data())
	// Output:
	// int4 sym per-tensor minmax
	// S = 0.13333334
	// [-0.9333 0.2667 0.5333 0.9333]
	// [-1.0667 0.1333 0.1333 0.9333]
}

// The straight-through mask of a grid as one interval of x: what a folded
// quantizer hands to the op before it. uint8 with S = 0.1 and Z = 10 holds
// codes 0..255, x from −1.0 to 24.5; values up to half a step beyond either
// end round onto the grid, and half to even decides the ties: −1.05 (code
// −10.5 + 10 → 0) is in, 24.55 (245.5 → 246, code 256) is out, so the top
// is the float32 just below it.
func ExampleWindow() {
	lo, hi := Window(0.1, 10, 0, 255)
	fmt.Println(lo, hi)
	x := []float32{lo, hi, -1.06, 24.56}
	y := make([]float32, len(x))
	mask := make([]bool, len(x))
	p := QParams{Scheme: QScheme{Bits: 8}, Scale: []float32{0.1}, ZeroPoint: []int32{10}}
	if err := FakeQuantize(y, mask, x, p, []int{len(x)}); err != nil {
		panic(err)
	}
	fmt.Println(mask)
	// Output:
	// -1.05 24.549997
	// [true true false false]
}

// Quantize a weight scaled per output channel (a ConvBn's W·γ/√(σ²+ε)) in
// one op, and take the gradients of both the weight and the factor: with
// every scaled weight on the grid, dw is f per row and df the row's sum of
// w (the loss is the sum of y).
func ExampleApplyScaled() {
	obs := newObs(QScheme{Bits: 4, Signed: true, Symmetric: true, Granularity: PerChannel, Axis: 0})
	q, err := NewAffine(obs)
	if err != nil {
		panic(err)
	}
	g := G.NewGraph()
	w := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("w"),
		G.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{-1, 0.3, 0.5, 0.25, 0.1, -0.2}))))
	f := G.NewVector(g, tensor.Float32, G.WithShape(2), G.WithName("f"),
		G.WithValue(tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{0.5, 2}))))
	y, err := ApplyScaled(q, w, f) // fq(w·f) per row
	if err != nil {
		panic(err)
	}
	loss := G.Must(G.Sum(y))
	if _, err := G.Grad(loss, w, f); err != nil {
		panic(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		panic(err)
	}
	dw, _ := w.Grad()
	df, _ := f.Grad()
	fmt.Printf("y  %.4f\n", y.Value().Data())
	fmt.Printf("dw %.4f\n", dw.Data())
	fmt.Printf("df %.4f\n", df.Data())
	// Output:
	// y  [-0.4667 0.1333 0.2667 0.4667 0.2000 -0.4000]
	// dw [0.5000 0.5000 0.5000 2.0000 2.0000 2.0000]
	// df [-0.2000 0.1500]
}
