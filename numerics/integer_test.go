package numerics

import (
	"errors"
	"testing"
)

// All 16 patterns of a 4-bit integer, worked by hand.
func TestInt4Tables(t *testing.T) {
	for i, test := range []struct {
		bits          string
		unsigned      int64
		signMagnitude int64 // 1000 is negative zero
		twos          int64
	}{
		{"0000", 0, 0, 0},
		{"0001", 1, 1, 1},
		{"0010", 2, 2, 2},
		{"0011", 3, 3, 3},
		{"0100", 4, 4, 4},
		{"0101", 5, 5, 5},
		{"0110", 6, 6, 6},
		{"0111", 7, 7, 7},
		{"1000", 8, 0, -8},
		{"1001", 9, -1, -7},
		{"1010", 10, -2, -6},
		{"1011", 11, -3, -5},
		{"1100", 12, -4, -4},
		{"1101", 13, -5, -3},
		{"1110", 14, -6, -2},
		{"1111", 15, -7, -1},
	} {
		for _, c := range []struct {
			f    Int
			want int64
		}{
			{Int{Unsigned, 4}, test.unsigned},
			{Int{SignMagnitude, 4}, test.signMagnitude},
			{Int{TwosComplement, 4}, test.twos},
		} {
			p, err := c.f.ParseBits(test.bits)
			if err != nil {
				t.Fatalf("%d %v: %v", i, c.f, err)
			}
			if p != uint32(i) {
				t.Errorf("%d %v: ParseBits(%q) = %d", i, c.f, test.bits, p)
			}
			v, err := c.f.Decode(p)
			if err != nil || v != c.want {
				t.Errorf("%d %v: Decode(%s) = %d, %v; want %d", i, c.f, test.bits, v, err, c.want)
			}
			if c.f.Kind == SignMagnitude && test.bits == "1000" {
				continue // negative zero: 0 encodes as 0000
			}
			q, err := c.f.Encode(c.want)
			if err != nil || c.f.BitString(q) != test.bits {
				t.Errorf("%d %v: Encode(%d) = %s, %v; want %s", i, c.f, c.want, c.f.BitString(q), err, test.bits)
			}
		}
	}
}

func TestIntRange(t *testing.T) {
	for _, test := range []struct {
		f        Int
		min, max int64
	}{
		{Int{Unsigned, 1}, 0, 1},
		{Int{Unsigned, 4}, 0, 15},
		{Int{Unsigned, 8}, 0, 255},
		{Int{Unsigned, 32}, 0, 4294967295},
		{Int{SignMagnitude, 2}, -1, 1},
		{Int{SignMagnitude, 4}, -7, 7},
		{Int{SignMagnitude, 8}, -127, 127},
		{Int{SignMagnitude, 32}, -2147483647, 2147483647},
		{Int{TwosComplement, 1}, -1, 0},
		{Int{TwosComplement, 4}, -8, 7},
		{Int{TwosComplement, 8}, -128, 127},
		{Int{TwosComplement, 32}, -2147483648, 2147483647},
	} {
		if test.f.Min() != test.min || test.f.Max() != test.max {
			t.Errorf("%v: range [%d, %d], want [%d, %d]", test.f, test.f.Min(), test.f.Max(), test.min, test.max)
		}
		// The ends encode and decode back; one past them is ErrRange and
		// saturates to them.
		for _, v := range []int64{test.min, test.max} {
			p, err := test.f.Encode(v)
			if err != nil {
				t.Errorf("%v: Encode(%d): %v", test.f, v, err)
			}
			if got, _ := test.f.Decode(p); got != v {
				t.Errorf("%v: Decode(Encode(%d)) = %d", test.f, v, got)
			}
		}
		for _, c := range []struct{ v, sat int64 }{{test.min - 1, test.min}, {test.max + 1, test.max}} {
			if _, err := test.f.Encode(c.v); !errors.Is(err, ErrRange) {
				t.Errorf("%v: Encode(%d) error %v, want ErrRange", test.f, c.v, err)
			}
			want, _ := test.f.Encode(c.sat)
			if got := test.f.EncodeSat(c.v); got != want {
				t.Errorf("%v: EncodeSat(%d) = %#x, want %#x", test.f, c.v, got, want)
			}
		}
	}
}

func TestIntPatterns(t *testing.T) {
	for _, test := range []struct {
		f    Int
		v    int64
		bits string
	}{
		{Int{TwosComplement, 8}, -1, "11111111"},
		{Int{TwosComplement, 8}, -128, "10000000"},
		{Int{SignMagnitude, 8}, -1, "10000001"},
		{Int{SignMagnitude, 8}, -127, "11111111"},
		{Int{Unsigned, 3}, 5, "101"},
		{Int{TwosComplement, 32}, -2, "11111111111111111111111111111110"},
		{Int{SignMagnitude, 32}, -2, "10000000000000000000000000000010"},
	} {
		p, err := test.f.Encode(test.v)
		if err != nil || test.f.BitString(p) != test.bits {
			t.Errorf("%v: Encode(%d) = %s, %v; want %s", test.f, test.v, test.f.BitString(p), err, test.bits)
		}
	}
}

func TestIntErrors(t *testing.T) {
	for _, f := range []Int{{Unsigned, 0}, {Unsigned, 33}, {SignMagnitude, 1}, {TwosComplement, -1}, {IntKind(7), 8}} {
		if err := f.Validate(); !errors.Is(err, ErrFormat) {
			t.Errorf("%v: Validate() = %v, want ErrFormat", f, err)
		}
		if _, err := f.Encode(0); !errors.Is(err, ErrFormat) {
			t.Errorf("%v: Encode error %v, want ErrFormat", f, err)
		}
	}
	f := Int{TwosComplement, 4}
	if _, err := f.Decode(0x10); !errors.Is(err, ErrPattern) {
		t.Errorf("Decode(0x10) error %v, want ErrPattern", err)
	}
	for _, s := range []string{"101", "10101", "10a1", ""} {
		if _, err := f.ParseBits(s); !errors.Is(err, ErrPattern) {
			t.Errorf("ParseBits(%q) error %v, want ErrPattern", s, err)
		}
	}
}
