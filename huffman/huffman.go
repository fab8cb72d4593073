package huffman

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// MaxCodeLen is the longest codeword supported. Huffman lengths exceed it only
// when the total frequency is beyond ~10^10 (Fibonacci-like frequencies).
const MaxCodeLen = 48

// MaxSymbols bounds the alphabet size accepted from serialised tables.
const MaxSymbols = 1 << 24

// tableBits is the width of the direct decoding table.
const tableBits = 11

// Sentinel errors; the returned errors wrap them with details.
var (
	ErrTooLong    = errors.New("huffman: code length exceeds MaxCodeLen")
	ErrOverflow   = errors.New("huffman: total frequency overflows uint64")
	ErrLengths    = errors.New("huffman: invalid code lengths")
	ErrSymbol     = errors.New("huffman: symbol outside the code")
	ErrCorrupt    = errors.New("huffman: corrupt bit stream")
	ErrTruncated  = errors.New("huffman: truncated input")
	ErrTooManySym = errors.New("huffman: alphabet too large")
)

// Code is a canonical prefix code over the symbols 0..NumSymbols()-1.
// It is immutable after construction and safe for concurrent use.
type Code struct {
	lens   []uint8  // code length per symbol, 0 = no codeword
	codes  []uint64 // canonical codeword per symbol (low lens[s] bits)
	maxLen int

	// Canonical decoding: codewords of length l are first[l], first[l]+1,
	// ..., first[l]+count[l]-1, for the symbols sorted[offset[l]:].
	count  [MaxCodeLen + 1]uint64
	first  [MaxCodeLen + 1]uint64
	offset [MaxCodeLen + 1]int
	sorted []int32
	// table[peek of tableBits bits] = sym<<8 | len, len 0 = longer code.
	table []uint32
	tbits int
}

// New builds the Huffman code for freq, where freq[s] is the count of
// symbol s. Symbols of frequency 0 get no codeword. An all-zero freq gives an
// empty code (it encodes only the empty stream).
func New(freq []uint64) (*Code, error) {
	if len(freq) > MaxSymbols {
		return nil, fmt.Errorf("%w: %d symbols", ErrTooManySym, len(freq))
	}
	// Leaves sorted by (freq, symbol); two-queue Huffman construction: merged
	// nodes are created in non-decreasing weight order, so the cheapest two
	// are at the queue fronts. Ties prefer leaves (shorter longest codeword).
	var leaves []int32
	for s, f := range freq {
		if f > 0 {
			leaves = append(leaves, int32(s))
		}
	}
	slices.SortFunc(leaves, func(a, b int32) int {
		if freq[a] != freq[b] {
			if freq[a] < freq[b] {
				return -1
			}
			return 1
		}
		return int(a - b)
	})
	lens := make([]uint8, len(freq))
	m := len(leaves)
	switch m {
	case 0:
		return FromLengths(lens)
	case 1:
		lens[leaves[0]] = 1
		return FromLengths(lens)
	}
	w := make([]uint64, 2*m-1)
	parent := make([]int32, 2*m-1)
	for i, s := range leaves {
		w[i] = freq[s]
	}
	i, j, next := 0, m, m
	pick := func() int {
		if i < m && (j >= next || w[i] <= w[j]) {
			i++
			return i - 1
		}
		j++
		return j - 1
	}
	for next < 2*m-1 {
		a, b := pick(), pick()
		w[next] = w[a] + w[b]
		if w[next] < w[a] {
			return nil, ErrOverflow
		}
		parent[a], parent[b] = int32(next), int32(next)
		next++
	}
	depth := make([]int32, 2*m-1)
	for x := 2*m - 3; x >= 0; x-- {
		depth[x] = depth[parent[x]] + 1
	}
	for x, s := range leaves {
		if depth[x] > MaxCodeLen {
			return nil, fmt.Errorf("%w: symbol %d needs %d bits", ErrTooLong, s, depth[x])
		}
		lens[s] = uint8(depth[x])
	}
	return FromLengths(lens)
}

