package cgen

// The C kernels, emitted into the model's .c file only when a layer uses
// them (an unused static function would trip -Wunused-function under
// -Werror). Each has a name, the kernels it calls, and its text.
//
// Activations are one byte per value, "storage codes": the code itself for
// an unsigned type, code + 2^(bits−1) for a signed one (as package
// intruntime stores them), so that one uint8 kernel serves both and max
// pooling can compare bytes. Quantized layers subtract the input zero point
// (in storage codes) while building int16 columns, so padding is 0 and the
// raw bias q_b is added to Σ w·(x − Z_X).
//
// Weight rows are padded to k4 (a multiple of 4) and quad-permuted when
// generated: position 4q+{0,1,2,3} holds w[4q+{0,2,1,3}]. With that order
// the Cortex-M DSP path turns one 32-bit load of four int8 weights into the
// pairs (w0, w1) and (w2, w3) with two SXTB16 and multiplies them with the
// int16 columns in their natural order by SMLAD; the portable path reads
// the same layout. Packed 2- and 4-bit rows are also stored in an order that
// lets unpack sign-extend a 32-bit word of them in a few SWAR operations
// (see wstream in ops.go).
type kernel struct {
	name string
	deps []string
	src  string
}

var kernelList = []kernel{
	{name: "fixedpoint", src: cFixedPoint},
	{name: "ld32", src: cLd32},
	{name: "dot1", deps: []string{"ld32"}, src: cDot1},
	{name: "dot4", deps: []string{"ld32"}, src: cDot4},
	{name: "unpack", src: cUnpack},
	{name: "requant", deps: []string{"fixedpoint"}, src: cRequant},
	{name: "qlayer", deps: []string{"requant"}, src: cQLayer},
	{name: "convstruct", deps: []string{"qlayer"}, src: cConvStruct},
	{name: "im2col", deps: []string{"convstruct"}, src: cIm2col},
	{name: "conv2d_grouped", deps: []string{"convstruct"}, src: cConvGrouped},
	{name: "conv2d", deps: []string{"im2col", "dot4", "dot1"}, src: cConv2d},
	{name: "conv2d_maxpool2", deps: []string{"im2col", "dot4"}, src: cConvPool},
	{name: "linear", deps: []string{"qlayer", "dot1"}, src: cLinear},
	{name: "pool", src: cPool},
	{name: "maxpool2d", deps: []string{"pool"}, src: cMaxPool},
	{name: "avgpool2d", deps: []string{"pool"}, src: cAvgPool},
	{name: "rescale", deps: []string{"fixedpoint"}, src: cRescale},
	{name: "avgpool2d_rescale", deps: []string{"pool", "rescale"}, src: cAvgPoolRescale},
	{name: "global_avgpool", deps: []string{"rescale"}, src: cGlobalAvgPool},
	{name: "rescale_copy", deps: []string{"rescale"}, src: cRescaleCopy},
	{name: "add", deps: []string{"fixedpoint"}, src: cAdd},
	{name: "quantize", src: cQuantize},
}

const cPrelude = `#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* QATGO_ARM_DSP selects the Cortex-M DSP kernels (SMLAD, SXTB16) on cores
   that have them (__ARM_FEATURE_DSP: Cortex-M4, M7, M33, M55); they give the
   same bits as the portable C. */
#if defined(QATGO_ARM_DSP) && defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#define USE_DSP 1
#else
#define USE_DSP 0
#endif

/* The packed 2- and 4-bit weights are read as little-endian words. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "qatgo's generated C assumes a little-endian target"
#endif

`

