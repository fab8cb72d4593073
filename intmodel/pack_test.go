package intmodel

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestPackHandWorked(t *testing.T) {
	for i, test := range []struct {
		bits int
		src  []int8
		want []byte
	}{
		// 4 bits: a=1 (0001), b=-2 (1110) → byte b<<4|a = 0xE1.
		{4, []int8{1, -2}, []byte{0xE1}},
		// 4 bits, odd length: -8 (1000), 7 (0111), -1 (1111) → 0x78, 0x0F.
		{4, []int8{-8, 7, -1}, []byte{0x78, 0x0F}},
		// 3 bits: 1 (001) bits 0-2, -1 (111) bits 3-5, 2 (010) bits 6-8:
		// byte0 = 0b10_111_001 = 0xB9, byte1 = bit 8 = 0 → 0x00.
		{3, []int8{1, -1, 2}, []byte{0xB9, 0x00}},
		// 3 bits: -4 (100) in slot 2 straddles: bits 6,7 = 00, bit 8 = 1.
		{3, []int8{0, 0, -4}, []byte{0x00, 0x01}},
		// 2 bits: 1, -1, -2, 0 → 01, 11, 10, 00 → 0b00_10_11_01 = 0x2D.
		{2, []int8{1, -1, -2, 0}, []byte{0x2D}},
		// 1 bit: range [-1, 0]; -1 → bit 1.
		{1, []int8{-1, 0, -1, -1, 0, 0, 0, 0, -1}, []byte{0x0D, 0x01}},
		// 8 bits: plain bytes.
		{8, []int8{-128, 127, -1}, []byte{0x80, 0x7F, 0xFF}},
	} {
		got := make([]byte, PackedLen(len(test.src), test.bits))
		if err := Pack(got, test.src, test.bits); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !bytes.Equal(got, test.want) {
			t.Errorf("%d: Pack(%v, %d) = % x, want % x", i, test.src, test.bits, got, test.want)
		}
		back := make([]int8, len(test.src))
		if err := Unpack(back, got, test.bits); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		for j := range back {
			if back[j] != test.src[j] {
				t.Errorf("%d: Unpack = %v, want %v", i, back, test.src)
				break
			}
		}
	}
}

func TestPackRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for bits := 1; bits <= 8; bits++ {
		lo, span := -(1 << (bits - 1)), 1<<bits
		for _, n := range []int{0, 1, 2, 3, 5, 7, 8, 9, 13, 31, 63, 64, 65, 1001} {
			src := make([]int8, n)
			for i := range src {
				src[i] = int8(lo + rng.IntN(span))
			}
			if n > 1 { // both extremes present
				src[0], src[n-1] = int8(lo), int8(lo+span-1)
			}
			buf := make([]byte, PackedLen(n, bits)+1)
			buf[len(buf)-1] = 0xAA // guard byte must survive
			if err := Pack(buf, src, bits); err != nil {
				t.Fatal(err)
			}
			if buf[len(buf)-1] != 0xAA {
				t.Errorf("bits=%d n=%d: Pack wrote past PackedLen", bits, n)
			}
			if pad := n * bits % 8; pad != 0 && buf[len(buf)-2]>>pad != 0 {
				t.Errorf("bits=%d n=%d: padding bits not zero: %08b", bits, n, buf[len(buf)-2])
			}
			got := make([]int8, n)
			if err := Unpack(got, buf[:PackedLen(n, bits)], bits); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if got[i] != src[i] {
					t.Fatalf("bits=%d n=%d: value %d: got %d, want %d", bits, n, i, got[i], src[i])
				}
			}
		}
	}
}

func TestPackErrors(t *testing.T) {
	for i, err := range []error{
		Pack(make([]byte, 1), []int8{8}, 4),    // out of 4-bit range
		Pack(make([]byte, 1), []int8{1, 1}, 5), // dst too short (needs 2)
		Pack(make([]byte, 1), []int8{0}, 0),    // bad width
		Pack(make([]byte, 1), []int8{0}, 9),
		Unpack(make([]int8, 3), []byte{0}, 3), // needs 2 bytes
		Unpack(make([]int8, 1), []byte{0}, 0),
	} {
		if !errors.Is(err, ErrPack) {
			t.Errorf("%d: err = %v, want ErrPack", i, err)
		}
	}
}
