package observers

import (
	"math"

	"github.com/qatgo/qatgo/fakequant"
)

// Entropy is the KL-divergence ("entropy") calibrator of TensorRT (Migacz,
// "8-bit Inference with TensorRT", 2017), as NVIDIA's pytorch-quantization
// implements it. It is per tensor.
//
// It keeps a histogram of |x| over [0, max|x|] (growing, see hist) and the
// data's true min and max. For each candidate threshold t_i = i·width, i =
// nq..bins (bins at the default 2048):
//   - the reference P is bins 0..i−1 with every count beyond t_i (the
//     clipped outliers) added to bin i−1;
//   - the candidate Q merges bins 0..i−1 into nq equal groups (bin j joins
//     group ⌊j·nq/i⌋), then spreads each group's count evenly over its
//     non-empty bins (empty bins stay empty);
//   - both are normalised and KL(P||Q) = Σ p·ln(p/q) is computed, +Inf
//     when p > 0 where q = 0 (an empty bin i−1 receiving outliers).
//
// The threshold is the t_i of least divergence (the first on ties), capped
// at max|x|. nq is the number of grid steps that cover [0, t]: 2^bits for
// non-negative data on an affine grid (the range is then [0, t]), else
// 2^(bits−1) (signed-symmetric grids get [−t, t]; other grids on data of
// both signs get [max(min, −t), min(max, t)]). When nq >= bins there is
// nothing to search and t = max|x|.
//
// Range costs O(bins²) additions and O(bins·nq) logarithms (a few
// milliseconds at the defaults) and is cached until the next Observe.
type Entropy struct {
	base
	hc         histCore
	cached     bool
	cmin, cmax float32
}

// NewEntropy returns a KL-divergence observer for the per-tensor scheme s
// with the given number of bins (DefaultBins).
func NewEntropy(s fakequant.QScheme, bins int) (*Entropy, error) {
	b, err := newBase("entropy", s, fakequant.PerTensor)
	if err != nil {
		return nil, err
	}
	if err := checkBins(bins); err != nil {
		return nil, err
	}
	return &Entropy{base: b, hc: histCore{h: newHist(bins), abs: true}}, nil
}

// Observe adds |x| of the finite values of x to the histogram.
func (o *Entropy) Observe(x []float32, shape []int) error {
	if o.frozen {
		return nil
	}
	o.cached = false
	return o.hc.observe(&o.base, x, shape)
}

// Range returns the clipping range of the least-divergence threshold.
func (o *Entropy) Range() (min, max []float32, err error) {
	if !o.hc.observed() {
		return nil, nil, o.notObserved()
	}
	if !o.cached {
		o.cmin, o.cmax = o.search()
		o.cached = true
	}
	return []float32{o.cmin}, []float32{o.cmax}, nil
}

func (o *Entropy) search() (lo, hi float32) {
	dmin, dmax := o.hc.dmin, o.hc.dmax
	nonNeg := dmin >= 0
	nq := 1 << (o.s.Bits - 1)
	if nonNeg && !o.s.Symmetric {
		nq = 1 << o.s.Bits
	}
	maxAbs := max(-dmin, dmax)
	t := maxAbs
	if h := &o.hc.h; h.width > 0 && nq < h.n() {
		t = min(float32(float64(klThreshold(h.counts, h.total, nq))*h.width), maxAbs)
	}
	switch {
	case nonNeg:
		return 0, t
	case o.s.Signed && o.s.Symmetric:
		return -t, t
	}
	return max(dmin, -t), min(dmax, t)
}

// klThreshold returns the bin index i (nq <= i <= len(counts)) whose
// threshold minimises KL(P||Q); see Entropy.
func klThreshold(counts []uint64, total uint64, nq int) int {
	n := len(counts)
	cum := make([]float64, n+1)
	logc := make([]float64, n)
	for j, c := range counts {
		cum[j+1] = cum[j] + float64(c)
		if c > 0 {
			logc[j] = math.Log(float64(c))
		}
	}
	gsum := make([]float64, nq)
	gnz := make([]float64, nq)
	lq := make([]float64, nq)
	tot := float64(total)
	best, bestI := math.Inf(1), n
	for i := nq; i <= n; i++ {
		if cum[i] == 0 {
			continue
		}
		last := i - 1
		outliers := tot - cum[i]
		if counts[last] == 0 && outliers > 0 {
			continue // p > 0 where q = 0: infinite divergence
		}
		clear(gsum)
		clear(gnz)
		// Group of bin j is ⌊j·nq/i⌋, tracked without division: g advances
		// when j·nq reaches (g+1)·i.
		g, jn, edge := 0, 0, i
		for j := 0; j < i; j++ {
			for jn >= edge {
				g++
				edge += i
			}
			if c := counts[j]; c > 0 {
				gsum[g] += float64(c)
				gnz[g]++
			}
			jn += nq
		}
		for k := range lq {
			if gnz[k] > 0 {
				lq[k] = math.Log(gsum[k] / gnz[k])
			}
		}
		s := 0.0
		g, jn, edge = 0, 0, i
		for j := 0; j < last; j++ {
			for jn >= edge {
				g++
				edge += i
			}
			if c := counts[j]; c > 0 {
				s += float64(c) * (logc[j] - lq[g])
			}
			jn += nq
		}
		for jn >= edge {
			g++
			edge += i
		}
		if p := float64(counts[last]) + outliers; p > 0 {
			s += p * (math.Log(p) - lq[g])
		}
		// Σ p̂ ln(p̂/q̂) with p̂ = p/total, q̂ = q/cum[i]: the sums of P and of
		// Q (whose spreading keeps group sums) are total and cum[i].
		kl := s/tot + math.Log(cum[i]/tot)
		if kl < best {
			best, bestI = kl, i
		}
	}
	return bestI
}

// Reset forgets the histogram and the non-finite count; the frozen flag
// and the configuration stay.
func (o *Entropy) Reset() { o.hc.reset(); o.nonFinite = 0; o.cached = false }

// QParams returns fakequant.QParamsFromRange of Range.
func (o *Entropy) QParams() (fakequant.QParams, error) { return qparams(o) }

// MarshalState saves the observer (see the State layout in state.go).
func (o *Entropy) MarshalState() ([]byte, error) {
	e := o.header()
	o.hc.encode(e)
	return e.finish(), nil
}

// UnmarshalState restores a state saved by an Entropy observer with the
// same scheme and bins; on error the observer is unchanged.
func (o *Entropy) UnmarshalState(state []byte) error {
	d, frozen, nf := o.open(state)
	hc := o.hc.decode(d)
	if d.err == nil && hc.h.total > 0 && hc.h.lo != 0 {
		d.fail("|x| histogram starts at %g, not 0", hc.h.lo)
	}
	if err := d.done(); err != nil {
		return err
	}
	hc.h.tmp = o.hc.h.tmp
	o.frozen, o.nonFinite, o.hc, o.cached = frozen, nf, hc, false
	return nil
}
