package observers

import (
	"fmt"
	"math"
)

// hist is a histogram of n equal bins over [lo, lo+n·width] whose range
// grows with the data. Growing multiplies the bin width by a power of two f
// and shifts the left edge by a whole number j of new bins, so that every old
// bin lies inside exactly one new bin (old bin i → new bin j + i/f): counts
// move without being split or smeared, and the total is kept exactly. The
// cost is that the range can be up to twice (plus one bin) wider than the
// data's.
//
// While every value seen is the same, width is 0 and all counts sit in bin
// 0 at lo (a point mass); the first different value sets a real width.
type hist struct {
	lo, width, inv float64
	total          uint64
	counts         []uint64
	tmp            []uint64 // re-binning scratch, so growth does not allocate
}

func newHist(bins int) hist { return hist{counts: make([]uint64, bins)} }

func (h *hist) n() int { return len(h.counts) }

func (h *hist) hi() float64 { return h.lo + float64(h.n())*h.width }

func (h *hist) reset() {
	clear(h.counts)
	h.lo, h.width, h.inv, h.total = 0, 0, 0, 0
}

func (h *hist) setWidth(w float64) {
	h.width = w
	h.inv = 0
	if w > 0 {
		h.inv = 1 / w
	}
}

// bin returns the bin of v, which lies in the range.
func (h *hist) bin(v float64) int {
	if h.width == 0 {
		return 0
	}
	i := int((v - h.lo) * h.inv)
	return min(max(i, 0), h.n()-1)
}

// cover grows the range to contain [lo, hi] (finite, lo <= hi).
func (h *hist) cover(lo, hi float64) {
	n := h.n()
	switch {
	case h.total == 0:
		h.lo = lo
		h.setWidth((hi - lo) / float64(n))
		return
	case h.width == 0:
		v := h.lo
		if lo == v && hi == v {
			return
		}
		lo, hi = min(lo, v), max(hi, v)
		h.lo = lo
		h.setWidth((hi - lo) / float64(n))
		clear(h.counts)
		h.counts[h.bin(v)] = h.total
		return
	case lo >= h.lo && hi <= h.hi():
		return
	}
	lo, hi = min(lo, h.lo), max(hi, h.hi())
	f, w := 1, h.width
	var j int
	for {
		// f stops doubling at n: from there every old bin falls into one new bin.
		f = min(2*f, n)
		w *= 2
		j = max(0, int(math.Ceil((h.lo-lo)/w)))
		if h.lo-float64(j)*w <= lo && h.lo+float64(n-j)*w >= hi {
			break
		}
	}
	if len(h.tmp) != n {
		h.tmp = make([]uint64, n)
	}
	clear(h.tmp)
	for i, c := range h.counts {
		h.tmp[min(j+i/f, n-1)] += c
	}
	h.counts, h.tmp = h.tmp, h.counts
	h.lo -= float64(j) * w
	h.setWidth(w)
}

// add counts the values of x, which lie in the range; careful skips
// non-finite values (pass it when the batch has any). abs counts |v|.
func (h *hist) add(x []float32, careful, abs bool) {
	c, lo, inv, last := h.counts, h.lo, h.inv, h.n()-1
	var added uint64
	if h.width == 0 {
		for _, v := range x {
			if !careful || finite(v) {
				added++
			}
		}
		c[0] += added
		h.total += added
		return
	}
	for _, v := range x {
		if careful && !finite(v) {
			continue
		}
		if abs {
			// Clear the sign bit: a v < 0 branch would be mispredicted on
			// half of zero-mean data.
			v = math.Float32frombits(math.Float32bits(v) &^ (1 << 31))
		}
		i := int((float64(v) - lo) * inv)
		if i > last {
			i = last
		}
		if i < 0 {
			i = 0
		}
		c[i]++
		added++
	}
	h.total += added
}

// percentile returns the value below which p percent of the counts lie,
// interpolating linearly inside the bin (values taken as uniform in a bin).
func (h *hist) percentile(p float64) float64 {
	if h.width == 0 {
		return h.lo
	}
	target := p / 100 * float64(h.total)
	cum := 0.0
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		fc := float64(c)
		if cum+fc >= target {
			return h.lo + (float64(i)+(target-cum)/fc)*h.width
		}
		cum += fc
	}
	return h.hi()
}

func (h *hist) encode(e *encoder) {
	e.f64(h.lo)
	e.f64(h.width)
	e.u64(h.total)
	e.u32(uint32(len(h.counts)))
	for _, c := range h.counts {
		e.u64(c)
	}
}

// decode reads a histogram of exactly bins bins.
func (h *hist) decode(d *decoder, bins int) hist {
	var r hist
	r.lo = d.f64("histogram left edge")
	w := d.f64("histogram bin width")
	r.total = d.u64("histogram total")
	n := d.count(8, "histogram bins")
	if d.err != nil {
		return r
	}
	if n != bins {
		d.fail("histogram has %d bins, observer has %d", n, bins)
		return r
	}
	if math.IsNaN(r.lo) || math.IsInf(r.lo, 0) || !(w >= 0) || math.IsInf(w, 0) {
		d.fail("histogram range lo=%g width=%g is not finite", r.lo, w)
		return r
	}
	r.setWidth(w)
	r.counts = make([]uint64, n)
	var sum uint64
	for i := range r.counts {
		r.counts[i] = d.u64("histogram count")
		sum += r.counts[i]
	}
	if d.err == nil && sum != r.total {
		d.fail("histogram counts add up to %d, total says %d", sum, r.total)
	}
	if d.err == nil && w == 0 && r.total != r.counts[0] {
		d.fail("point-mass histogram has counts outside bin 0")
	}
	return r
}

// histCore is the state shared by the histogram-family observers: the
// histogram and the exact range of the data.
type histCore struct {
	h          hist
	abs        bool // histogram of |x| anchored at 0 (Entropy)
	dmin, dmax float32
}

func (c *histCore) observed() bool { return c.h.total > 0 }

func (c *histCore) observe(b *base, x []float32, shape []int) error {
	mn, mx, bad, err := b.scanBatch(x, shape)
	if err != nil {
		return err
	}
	if c.abs {
		c.h.cover(0, math.Max(-float64(mn), float64(mx)))
	} else {
		c.h.cover(float64(mn), float64(mx))
	}
	first := !c.observed()
	c.h.add(x, bad > 0, c.abs)
	if first {
		c.dmin, c.dmax = mn, mx
	} else {
		c.dmin, c.dmax = min(c.dmin, mn), max(c.dmax, mx)
	}
	return nil
}

func (c *histCore) reset() {
	c.h.reset()
	c.dmin, c.dmax = 0, 0
}

func (c *histCore) encode(e *encoder) {
	e.f32(c.dmin)
	e.f32(c.dmax)
	c.h.encode(e)
}

// decode reads a histCore without changing c.
func (c *histCore) decode(d *decoder) histCore {
	r := histCore{abs: c.abs}
	r.dmin, r.dmax = d.f32("data min"), d.f32("data max")
	r.h = c.h.decode(d, c.h.n())
	if d.err == nil && r.observed() {
		d.finiteRange(r.dmin, r.dmax, "data range")
	}
	return r
}

func checkBins(bins int) error {
	if bins < 2 || bins > 1<<20 {
		return fmt.Errorf("observers: %d histogram bins, want 2..%d", bins, 1<<20)
	}
	return nil
}