const cFixedPoint = `
/* gemmlowp SaturatingRoundingDoublingHighMul: the high 32 bits of 2ab,
   rounded to nearest (positive ties up, negative ties toward zero). */
static int32_t srdhm(int32_t a, int32_t b)
{
	int64_t ab;
	if (a == b && a == INT32_MIN)
		return INT32_MAX;
	ab = (int64_t)a * (int64_t)b;
	ab += ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
	return (int32_t)(ab / ((int64_t)1 << 31)); /* C division truncates, as gemmlowp's */
}

/* gemmlowp RoundingDivideByPOT: x / 2^e rounded to nearest, ties away from 0. */
static int32_t rdbpot(int32_t x, int e)
{
	int32_t mask = (int32_t)(((int64_t)1 << e) - 1);
	int32_t rem = x & mask;
	int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
	return (x >> e) + (rem > threshold ? 1 : 0);
}

/* TFLite MultiplyByQuantizedMultiplier (reference, double rounding):
   x·m0·2^(shift−31). The left shift saturates where TFLite's would overflow. */
static int32_t mbqm(int32_t x, int32_t m0, int shift)
{
	if (shift > 0) {
		int64_t v = (int64_t)x * ((int64_t)1 << shift);
		if (v > INT32_MAX)
			v = INT32_MAX;
		else if (v < INT32_MIN)
			v = INT32_MIN;
		return srdhm((int32_t)v, m0);
	}
	return rdbpot(srdhm(x, m0), -shift);
}
`

const cRequant = `
/* The output stage of a quantized layer: saturate q_b + Σ w·(x − Z_X) to
   int32, multiply, add the output zero point (wrapping, as Go's int32 does),
   clamp to [lo, hi] (storage codes; a fused ReLU raises lo). */
static uint8_t requant(int32_t dot, int32_t bias, int32_t m0, int shift, int32_t zy, int32_t lo, int32_t hi)
{
	int64_t a = (int64_t)dot + bias;
	int32_t v;
	if (a > INT32_MAX)
		a = INT32_MAX;
	else if (a < INT32_MIN)
		a = INT32_MIN;
	v = (int32_t)((uint32_t)mbqm((int32_t)a, m0, shift) + (uint32_t)zy);
	return (uint8_t)(v < lo ? lo : v > hi ? hi : v);
}
`

const cLd32 = `
#if USE_DSP
static uint32_t ld32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}
#endif
`

const cDot1 = `
/* Σ_k w·c over k4 inputs (a multiple of 4): w a quad-permuted int8 weight
   row, c an int16 column in natural order. */
static int32_t dot1(const int8_t *w, const int16_t *c, int k4)
{
	int32_t a = 0;
	int k;
#if USE_DSP
	for (k = 0; k < k4; k += 4) {
		uint32_t wq = ld32(w + k);
		a = __smlad(__sxtb16(wq), ld32(c + k), a);
		a = __smlad(__sxtb16((wq >> 8) | (wq << 24)), ld32(c + k + 2), a);
	}
#else
	for (k = 0; k < k4; k += 4)
		a += w[k] * c[k] + w[k + 2] * c[k + 1] + w[k + 1] * c[k + 2] + w[k + 3] * c[k + 3];
#endif
	return a;
}
`

const cDot4 = `
/* dot1 of one weight row with 4 columns k4 apart, into acc[0..3]. */
static void dot4(int32_t acc[4], const int8_t *w, const int16_t *c, int k4)
{
	const int16_t *c0 = c, *c1 = c + k4, *c2 = c + 2 * k4, *c3 = c + 3 * k4;
	int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
	int k;
#if USE_DSP
	for (k = 0; k < k4; k += 4) {
		uint32_t wq = ld32(w + k);
		int32_t we = __sxtb16(wq), wo = __sxtb16((wq >> 8) | (wq << 24));
		a0 = __smlad(we, ld32(c0 + k), a0);
		a0 = __smlad(wo, ld32(c0 + k + 2), a0);
		a1 = __smlad(we, ld32(c1 + k), a1);
		a1 = __smlad(wo, ld32(c1 + k + 2), a1);
		a2 = __smlad(we, ld32(c2 + k), a2);
		a2 = __smlad(wo, ld32(c2 + k + 2), a2);
		a3 = __smlad(we, ld32(c3 + k), a3);
		a3 = __smlad(wo, ld32(c3 + k + 2), a3);
	}
#else
	for (k = 0; k < k4; k += 4) {
		int32_t w0 = w[k], w1 = w[k + 1], w2 = w[k + 2], w3 = w[k + 3];
		a0 += w0 * c0[k] + w2 * c0[k + 1] + w1 * c0[k + 2] + w3 * c0[k + 3];
		a1 += w0 * c1[k] + w2 * c1[k + 1] + w1 * c1[k + 2] + w3 * c1[k + 3];
		a2 += w0 * c2[k] + w2 * c2[k + 1] + w1 * c2[k + 2] + w3 * c2[k + 3];
		a3 += w0 * c3[k] + w2 * c3[k + 1] + w1 * c3[k + 2] + w3 * c3[k + 3];
	}
#endif
	acc[0] = a0;
	acc[1] = a1;
	acc[2] = a2;
	acc[3] = a3;
}

`

