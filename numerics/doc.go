// Package numerics implements the number formats that quantized neural
// networks are stored and simulated in: n-bit integers (unsigned,
// sign-magnitude, two's complement), two's complement fixed point
// fixed<w,b>, and binary floating-point formats (FP32, FP16, BF16, TF32 and
// the OCP 8-bit formats E4M3 and E5M2) described by their exponent and
// mantissa widths.
//
// Every format is a small value (Int, Fixed, Format) whose methods encode a
// number to the format's bit pattern, decode a pattern, and report the
// format's range. Float formats also decompose a pattern into its sign,
// exponent and fraction fields, and round float32 values to the format with
// round-to-nearest-even, subnormals and the format's own overflow rule
// (±Inf for IEEE-like formats, saturation for E4M3). RoundSlice applies that
// rounding to a whole slice without allocating, so that a layer can be
// simulated in BF16 or FP8 inside a float32 training graph.
//
// The float value of a pattern is (-1)^s · 1.f · 2^(e-bias) with
// bias = 2^(k-1)-1 for k exponent bits (IEEE 754), and
// (-1)^s · 0.f · 2^(1-bias) for subnormals (e = 0).
package numerics
