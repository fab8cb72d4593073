package huffman

import (
	"bytes"
	"errors"
	"math/rand"
	"slices"
	"testing"
)

func TestTextbook(t *testing.T) {
	// CLRS 16.3: a:45 b:13 c:12 d:16 e:9 f:5 (per 100) -> lengths 1,3,3,3,4,4,
	// 224 bits per 100 symbols (2.24 bits each) vs 300 for a fixed 3-bit code.
	freq := []uint64{45, 13, 12, 16, 9, 5}
	c, err := New(freq)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint8{1, 3, 3, 3, 4, 4}; !slices.Equal(c.Lengths(), want) {
		t.Fatalf("lengths %v, want %v", c.Lengths(), want)
	}
	bits, _ := c.Bits(freq)
	if bits != 224 {
		t.Fatalf("bits %d, want 224", bits)
	}
	// Canonical codewords in (length, symbol) order:
	// a=0, b=100, c=101, d=110, e=1110, f=1111.
	for s, want := range []struct {
		code uint64
		l    int
	}{{0b0, 1}, {0b100, 3}, {0b101, 3}, {0b110, 3}, {0b1110, 4}, {0b1111, 4}} {
		if code, l := c.Codeword(s); code != want.code || l != want.l {
			t.Errorf("symbol %d: code %b/%d, want %b/%d", s, code, l, want.code, want.l)
		}
	}
	// "face" = f a c e = 1111 0 101 1110 -> 11110101 1110(0000), 12 bits.
	data, nbits, err := c.Encode(nil, []int32{5, 0, 2, 4})
	if err != nil {
		t.Fatal(err)
	}
	if nbits != 12 || !bytes.Equal(data, []byte{0b11110101, 0b11100000}) {
		t.Fatalf("encoded %08b (%d bits)", data, nbits)
	}
	got, err := c.Decode(nil, data, nbits, 4)
	if err != nil || !slices.Equal(got, []int32{5, 0, 2, 4}) {
		t.Fatalf("decoded %v %v", got, err)
	}
}

func TestLengthsTable(t *testing.T) {
	for i, test := range []struct {
		freq []uint64
		want []uint8
	}{
		{[]uint64{1, 1, 2, 4}, []uint8{3, 3, 2, 1}},
		{[]uint64{5, 5, 5, 5}, []uint8{2, 2, 2, 2}},
		{[]uint64{0, 7, 0}, []uint8{0, 1, 0}}, // one symbol: "0"
		{[]uint64{0, 0}, []uint8{0, 0}},       // empty code
		{[]uint64{1, 0, 1}, []uint8{1, 0, 1}},
		// Fibonacci frequencies give the deepest tree: 1,1,2,3,5 -> 4,4,3,2,1.
		{[]uint64{1, 1, 2, 3, 5}, []uint8{4, 4, 3, 2, 1}},
		// Ties: three symbols of equal weight; leaves first, lower symbols
		// merged first: {0,1} then {2,(01)} -> 2,2,1.
		{[]uint64{3, 3, 3}, []uint8{2, 2, 1}},
	} {
		c, err := New(test.freq)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !slices.Equal(c.Lengths(), test.want) {
			t.Errorf("%d: lengths %v, want %v", i, c.Lengths(), test.want)
		}
	}
}

func TestSingleSymbol(t *testing.T) {
	c, err := New([]uint64{0, 0, 9})
	if err != nil {
		t.Fatal(err)
	}
	syms := []int32{2, 2, 2, 2, 2}
	data, nbits, err := c.Encode(nil, syms)
	if err != nil || nbits != 5 || !bytes.Equal(data, []byte{0}) {
		t.Fatalf("%v %d %v", data, nbits, err)
	}
	got, err := c.Decode(nil, data, nbits, 5)
	if err != nil || !slices.Equal(got, syms) {
		t.Fatalf("%v %v", got, err)
	}
	// Bit "1" is not a codeword of a 1-symbol code.
	if _, err := c.Decode(nil, []byte{0x80}, 1, 1); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err %v", err)
	}
	if _, _, err := c.Encode(nil, []int32{0}); !errors.Is(err, ErrSymbol) {
		t.Fatalf("err %v", err)
	}
}

