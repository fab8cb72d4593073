package intmodel

import (
	"errors"
	"fmt"
)

// ErrPack is wrapped by Pack and Unpack errors.
var ErrPack = errors.New("intmodel: pack")

// PackedLen is the number of bytes n values of the given width occupy:
// ceil(n·bits/8).
func PackedLen(n, bits int) int { return (n*bits + 7) / 8 }

// Pack stores src as bits-wide two's complement integers, densely, in
// little-endian bit order: value i occupies bits i·bits … i·bits+bits−1 of
// the stream, least significant bit first, where stream bit j is bit j%8 of
// byte j/8. So with bits=4, values a, b pack into the byte b<<4 | a&15, and
// with bits=3, values a, b, c put a in bits 0-2, b in bits 3-5 and c's two
// low bits in bits 6-7 of byte 0, its top bit in bit 0 of byte 1. Unused
// bits of the last byte are zero. Every value must lie in
// [-2^(bits-1), 2^(bits-1)-1] and dst must hold PackedLen(len(src), bits)
// bytes; dst's first PackedLen bytes are overwritten.
func Pack(dst []byte, src []int8, bits int) error {
	if bits < 1 || bits > 8 {
		return fmt.Errorf("%w: bits %d, want 1..8", ErrPack, bits)
	}
	n := PackedLen(len(src), bits)
	if len(dst) < n {
		return fmt.Errorf("%w: %d bytes for %d %d-bit values, want %d", ErrPack, len(dst), len(src), bits, n)
	}
	lo, hi := int8(-1<<(bits-1)), int8(1<<(bits-1)-1)
	if bits == 8 {
		for i, v := range src {
			dst[i] = byte(v)
		}
		return nil
	}
	clear(dst[:n])
	mask := uint32(1)<<bits - 1
	pos := 0
	for i, v := range src {
		if v < lo || v > hi {
			return fmt.Errorf("%w: value %d (%d) outside the %d-bit range [%d, %d]", ErrPack, i, v, bits, lo, hi)
		}
		u := (uint32(uint8(v)) & mask) << (pos & 7)
		dst[pos>>3] |= byte(u)
		if u > 0xff {
			dst[pos>>3+1] |= byte(u >> 8)
		}
		pos += bits
	}
	return nil
}

// Unpack is the inverse of Pack: it reads len(dst) bits-wide values from
// src and sign-extends them into dst. src must hold PackedLen(len(dst), bits)
// bytes.
func Unpack(dst []int8, src []byte, bits int) error {
	if bits < 1 || bits > 8 {
		return fmt.Errorf("%w: bits %d, want 1..8", ErrPack, bits)
	}
	n := PackedLen(len(dst), bits)
	if len(src) < n {
		return fmt.Errorf("%w: %d bytes hold fewer than %d %d-bit values (need %d)", ErrPack, len(src), len(dst), bits, n)
	}
	if bits == 8 {
		for i := range dst {
			dst[i] = int8(src[i])
		}
		return nil
	}
	mask := uint32(1)<<bits - 1
	shift := 32 - bits
	pos := 0
	for i := range dst {
		u := uint32(src[pos>>3])
		if pos&7+bits > 8 {
			u |= uint32(src[pos>>3+1]) << 8
		}
		u = (u >> (pos & 7)) & mask
		dst[i] = int8(int32(u<<shift) >> shift) // sign-extend from bit bits-1
		pos += bits
	}
	return nil
}
