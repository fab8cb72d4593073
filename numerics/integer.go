package numerics

import "fmt"

// IntKind says how an n-bit integer format maps patterns to values.
type IntKind int

const (
	// Unsigned: value = pattern, range [0, 2^n-1].
	Unsigned IntKind = iota
	// SignMagnitude: the top bit is the sign, the other n-1 bits the
	// magnitude; range [-(2^(n-1)-1), 2^(n-1)-1], with two zeros (0 and
	// 100…0, "negative zero").
	SignMagnitude
	// TwosComplement: the top bit weighs -2^(n-1); range [-2^(n-1), 2^(n-1)-1].
	TwosComplement
)

func (k IntKind) String() string {
	switch k {
	case Unsigned:
		return "unsigned"
	case SignMagnitude:
		return "sign-magnitude"
	case TwosComplement:
		return "two's complement"
	}
	return fmt.Sprintf("IntKind(%d)", int(k))
}

// Int is an n-bit integer format. Patterns are held right-aligned in a
// uint32.
type Int struct {
	Kind IntKind
	Bits int // n: 1..32 (2..32 for SignMagnitude)
}

// Validate reports whether the format is usable: 1 <= Bits <= 32, and at
// least 2 bits for sign-magnitude (1 bit would hold only the sign).
func (t Int) Validate() error {
	lo := 1
	switch t.Kind {
	case Unsigned, TwosComplement:
	case SignMagnitude:
		lo = 2
	default:
		return fmt.Errorf("%w: unknown integer kind %d", ErrFormat, int(t.Kind))
	}
	if t.Bits < lo || t.Bits > 32 {
		return fmt.Errorf("%w: %v integer with %d bits (want %d..32)", ErrFormat, t.Kind, t.Bits, lo)
	}
	return nil
}

func (t Int) String() string { return fmt.Sprintf("int%d %v", t.Bits, t.Kind) }

// Min returns the smallest value of the format (0 for an invalid format).
func (t Int) Min() int64 {
	if t.Validate() != nil {
		return 0
	}
	switch t.Kind {
	case SignMagnitude:
		return -(int64(1)<<(t.Bits-1) - 1)
	case TwosComplement:
		return -int64(1) << (t.Bits - 1)
	}
	return 0
}

// Max returns the largest value of the format (0 for an invalid format).
func (t Int) Max() int64 {
	if t.Validate() != nil {
		return 0
	}
	if t.Kind == Unsigned {
		return int64(1)<<t.Bits - 1
	}
	return int64(1)<<(t.Bits-1) - 1
}

func (t Int) mask() uint32 { return uint32(uint64(1)<<t.Bits - 1) }

// Encode returns the pattern of v. A value outside [Min, Max] is an error
// wrapping ErrRange. Sign-magnitude encodes 0 as the all-zero pattern.
func (t Int) Encode(v int64) (uint32, error) {
	if err := t.Validate(); err != nil {
		return 0, err
	}
	if v < t.Min() || v > t.Max() {
		return 0, fmt.Errorf("%w: %d is outside %v range [%d, %d]", ErrRange, v, t, t.Min(), t.Max())
	}
	return t.encode(v), nil
}

// EncodeSat returns the pattern of v clamped to [Min, Max] (0 for an
// invalid format).
func (t Int) EncodeSat(v int64) uint32 {
	if t.Validate() != nil {
		return 0
	}
	return t.encode(min(max(v, t.Min()), t.Max()))
}

func (t Int) encode(v int64) uint32 {
	if t.Kind == SignMagnitude && v < 0 {
		return uint32(1)<<(t.Bits-1) | uint32(-v)
	}
	// Unsigned, non-negative sign-magnitude, and two's complement (whose
	// pattern is the low n bits of the machine's two's complement).
	return uint32(v) & t.mask()
}

// Decode returns the value of pattern p. A pattern with bits set above the
// format's n bits is an error wrapping ErrPattern. Sign-magnitude negative
// zero (100…0) decodes to 0.
func (t Int) Decode(p uint32) (int64, error) {
	if err := t.Validate(); err != nil {
		return 0, err
	}
	if p&^t.mask() != 0 {
		return 0, fmt.Errorf("%w: %#x has bits above the %d bits of %v", ErrPattern, p, t.Bits, t)
	}
	top := uint32(1) << (t.Bits - 1)
	switch t.Kind {
	case SignMagnitude:
		if p&top != 0 {
			return -int64(p &^ top), nil
		}
	case TwosComplement:
		if p&top != 0 {
			return int64(p) - int64(1)<<t.Bits, nil
		}
	}
	return int64(p), nil
}

// BitString returns the n-bit string of pattern p, e.g. "1011".
func (t Int) BitString(p uint32) string { return BitString(uint64(p), t.Bits) }

// ParseBits parses an n-bit string such as "1011" into a pattern; the string
// must have exactly Bits digits.
func (t Int) ParseBits(s string) (uint32, error) {
	if err := t.Validate(); err != nil {
		return 0, err
	}
	p, n, err := ParseBits(s)
	if err != nil {
		return 0, err
	}
	if n != t.Bits {
		return 0, fmt.Errorf("%w: %q has %d bits, %v needs %d", ErrPattern, s, n, t, t.Bits)
	}
	return uint32(p), nil
}