const cUnpack = `
/* Sign-extends n bits-wide two's complement values, from value first of a
   packed stream (value i in stream bits i·bits…, least significant bit
   first, as intmodel.Pack), into dst. For 2 and 4 bits, whole 32-bit words
   (16 or 8 values) are stored so that slot s of byte j becomes dst[4s + j]:
   one mask, shift and SWAR sign extension per 4 values. */
static void unpack(int8_t *dst, const uint8_t *src, uint32_t first, int n, int bits)
{
	uint32_t pos = first * (uint32_t)bits;
	uint32_t mask = (1u << bits) - 1u, sign = 1u << (bits - 1);
	int i = 0;
	if ((bits == 2 || bits == 4) && (pos & 7u) == 0) {
		const int per = 8 / bits, g = 32 / bits;
		const uint32_t m = bits == 4 ? 0x0F0F0F0Fu : 0x03030303u;
		const uint32_t sg = bits == 4 ? 0x08080808u : 0x02020202u;
		const uint8_t *s = src + (pos >> 3);
		for (; i + g <= n; i += g, s += 4) {
			uint32_t v;
			int k;
			memcpy(&v, s, 4);
			for (k = 0; k < per; k++) {
				/* (x ^ sign) − sign per byte, no borrow across bytes. */
				uint32_t u = ((((v >> (k * bits)) & m) ^ sg) | 0x80808080u) - sg;
				u ^= 0x80808080u;
				memcpy(dst + i + 4 * k, &u, 4);
			}
		}
		pos += (uint32_t)i * (uint32_t)bits;
	}
	for (; i < n; i++, pos += (uint32_t)bits) {
		uint32_t u = src[pos >> 3];
		if ((pos & 7u) + (uint32_t)bits > 8u)
			u |= (uint32_t)src[(pos >> 3) + 1] << 8;
		u = (u >> (pos & 7u)) & mask;
		dst[i] = (int8_t)((int32_t)(u ^ sign) - (int32_t)sign);
	}
}
`

const cQLayer = `
/* A quantized layer (conv2d or linear): oc output channels of k inputs
   (k4: k rounded up to 4). Weights are either 8-bit rows of k4 (w) or a
   packed stream of wbits-wide values, k4 per row (wp). */
struct qlayer {
	const int8_t *w;
	const uint8_t *wp;
	int wbits;
	const int32_t *bias; /* q_b, or NULL */
	const int32_t *m0;
	const int8_t *shift;
	int32_t zx, zy, lo, hi; /* storage codes */
	int oc, k, k4;
};

/* Row o of the weights: in flash for 8 bits, else unpacked into buf (k4). */
static const int8_t *weight_row(const struct qlayer *q, int o, int8_t *buf)
{
	if (q->w != NULL)
		return q->w + (size_t)o * (size_t)q->k4;
	UNPACK_ROW
	return buf;
}

`

const cConvStruct = `
struct conv2d {
	struct qlayer q;
	int c, h, w, oh, ow, kh, kw, sh, sw, ph, pw;
};
`

