package numerics

import "fmt"

// BitString returns the n low bits of p as a string of '0' and '1', most
// significant bit first; BitString(11, 4) == "1011". n is clamped to [0, 64].
func BitString(p uint64, n int) string {
	n = max(0, min(n, 64))
	b := make([]byte, n)
	for i := range n {
		b[n-1-i] = '0' + byte(p>>uint(i)&1)
	}
	return string(b)
}

// ParseBits parses a string of '0' and '1' (most significant bit first, at
// most 64 digits) into its pattern and number of bits. Characters ' ', '_'
// and '.' are separators and are skipped, so the output of BitString,
// Parts.String and Fixed.BitString parses back.
func ParseBits(s string) (p uint64, n int, err error) {
	for i, c := range s {
		switch c {
		case '0', '1':
			if n == 64 {
				return 0, 0, fmt.Errorf("%w: %q has more than 64 bits", ErrPattern, s)
			}
			p = p<<1 | uint64(c-'0')
			n++
		case ' ', '_', '.':
		default:
			return 0, 0, fmt.Errorf("%w: %q: character %q at %d is not a bit", ErrPattern, s, c, i)
		}
	}
	if n == 0 {
		return 0, 0, fmt.Errorf("%w: %q has no bits", ErrPattern, s)
	}
	return p, n, nil
}
