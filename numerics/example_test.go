package numerics_test

import (
	"fmt"

	"github.com/qatgo/qatgo/numerics"
)

func ExampleDecompose32() {
	p := numerics.Decompose32(-13.625)
	fmt.Println(p)
	fmt.Println("sign", p.Sign, "exponent", p.Exponent, "fraction", p.FractionBits())
	fmt.Println(p.Formula())

	// The same number in FP16 and BF16: fewer fraction bits, and FP16's
	// 5-bit exponent has bias 15.
	fmt.Println(numerics.FP16.Decompose(uint32(numerics.EncodeFP16(-13.625))))
	fmt.Println(numerics.BF16.Decompose(uint32(numerics.EncodeBF16(-13.625))).Formula())
	// Output:
	// 1 10000010 10110100000000000000000
	// sign 1 exponent 130 fraction 10110100000000000000000
	// (-1)^1 * 1.703125 * 2^(130-127) = -13.625
	// 1 10010 1011010000
	// (-1)^1 * 1.703125 * 2^(130-127) = -13.625
}

func ExampleRoundSlice() {
	x := []float32{0.1, 1.00390625, 3.1415927, 300, 500, 70000, -1e-6}
	y := make([]float32, len(x))
	for _, f := range []numerics.Format{numerics.BF16, numerics.FP8E4M3, numerics.FP8E5M2} {
		numerics.RoundSlice(y, x, f)
		fmt.Printf("%-8v %v\n", f, y)
	}
	// Output:
	// BF16     [0.100097656 1 3.140625 300 500 70144 -9.983778e-07]
	// FP8E4M3  [0.1015625 1 3.25 288 448 448 -0]
	// FP8E5M2  [0.09375 1 3 320 512 +Inf -0]
}

func ExampleFormat_Encode() {
	// Store 0.3 in one byte as FP8 E4M3, then read it back.
	b := numerics.EncodeE4M3(0.3)
	fmt.Printf("%08b %v\n", b, numerics.DecodeE4M3(b))
	fmt.Println(numerics.FP8E4M3.Decompose(uint32(b)).Formula())
	// Output:
	// 00101010 0.3125
	// (-1)^0 * 1.25 * 2^(5-7) = 0.3125
}

func ExampleFixed() {
	f := numerics.Fixed{Width: 8, Frac: 4}
	a, _ := f.Encode(2.6875)
	b, _ := f.Encode(1.5)
	fmt.Println(f, f.BitString(a), f.Decode(a))
	fmt.Println("range", f.Min(), f.Max(), "step", f.Resolution())
	fmt.Println("a+b", f.Decode(f.Add(a, b)), "a*b", f.Decode(f.Mul(a, b)), "a*a", f.Decode(f.Mul(a, a)))
	// Output:
	// fixed<8,4> 0010.1011 2.6875
	// range -8 7.9375 step 0.0625
	// a+b 4.1875 a*b 4 a*a 7.25
}

func ExampleInt() {
	for _, t := range []numerics.Int{
		{Kind: numerics.Unsigned, Bits: 4},
		{Kind: numerics.SignMagnitude, Bits: 4},
		{Kind: numerics.TwosComplement, Bits: 4},
	} {
		p := t.EncodeSat(-5)
		v, _ := t.Decode(p)
		fmt.Printf("%-26v [%d, %d] -5 → %s (%d)\n", t, t.Min(), t.Max(), t.BitString(p), v)
	}
	// Output:
	// int4 unsigned              [0, 15] -5 → 0000 (0)
	// int4 sign-magnitude        [-7, 7] -5 → 1101 (-5)
	// int4 two's complement      [-8, 7] -5 → 1011 (-5)
}