const cIm2col = `
/* The patch of output pixel pix minus Z_X (padding 0), k4 int16 values. */
static void im2col(int16_t *col, const uint8_t *x, const struct conv2d *p, int pix)
{
	const int h = p->h, w = p->w, kh = p->kh, kw = p->kw;
	const int32_t zx = p->q.zx;
	const int iy0 = pix / p->ow * p->sh - p->ph, ix0 = pix % p->ow * p->sw - p->pw;
	const int inside = ix0 >= 0 && ix0 + kw <= w;
	int ci, ky, kx, k;
	int16_t *c = col;
	for (ci = 0; ci < p->c; ci++) {
		const uint8_t *plane = x + (size_t)ci * (size_t)(h * w);
		for (ky = 0; ky < kh; ky++, c += kw) {
			int iy = iy0 + ky;
			if (iy < 0 || iy >= h) {
				for (kx = 0; kx < kw; kx++)
					c[kx] = 0;
			} else if (inside) {
				const uint8_t *row = plane + iy * w + ix0;
				for (kx = 0; kx < kw; kx++)
					c[kx] = (int16_t)(row[kx] - zx);
			} else {
				for (kx = 0; kx < kw; kx++) {
					int ix = ix0 + kx;
					c[kx] = (int16_t)(ix >= 0 && ix < w ? plane[iy * w + ix] - zx : 0);
				}
			}
		}
	}
	for (k = p->q.k; k < p->q.k4; k++)
		col[k] = 0;
}

`

const cConv2d = `
/* y (oc×oh×ow) from x (c×h×w), blocks of 4 output pixels: their columns
   (cols: 4·k4 int16), then each channel's weight row (wbuf: k4 bytes when
   the weights are packed) against all four. */
static void conv2d(uint8_t *y, const uint8_t *x, const struct conv2d *p, int16_t *cols, int8_t *wbuf)
{
	const struct qlayer *q = &p->q;
	const int n = p->oh * p->ow, k4 = q->k4, oc = q->oc;
	const int32_t zy = q->zy, lo = q->lo, hi = q->hi;
	int pix, j, o;
	for (pix = 0; pix < n; pix += 4) {
		int np = n - pix < 4 ? n - pix : 4;
		for (j = 0; j < np; j++)
			im2col(cols + j * k4, x, p, pix + j);
		for (o = 0; o < oc; o++) {
			const int8_t *w = weight_row(q, o, wbuf);
			const int32_t b = q->bias != NULL ? q->bias[o] : 0, m0 = q->m0[o];
			const int sh = q->shift[o];
			uint8_t *out = y + (size_t)o * (size_t)n + pix;
			int32_t acc[4];
			if (np == 4) {
				dot4(acc, w, cols, k4);
			} else {
				for (j = 0; j < np; j++)
					acc[j] = dot1(w, cols + j * k4, k4);
			}
			for (j = 0; j < np; j++)
				out[j] = requant(acc[j], b, m0, sh, zy, lo, hi);
		}
	}
}
`

const cConvPool = `
/* conv2d followed by a 2×2, stride-2 max pool: each block of 4 pixels is
   one pooling window, whose largest accumulator is requantized (the
   requantization is monotone for these layers), so the conv output is never
   stored. y is (oc × oh/2 × ow/2). */
static void conv2d_maxpool2(uint8_t *y, const uint8_t *x, const struct conv2d *p, int16_t *cols, int8_t *wbuf)
{
	const struct qlayer *q = &p->q;
	const int ph = p->oh / 2, pw = p->ow / 2, k4 = q->k4, oc = q->oc;
	const int32_t zy = q->zy, lo = q->lo, hi = q->hi;
	int py, px, o;
	for (py = 0; py < ph; py++) {
		for (px = 0; px < pw; px++) {
			const int pix = 2 * py * p->ow + 2 * px;
			im2col(cols, x, p, pix);
			im2col(cols + k4, x, p, pix + 1);
			im2col(cols + 2 * k4, x, p, pix + p->ow);
			im2col(cols + 3 * k4, x, p, pix + p->ow + 1);
			for (o = 0; o < oc; o++) {
				int32_t acc[4], m;
				dot4(acc, weight_row(q, o, wbuf), cols, k4);
				m = acc[0] > acc[1] ? acc[0] : acc[1];
				m = m > acc[2] ? m : acc[2];
				m = m > acc[3] ? m : acc[3];
				y[((size_t)o * (size_t)ph + (size_t)py) * (size_t)pw + (size_t)px] =
				    requant(m, q->bias != NULL ? q->bias[o] : 0, q->m0[o], q->shift[o], zy, lo, hi);
			}
		}
	}
}
`