// FromLengths builds the canonical code with the given code lengths
// (lens[s] = 0: symbol s has no codeword). The lengths must satisfy the Kraft
// inequality; an incomplete code is accepted (unused codewords fail to decode).
func FromLengths(lens []uint8) (*Code, error) {
	if len(lens) > MaxSymbols {
		return nil, fmt.Errorf("%w: %d symbols", ErrTooManySym, len(lens))
	}
	c := &Code{lens: slices.Clone(lens), codes: make([]uint64, len(lens))}
	for s, l := range lens {
		if l > MaxCodeLen {
			return nil, fmt.Errorf("%w: symbol %d has length %d > %d", ErrLengths, s, l, MaxCodeLen)
		}
		if l > 0 {
			c.count[l]++
			c.maxLen = max(c.maxLen, int(l))
		}
	}
	// Kraft: sum 2^-l <= 1, checked exactly in units of 2^-MaxCodeLen.
	var kraft uint64
	for l := 1; l <= MaxCodeLen; l++ {
		if c.count[l] > 1<<l {
			return nil, fmt.Errorf("%w: over-subscribed (%d codes of length %d)", ErrLengths, c.count[l], l)
		}
		kraft += c.count[l] << (MaxCodeLen - l)
	}
	if kraft > 1<<MaxCodeLen {
		return nil, fmt.Errorf("%w: over-subscribed (Kraft sum > 1)", ErrLengths)
	}
	var code uint64
	off := 0
	for l := 1; l <= MaxCodeLen; l++ {
		code <<= 1
		c.first[l] = code
		c.offset[l] = off
		code += c.count[l]
		off += int(c.count[l])
	}
	c.sorted = make([]int32, off)
	next := c.first
	pos := c.offset
	for l := 1; l <= c.maxLen; l++ {
		for s, sl := range lens {
			if int(sl) == l {
				c.codes[s] = next[l]
				next[l]++
				c.sorted[pos[l]] = int32(s)
				pos[l]++
			}
		}
	}
	c.tbits = min(tableBits, c.maxLen)
	if c.tbits > 0 {
		c.table = make([]uint32, 1<<c.tbits)
		for s, l := range lens {
			if l == 0 || int(l) > c.tbits {
				continue
			}
			lo := c.codes[s] << (c.tbits - int(l))
			for k := uint64(0); k < 1<<(c.tbits-int(l)); k++ {
				c.table[lo+k] = uint32(s)<<8 | uint32(l)
			}
		}
	}
	return c, nil
}

// NumSymbols returns the alphabet size.
func (c *Code) NumSymbols() int { return len(c.lens) }

// MaxLen returns the longest code length (0 for an empty code).
func (c *Code) MaxLen() int { return c.maxLen }

// Len returns the code length of symbol s (0 if it has no codeword or is
// outside the alphabet).
func (c *Code) Len(s int) int {
	if s < 0 || s >= len(c.lens) {
		return 0
	}
	return int(c.lens[s])
}

// Lengths returns a copy of the code lengths.
func (c *Code) Lengths() []uint8 { return slices.Clone(c.lens) }

// Codeword returns the codeword of s (in the low length bits) and its length.
func (c *Code) Codeword(s int) (uint64, int) {
	if s < 0 || s >= len(c.lens) {
		return 0, 0
	}
	return c.codes[s], int(c.lens[s])
}

// Bits returns Σ freq[s]·Len(s), the encoded size in bits of a stream with
// these symbol counts, or an error if a counted symbol has no codeword.
func (c *Code) Bits(freq []uint64) (uint64, error) {
	var b uint64
	for s, f := range freq {
		if f == 0 {
			continue
		}
		if s >= len(c.lens) || c.lens[s] == 0 {
			return 0, fmt.Errorf("%w: %d", ErrSymbol, s)
		}
		b += f * uint64(c.lens[s])
	}
	return b, nil
}

// Histogram counts the symbols of syms over an alphabet of n symbols.
func Histogram(syms []int32, n int) ([]uint64, error) {
	h := make([]uint64, n)
	for i, s := range syms {
		if s < 0 || int(s) >= n {
			return nil, fmt.Errorf("%w: symbol %d at %d, alphabet %d", ErrSymbol, s, i, n)
		}
		h[s]++
	}
	return h, nil
}

// Encode appends the codewords of syms to dst, starting at a byte boundary,
// and returns the extended slice and the number of bits written (the last
// byte is zero-padded).
func (c *Code) Encode(dst []byte, syms []int32) ([]byte, int, error) {
	var acc uint64
	nacc, nbits := 0, 0
	for i, s := range syms {
		if s < 0 || int(s) >= len(c.lens) || c.lens[s] == 0 {
			return dst, 0, fmt.Errorf("%w: %d at index %d", ErrSymbol, s, i)
		}
		l := int(c.lens[s])
		acc = acc<<l | c.codes[s] // nacc < 8 and l <= 48: fits
		nacc += l
		nbits += l
		for nacc >= 8 {
			nacc -= 8
			dst = append(dst, byte(acc>>nacc))
		}
	}
	if nacc > 0 {
		dst = append(dst, byte(acc<<(8-nacc)))
	}
	return dst, nbits, nil
}