func TestEmptyCode(t *testing.T) {
	c, err := New([]uint64{0, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	data, nbits, err := c.Encode(nil, nil)
	if err != nil || nbits != 0 || len(data) != 0 {
		t.Fatal(data, nbits, err)
	}
	if got, err := c.Decode(nil, nil, 0, 0); err != nil || len(got) != 0 {
		t.Fatal(got, err)
	}
	if _, err := c.Decode(nil, []byte{0}, 8, 1); !errors.Is(err, ErrCorrupt) {
		t.Fatal(err)
	}
}

func TestRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for trial := 0; trial < 200; trial++ {
		n := 1 + rng.Intn(300)
		freq := make([]uint64, n)
		for s := range freq {
			if rng.Intn(4) > 0 {
				// Geometric-ish spread gives long codewords (past the table).
				freq[s] = uint64(1 + rng.Intn(1<<uint(rng.Intn(20))))
			}
		}
		c, err := New(freq)
		if err != nil {
			t.Fatal(err)
		}
		var alive []int32
		for s, f := range freq {
			if f > 0 {
				alive = append(alive, int32(s))
			}
		}
		syms := make([]int32, rng.Intn(2000))
		for i := range syms {
			if len(alive) == 0 {
				syms = syms[:0]
				break
			}
			syms[i] = alive[rng.Intn(len(alive))]
		}
		prefix := []byte{0xAA}
		data, nbits, err := c.Encode(prefix, syms)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decode(nil, data[1:], nbits, len(syms))
		if err != nil || !slices.Equal(got, syms) {
			t.Fatalf("trial %d: round trip failed: %v", trial, err)
		}
		// Table round trip gives the same code.
		tab := c.AppendTable(nil)
		c2, k, err := ReadTable(append(tab, 1, 2, 3))
		if err != nil || k != len(tab) || !slices.Equal(c2.Lengths(), c.Lengths()) {
			t.Fatalf("trial %d: table round trip: %v", trial, err)
		}
		// Truncated streams fail cleanly, never panic.
		if nbits > 0 {
			if _, err := c.Decode(nil, data[1:], nbits-1, len(syms)); err == nil {
				t.Fatalf("trial %d: short stream decoded", trial)
			}
		}
	}
}

func TestKraftAndTableErrors(t *testing.T) {
	if _, err := FromLengths([]uint8{1, 1, 1}); !errors.Is(err, ErrLengths) {
		t.Error(err)
	}
	if _, err := FromLengths([]uint8{49}); !errors.Is(err, ErrLengths) {
		t.Error(err)
	}
	// Incomplete but valid: {1, 2} leaves "11" unused.
	c, err := FromLengths([]uint8{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decode(nil, []byte{0xC0}, 2, 1); !errors.Is(err, ErrCorrupt) {
		t.Error(err)
	}
	for i, b := range [][]byte{
		nil,
		{3},                               // no width byte
		{3, 2},                            // no lengths
		{3, 7, 0},                         // width too large
		{3, 2, 0b01010100},                // lengths 1,1,1: over-subscribed
		{0xff, 0xff, 0xff, 0xff, 0x7f, 1}, // huge alphabet
	} {
		if _, _, err := ReadTable(b); err == nil {
			t.Errorf("%d: ReadTable(%v) succeeded", i, b)
		}
	}
}

func TestTableSize(t *testing.T) {
	// The textbook code: n = 6 (1 byte), width 3 bits (max length 4) (1
	// byte), 6·3 = 18 bits -> 3 bytes: 5 bytes = 40 bits.
	c, _ := New([]uint64{45, 13, 12, 16, 9, 5})
	if c.TableBits() != 40 {
		t.Fatalf("table bits %d", c.TableBits())
	}
}

func benchData(n int) (*Code, []int32) {
	// 32 cluster indices with a peaked (roughly Gaussian) histogram.
	rng := rand.New(rand.NewSource(1))
	syms := make([]int32, n)
	freq := make([]uint64, 32)
	for i := range syms {
		s := int32(16 + rng.NormFloat64()*5)
		s = min(31, max(0, s))
		syms[i] = s
		freq[s]++
	}
	c, _ := New(freq)
	return c, syms
}

func BenchmarkEncode(b *testing.B) {
	c, syms := benchData(1 << 20)
	buf := make([]byte, 0, 1<<20)
	b.SetBytes(int64(len(syms))) // one symbol = one byte of input
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf, _, _ = c.Encode(buf[:0], syms)
	}
}

func BenchmarkDecode(b *testing.B) {
	c, syms := benchData(1 << 20)
	data, nbits, _ := c.Encode(nil, syms)
	out := make([]int32, 0, len(syms))
	b.SetBytes(int64(len(syms)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, _ = c.Decode(out[:0], data, nbits, len(syms))
	}
	b.ReportMetric(float64(nbits)/float64(len(syms)), "bits/sym")
}