const cLinear = `
/* y (oc) from the flat x (k): one column x − Z_X (col: k4 int16), then
   one dot product per output. */
static void linear(uint8_t *y, const uint8_t *x, const struct qlayer *q, int16_t *col, int8_t *wbuf)
{
	const int32_t zx = q->zx, zy = q->zy, lo = q->lo, hi = q->hi;
	int k, o;
	for (k = 0; k < q->k; k++)
		col[k] = (int16_t)(x[k] - zx);
	for (; k < q->k4; k++)
		col[k] = 0;
	for (o = 0; o < q->oc; o++) {
		int32_t d = dot1(weight_row(q, o, wbuf), col, q->k4);
		y[o] = requant(d, q->bias != NULL ? q->bias[o] : 0, q->m0[o], q->shift[o], zy, lo, hi);
	}
}
`

const cPool = `
/* A pooling window over c planes of h×w; padded positions are ignored. */
struct pool2d {
	int c, h, w, oh, ow, kh, kw, sh, sw, ph, pw;
	int32_t off; /* storage offset of the codes (2^(bits−1) if signed) */
};
`

const cMaxPool = `
/* Max of the storage codes in each window (the offset keeps the order).
   y may be x (in place) when the pool has no padding: output i reads
   only inputs at i or later. */
static void maxpool2d(uint8_t *y, const uint8_t *x, const struct pool2d *p)
{
	int c, oy, ox, iy, ix;
	for (c = 0; c < p->c; c++) {
		const uint8_t *in = x + (size_t)c * (size_t)(p->h * p->w);
		uint8_t *out = y + (size_t)c * (size_t)(p->oh * p->ow);
		for (oy = 0; oy < p->oh; oy++) {
			int y0 = oy * p->sh - p->ph;
			int ya = y0 < 0 ? 0 : y0, yb = y0 + p->kh < p->h ? y0 + p->kh : p->h;
			for (ox = 0; ox < p->ow; ox++) {
				int x0 = ox * p->sw - p->pw;
				int xa = x0 < 0 ? 0 : x0, xb = x0 + p->kw < p->w ? x0 + p->kw : p->w;
				uint8_t m = 0;
				for (iy = ya; iy < yb; iy++)
					for (ix = xa; ix < xb; ix++)
						if (in[iy * p->w + ix] > m)
							m = in[iy * p->w + ix];
				out[oy * p->ow + ox] = m;
			}
		}
	}
}
`

const cAvgPool = `
/* Mean of the true codes in each window over the in-bounds count,
   rounded half away from zero (C division truncates, as Go's). In place
   as maxpool2d. */
static void avgpool2d(uint8_t *y, const uint8_t *x, const struct pool2d *p)
{
	int c, oy, ox, iy, ix;
	for (c = 0; c < p->c; c++) {
		const uint8_t *in = x + (size_t)c * (size_t)(p->h * p->w);
		uint8_t *out = y + (size_t)c * (size_t)(p->oh * p->ow);
		for (oy = 0; oy < p->oh; oy++) {
			int y0 = oy * p->sh - p->ph;
			int ya = y0 < 0 ? 0 : y0, yb = y0 + p->kh < p->h ? y0 + p->kh : p->h;
			for (ox = 0; ox < p->ow; ox++) {
				int x0 = ox * p->sw - p->pw;
				int xa = x0 < 0 ? 0 : x0, xb = x0 + p->kw < p->w ? x0 + p->kw : p->w;
				int32_t sum = 0, cnt = (yb - ya) * (xb - xa), q;
				for (iy = ya; iy < yb; iy++)
					for (ix = xa; ix < xb; ix++)
						sum += (int32_t)in[iy * p->w + ix] - p->off;
				q = sum >= 0 ? (sum + cnt / 2) / cnt : (sum - cnt / 2) / cnt;
				out[oy * p->ow + ox] = (uint8_t)(q + p->off);
			}
		}
	}
}
`