// Decode decodes exactly n symbols from the first nbits bits of src,
// appending them to dst. It fails if the stream is shorter than nbits, holds
// a codeword the code does not have, or does not end exactly at nbits.
func (c *Code) Decode(dst []int32, src []byte, nbits, n int) ([]int32, error) {
	if nbits < 0 || n < 0 || (nbits+7)/8 > len(src) {
		return dst, fmt.Errorf("%w: %d bits in %d bytes", ErrTruncated, nbits, len(src))
	}
	if n > 0 && c.maxLen == 0 {
		return dst, fmt.Errorf("%w: empty code cannot decode %d symbols", ErrCorrupt, n)
	}
	if n > nbits { // every codeword has at least one bit
		return dst, fmt.Errorf("%w: %d symbols in %d bits", ErrCorrupt, n, nbits)
	}
	dst = slices.Grow(dst, n)
	pos := 0
	for k := 0; k < n; k++ {
		p := peek(src, pos) // next 56+ bits, MSB aligned
		var s int32
		l := 0
		if e := c.table[p>>(64-c.tbits)]; e&0xff != 0 {
			s, l = int32(e>>8), int(e&0xff)
		} else {
			for l = c.tbits + 1; l <= c.maxLen; l++ {
				v := p >> (64 - l)
				if d := v - c.first[l]; v >= c.first[l] && d < c.count[l] {
					s = c.sorted[c.offset[l]+int(d)]
					break
				}
			}
			if l > c.maxLen {
				return dst, fmt.Errorf("%w: no codeword at bit %d (symbol %d)", ErrCorrupt, pos, k)
			}
		}
		pos += l
		if pos > nbits {
			return dst, fmt.Errorf("%w: symbol %d runs past bit %d", ErrTruncated, k, nbits)
		}
		dst = append(dst, s)
	}
	if pos != nbits {
		return dst, fmt.Errorf("%w: %d bits left after %d symbols", ErrCorrupt, nbits-pos, n)
	}
	return dst, nil
}

// peek returns 64 bits of src starting at bit pos, zero past the end; at
// least the top 56 are meaningful.
func peek(src []byte, pos int) uint64 {
	i := pos >> 3
	if i+8 <= len(src) {
		return binary.BigEndian.Uint64(src[i:]) << (pos & 7)
	}
	var b [8]byte
	if i < len(src) {
		copy(b[:], src[i:])
	}
	return binary.BigEndian.Uint64(b[:]) << (pos & 7)
}

// AppendTable appends the compact serialisation of the code to dst: the
// alphabet size (uvarint), the bit width w of one length (one byte), then the
// n lengths in w bits each, MSB first, zero-padded to a byte.
func (c *Code) AppendTable(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(c.lens)))
	w := 0
	for 1<<w <= c.maxLen {
		w++
	}
	dst = append(dst, byte(w))
	var acc uint64
	nacc := 0
	for _, l := range c.lens {
		acc = acc<<w | uint64(l)
		nacc += w
		for nacc >= 8 {
			nacc -= 8
			dst = append(dst, byte(acc>>nacc))
		}
	}
	if nacc > 0 {
		dst = append(dst, byte(acc<<(8-nacc)))
	}
	return dst
}

// TableBits returns the size in bits of the serialised table.
func (c *Code) TableBits() int { return 8 * len(c.AppendTable(nil)) }

// ReadTable reads a table written by AppendTable from the start of src and
// returns the code and the number of bytes read.
func ReadTable(src []byte) (*Code, int, error) {
	n, k := binary.Uvarint(src)
	if k <= 0 {
		return nil, 0, fmt.Errorf("%w: table size", ErrTruncated)
	}
	if n > MaxSymbols {
		return nil, 0, fmt.Errorf("%w: %d symbols", ErrTooManySym, n)
	}
	if k >= len(src) {
		return nil, 0, fmt.Errorf("%w: table width", ErrTruncated)
	}
	w := int(src[k])
	k++
	if w > 6 {
		return nil, 0, fmt.Errorf("%w: length width %d", ErrLengths, w)
	}
	nb := (int(n)*w + 7) / 8
	if len(src)-k < nb {
		return nil, 0, fmt.Errorf("%w: table needs %d bytes, %d left", ErrTruncated, nb, len(src)-k)
	}
	lens := make([]uint8, n)
	if w > 0 {
		for i := range lens {
			p := peek(src[k:k+nb], i*w)
			lens[i] = uint8(p >> (64 - w))
		}
	}
	c, err := FromLengths(lens)
	if err != nil {
		return nil, 0, err
	}
	return c, k + nb, nil
}
