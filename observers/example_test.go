package observers_test

import (
	"fmt"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/observers"
)

func ExampleMinMax() {
	o, err := observers.NewMinMax(fakequant.QScheme{Bits: 8}) // uint8 affine
	if err != nil {
		fmt.Println(err)
		return
	}
	o.Observe([]float32{-1, 0.5, 2}, []int{3})
	o.Observe([]float32{3, -0.5}, []int{2})
	mn, mx, _ := o.Range()
	p, _ := o.QParams()
	// S = (3 - -1)/255, Z = 0 - round(-1/S) = round(63.75) = 64.
	fmt.Printf("range [%g, %g]: S = %.6f, Z = %d\n", mn[0], mx[0], p.Scale[0], p.ZeroPoint[0])
	// Output:
	// range [-1, 3]: S = 0.015686, Z = 64
}

func ExampleHistogram() {
	// Clip to the 1st and 99th percentiles of the integers 0..9999.
	o, err := observers.NewHistogram(fakequant.QScheme{Bits: 8}, 2048, 1, 99)
	if err != nil {
		fmt.Println(err)
		return
	}
	x := make([]float32, 10000)
	for i := range x {
		x[i] = float32(i)
	}
	o.Observe(x, []int{100, 100})
	mn, mx, _ := o.Range()
	p, _ := o.QParams() // the range is widened to include 0
	fmt.Printf("range [%.0f, %.0f]: S = %.3f, Z = %d\n", mn[0], mx[0], p.Scale[0], p.ZeroPoint[0])
	// Output:
	// range [100, 9899]: S = 38.821, Z = 0
}

func ExampleNew() {
	s := fakequant.QScheme{Bits: 8, Signed: true, Symmetric: true, Granularity: fakequant.PerChannel}
	o, err := observers.New("minmax", s)
	if err != nil {
		fmt.Println(err)
		return
	}
	// A [2, 3] weight, one scale per output channel (row).
	o.Observe([]float32{-1, 0.5, 0.25, 0, 2, -0.5}, []int{2, 3})
	p, _ := o.QParams()
	fmt.Printf("%T: S = %.5f\n", o, p.Scale)
	_, err = observers.New("kl", s)
	fmt.Println(err)
	// Output:
	// *observers.PerChannelMinMax: S = [0.00784 0.01569]
	// observers: unknown observer kind "kl", valid kinds: minmax, ema, histogram, mse, entropy
}