const cQuantize = `
/* clamp(z + round_half_even(x·inv), lo, hi) with x·inv in float (IEEE
   single, no fast-math), NaN giving z: intruntime.QuantizeInput's numbers. */
static int32_t quantize1(float x, float inv, int32_t z, int32_t lo, int32_t hi)
{
	float v = x * inv, f;
	int32_t t, q;
	if (v != v)
		return z;
	if (v > 1e6f)
		v = 1e6f;
	else if (v < -1e6f)
		v = -1e6f;
	t = (int32_t)v; /* truncates; v − t is exact below 2^24 */
	f = v - (float)t;
	if (f > 0.5f || (f == 0.5f && (t & 1)))
		t++;
	else if (f < -0.5f || (f == -0.5f && (t & 1)))
		t--;
	q = z + t;
	return q < lo ? lo : q > hi ? hi : q;
}
`

const cConvGrouped = `
/* A grouped convolution (depthwise when each group has one input channel):
   output channel o of group o/(oc/groups) sums w·(x − Z_X) over the group's
   c/groups input planes and the in-bounds part of its window (padding is
   0), directly: the reduction is only (c/groups)·kh·kw long. Weight rows
   are in natural order, k4 apart. */
static void conv2d_grouped(uint8_t *y, const uint8_t *x, const struct conv2d *p, int groups, int8_t *wbuf)
{
	const struct qlayer *q = &p->q;
	const int cpg = p->c / groups, opg = q->oc / groups, hw = p->h * p->w, n = p->oh * p->ow;
	const int kh = p->kh, kw = p->kw, w = p->w;
	const int32_t zx = q->zx, zy = q->zy, lo = q->lo, hi = q->hi;
	int o, oy, ox, ci, ky, kx;
	for (o = 0; o < q->oc; o++) {
		const int8_t *wr = weight_row(q, o, wbuf);
		const uint8_t *xg = x + (size_t)(o / opg * cpg) * (size_t)hw;
		const int32_t b = q->bias != NULL ? q->bias[o] : 0, m0 = q->m0[o];
		const int sh = q->shift[o];
		uint8_t *out = y + (size_t)o * (size_t)n;
		for (oy = 0; oy < p->oh; oy++) {
			const int y0 = oy * p->sh - p->ph;
			const int kya = y0 < 0 ? -y0 : 0, kyb = y0 + kh > p->h ? p->h - y0 : kh;
			for (ox = 0; ox < p->ow; ox++) {
				const int x0 = ox * p->sw - p->pw;
				const int kxa = x0 < 0 ? -x0 : 0, kxb = x0 + kw > w ? w - x0 : kw;
				int32_t acc = 0;
				if (cpg == 1 && kh == 3 && kw == 3 && kya == 0 && kyb == 3 && kxa == 0 && kxb == 3) {
					/* Depthwise 3x3 inside the image (MobileNet's case): unrolled. */
					const uint8_t *r0 = xg + y0 * w + x0, *r1 = r0 + w, *r2 = r1 + w;
					acc = wr[0] * ((int32_t)r0[0] - zx) + wr[1] * ((int32_t)r0[1] - zx) + wr[2] * ((int32_t)r0[2] - zx) +
					      wr[3] * ((int32_t)r1[0] - zx) + wr[4] * ((int32_t)r1[1] - zx) + wr[5] * ((int32_t)r1[2] - zx) +
					      wr[6] * ((int32_t)r2[0] - zx) + wr[7] * ((int32_t)r2[1] - zx) + wr[8] * ((int32_t)r2[2] - zx);
					out[oy * p->ow + ox] = requant(acc, b, m0, sh, zy, lo, hi);
					continue;
				}
				for (ci = 0; ci < cpg; ci++) {
					const uint8_t *plane = xg + (size_t)ci * (size_t)hw;
					const int8_t *wc = wr + ci * kh * kw;
					for (ky = kya; ky < kyb; ky++) {
						const uint8_t *row = plane + (y0 + ky) * w;
						const int8_t *wk = wc + ky * kw;
						for (kx = kxa; kx < kxb; kx++)
							acc += wk[kx] * ((int32_t)row[x0 + kx] - zx);
					}
				}
				out[oy * p->ow + ox] = requant(acc, b, m0, sh, zy, lo, hi);
			}
		}
	}
}
`

const cRescale = `
/* intmodel.Rescale: a sum of count codes minus the input zero point
   (zin, in storage codes) moved to the output grid:
   clamp(zo + x·m0·2^(shift−31), lo, hi) in codes (the sum wrapping as Go's
   int32), stored with the output offset off. */
struct rescale {
	int32_t zin, m0;
	int shift;
	int32_t zo, lo, hi, off;
};

static uint8_t rescale(int32_t acc, const struct rescale *r)
{
	int32_t v = (int32_t)((uint32_t)r->zo + (uint32_t)mbqm(acc, r->m0, r->shift));
	v = v < r->lo ? r->lo : v > r->hi ? r->hi : v;
	return (uint8_t)(v + r->off);
}
`

const cRescaleCopy = `
/* n codes requantized one by one (a concat input on another grid). */
static void rescale_copy(uint8_t *y, const uint8_t *x, int n, const struct rescale *r)
{
	int i;
	for (i = 0; i < n; i++)
		y[i] = rescale((int32_t)x[i] - r->zin, r);
}
`

const cGlobalAvgPool = `
/* Each of c planes of hw codes to one: Σ (x − Z_in) rescaled (the count is
   in the multiplier). In place: y[i] is written after plane i is read, and
   lies at or before it. */
static void global_avgpool(uint8_t *y, const uint8_t *x, int c, int hw, const struct rescale *r)
{
	const int32_t sub = (int32_t)hw * r->zin;
	int i, j;
	for (i = 0; i < c; i++) {
		const uint8_t *plane = x + (size_t)i * (size_t)hw;
		int32_t sum = 0;
		for (j = 0; j < hw; j++)
			sum += plane[j];
		y[i] = rescale(sum - sub, r);
	}
}
`

const cAvgPoolRescale = `
/* An average pool with requantization: Σ (x − Z_in) over each window's
   in-bounds codes (padding is real 0: it adds nothing but counts in the
   divisor kh·kw, held by the multiplier), rescaled. In place as maxpool2d. */
static void avgpool2d_rescale(uint8_t *y, const uint8_t *x, const struct pool2d *p, const struct rescale *r)
{
	int c, oy, ox, iy, ix;
	for (c = 0; c < p->c; c++) {
		const uint8_t *in = x + (size_t)c * (size_t)(p->h * p->w);
		uint8_t *out = y + (size_t)c * (size_t)(p->oh * p->ow);
		for (oy = 0; oy < p->oh; oy++) {
			int y0 = oy * p->sh - p->ph;
			int ya = y0 < 0 ? 0 : y0, yb = y0 + p->kh < p->h ? y0 + p->kh : p->h;
			for (ox = 0; ox < p->ow; ox++) {
				int x0 = ox * p->sw - p->pw;
				int xa = x0 < 0 ? 0 : x0, xb = x0 + p->kw < p->w ? x0 + p->kw : p->w;
				int32_t sum = 0;
				for (iy = ya; iy < yb; iy++)
					for (ix = xa; ix < xb; ix++)
						sum += in[iy * p->w + ix];
				sum -= (int32_t)((yb - ya) * (xb - xa)) * r->zin;
				out[oy * p->ow + ox] = rescale(sum, r);
			}
		}
	}
}
`

const cAdd = `
/* intmodel.Add (TFLite's int8 ADD): each input's (x − Z)·2^ls scaled by its
   multiplier, the sum by the output's, + Z_Y (wrapping), clamped. Storage
   codes throughout. y may be a or b (in place): element i is written after
   both are read. */
struct add {
	int32_t za, zb, m0a;
	int sha;
	int32_t m0b;
	int shb;
	int32_t m0o;
	int sho, ls;
	int32_t zy, lo, hi;
	int n;
};

static void add(uint8_t *y, const uint8_t *a, const uint8_t *b, const struct add *p)
{
	const int32_t scale = (int32_t)1 << p->ls;
	int i;
	for (i = 0; i < p->n; i++) {
		int32_t va = mbqm(((int32_t)a[i] - p->za) * scale, p->m0a, p->sha);
		int32_t vb = mbqm(((int32_t)b[i] - p->zb) * scale, p->m0b, p->shb);
		int32_t v = (int32_t)((uint32_t)mbqm(va + vb, p->m0o, p->sho) + (uint32_t)p->zy);
		y[i] = (uint8_t)(v < p->lo ? p->lo : v > p->hi ? p->hi : v);
	}
}
`
