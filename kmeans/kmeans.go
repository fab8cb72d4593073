package kmeans

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"sort"
)

// Init selects how the centroids are initialised.
type Init int

const (
	// Linear spaces the k centroids evenly over [min, max] of the data
	// (the best initialisation in Deep Compression, section 3.2).
	Linear Init = iota
	// Density puts centroid j at the (j+0.5)/k quantile of the data, so the
	// centroids follow the empirical CDF.
	Density
	// Random (Forgy) picks k distinct data values uniformly at random.
	Random
	// PlusPlus is k-means++: the first centroid uniform over the points, each
	// further one with probability proportional to its squared distance to the
	// nearest centroid chosen so far.
	PlusPlus
)

func (i Init) String() string {
	switch i {
	case Linear:
		return "linear"
	case Density:
		return "density"
	case Random:
		return "random"
	case PlusPlus:
		return "kmeans++"
	}
	return fmt.Sprintf("Init(%d)", int(i))
}

// DefaultMaxIter is the iteration limit used when Options.MaxIter is 0. An
// iteration costs O(k log n) without allocation, so exact convergence (no
// point changes cluster) is affordable: 400k Gaussian weights, k = 32 take
// about 1,000 iterations.
const DefaultMaxIter = 10000

// Sentinel errors; the returned errors wrap them with details.
var (
	ErrBadK       = errors.New("kmeans: k must be at least 1")
	ErrNoData     = errors.New("kmeans: no data to cluster")
	ErrNonFinite  = errors.New("kmeans: data contain NaN or Inf")
	ErrMaskLength = errors.New("kmeans: mask length differs from data length")
	ErrNeedRand   = errors.New("kmeans: Random and PlusPlus need Options.Rand")
	ErrBadInit    = errors.New("kmeans: unknown Init")
)

// Options configures Cluster. The zero value (plus K) is Linear init, up to
// DefaultMaxIter iterations, all points clustered.
type Options struct {
	K       int        // number of clusters, >= 1 (e.g. 1<<bits)
	Init    Init       // centroid initialisation
	MaxIter int        // Lloyd iteration limit; 0 means DefaultMaxIter
	Rand    *rand.Rand // source for Random and PlusPlus; unused otherwise

	// Mask, when not nil, selects the points to cluster: Mask[i] false marks
	// x[i] as pruned; it is not clustered and gets assignment -1.
	Mask []bool
	// IgnoreZeros excludes points that are exactly zero (±0), the other way
	// to mark pruned weights. It combines with Mask.
	IgnoreZeros bool
}

// Result is the outcome of Cluster.
type Result struct {
	// Centroids in ascending order. There are fewer than K when the clustered
	// points hold fewer than K distinct values: then every distinct value is
	// its own centroid and the error is zero.
	Centroids []float32
	// Assign[i] is the index into Centroids of the centroid of x[i], or -1
	// for a point excluded by Mask or IgnoreZeros.
	Assign []int32
	// Iter is the number of Lloyd iterations run; Converged says whether the
	// clusters stopped changing before MaxIter.
	Iter      int
	Converged bool
	// SSE is the sum of squared distances of the clustered points to their
	// centroids (the k-means objective), computed in float64.
	SSE float64
	// Reseeded counts empty clusters that were moved onto a far point.
	Reseeded int
}

// Cluster runs 1-D k-means on x.
//
// Empty clusters: when a cluster has no points after an update, its
// centroid is moved onto the point farthest from its own centroid (in 1-D
// that is an end point of some cluster's run in the sorted data) and Lloyd
// iterations continue; this never increases the objective. Points lying
// exactly on the midpoint between two centroids go to the lower centroid.
//
// The final assignment uses the returned float32 centroids (nearest, ties
// to the lower one), so it is exactly what a decoder sees.
func Cluster(x []float32, opt Options) (Result, error) {
	if opt.K < 1 {
		return Result{}, fmt.Errorf("%w (got %d)", ErrBadK, opt.K)
	}
	if opt.Mask != nil && len(opt.Mask) != len(x) {
		return Result{}, fmt.Errorf("%w: %d vs %d", ErrMaskLength, len(opt.Mask), len(x))
	}
	if (opt.Init == Random || opt.Init == PlusPlus) && opt.Rand == nil {
		return Result{}, ErrNeedRand
	}
	if opt.Init < Linear || opt.Init > PlusPlus {
		return Result{}, fmt.Errorf("%w %d", ErrBadInit, int(opt.Init))
	}
	maxIter := opt.MaxIter
	if maxIter <= 0 {
		maxIter = DefaultMaxIter
	}

	// Gather the clustered points, sorted.
	s := make([]float64, 0, len(x))
	for i, v := range x {
		if !included(opt, x, i) {
			continue
		}
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return Result{}, fmt.Errorf("%w (index %d)", ErrNonFinite, i)
		}
		s = append(s, float64(v))
	}
	if len(s) == 0 {
		return Result{}, ErrNoData
	}
	slices.Sort(s)
	n := len(s)

	distinct := 1
	for i := 1; i < n; i++ {
		if s[i] != s[i-1] {
			distinct++
		}
	}
	var res Result
	if distinct <= opt.K {
		c := make([]float64, 0, distinct)
		for i, v := range s {
			if i == 0 || v != s[i-1] {
				c = append(c, v)
			}
		}
		res.Centroids = to32(c)
		res.Converged = true
	} else {
		c, err := initCentroids(s, opt, distinct)
		if err != nil {
			return Result{}, err
		}
		res = lloyd(s, c, maxIter)
	}
	res.Assign, res.SSE = assign(x, opt, res.Centroids)
	return res, nil
}

func included(opt Options, x []float32, i int) bool {
	if opt.Mask != nil && !opt.Mask[i] {
		return false
	}
	return !(opt.IgnoreZeros && x[i] == 0)
}

func to32(c []float64) []float32 {
	out := make([]float32, len(c))
	for i, v := range c {
		out[i] = float32(v)
	}
	return out
}

// initCentroids returns k sorted initial centroids for sorted data s with
// more than k distinct values.
func initCentroids(s []float64, opt Options, distinct int) ([]float64, error) {
	k, n := opt.K, len(s)
	c := make([]float64, k)
	lo, hi := s[0], s[n-1]
	switch opt.Init {
	case Linear:
		if k == 1 {
			c[0] = lo + (hi-lo)/2
			break
		}
		for j := range c {
			c[j] = lo + (hi-lo)*float64(j)/float64(k-1)
		}
	case Density:
		for j := range c {
			q := (float64(j) + 0.5) / float64(k)
			c[j] = s[min(n-1, int(q*float64(n)))]
		}
	case Random:
		// Partial Fisher-Yates over the distinct values.
		u := make([]float64, 0, distinct)
		for i, v := range s {
			if i == 0 || v != s[i-1] {
				u = append(u, v)
			}
		}
		for j := 0; j < k; j++ {
			r := j + opt.Rand.Intn(len(u)-j)
			u[j], u[r] = u[r], u[j]
			c[j] = u[j]
		}
	case PlusPlus:
		d := make([]float64, n)
		c[0] = s[opt.Rand.Intn(n)]
		for i, v := range s {
			d[i] = (v - c[0]) * (v - c[0])
		}
		for j := 1; j < k; j++ {
			var tot float64
			for _, w := range d {
				tot += w
			}
			// tot > 0: more distinct values than centroids chosen so far.
			r := opt.Rand.Float64() * tot
			pick := n - 1
			for i, w := range d {
				if r < w {
					pick = i
					break
				}
				r -= w
			}
			for d[pick] == 0 { // rounding at the end of the scan
				pick--
			}
			c[j] = s[pick]
			for i, v := range s {
				if e := (v - c[j]) * (v - c[j]); e < d[i] {
					d[i] = e
				}
			}
		}
	}
	slices.Sort(c)
	return c, nil
}

// lloyd runs Lloyd iterations on sorted s from sorted centroids c.
func lloyd(s, c []float64, maxIter int) Result {
	n, k := len(s), len(c)
	pre := make([]float64, n+1) // pre[i] = s[0] + ... + s[i-1]
	for i, v := range s {
		pre[i+1] = pre[i] + v
	}
	end := make([]int, k)  // cluster j is s[end[j-1]:end[j]]
	prev := make([]int, k) // ends of the previous iteration
	var res Result
	for it := 1; it <= maxIter; it++ {
		res.Iter = it
		bounds(s, c, end)
		// Update; re-seed one empty cluster at a time, then recompute.
		empty := -1
		start := 0
		for j := 0; j < k; j++ {
			if m := end[j] - start; m > 0 {
				c[j] = (pre[end[j]] - pre[start]) / float64(m)
			} else if empty < 0 {
				empty = j
			}
			start = end[j]
		}
		if empty >= 0 {
			reseed(s, c, end, empty)
			res.Reseeded++
			continue
		}
		if it > 1 && slices.Equal(end, prev) {
			res.Converged = true
			break
		}
		copy(prev, end)
	}
	// Means of disjoint sorted runs are sorted; keep them so after rounding.
	res.Centroids = to32(c)
	return res
}

// bounds sets end[j] to one past the last point of cluster j: points up to
// the midpoint of c[j] and c[j+1] (inclusive) belong to j. c is sorted.
func bounds(s, c []float64, end []int) {
	k := len(c)
	lo := 0
	for j := 0; j < k-1; j++ {
		mid := c[j] + (c[j+1]-c[j])/2
		// First index in [lo, n) with s[i] > mid.
		a, b := lo, len(s)
		for a < b {
			h := int(uint(a+b) >> 1)
			if s[h] > mid {
				b = h
			} else {
				a = h + 1
			}
		}
		end[j] = a
		lo = a
	}
	end[k-1] = len(s)
}

// reseed moves the centroid of empty cluster e onto the point farthest from
// its own centroid; in sorted 1-D data that is the first or last point of a
// cluster's run. It keeps c sorted.
func reseed(s, c []float64, end []int, e int) {
	best, bestD := 0.0, -1.0
	start := 0
	for j := range c {
		if end[j] > start {
			for _, v := range [2]float64{s[start], s[end[j]-1]} {
				if d := math.Abs(v - c[j]); d > bestD {
					best, bestD = v, d
				}
			}
		}
		start = end[j]
	}
	c[e] = best
	slices.Sort(c)
}

// assign gives every included point its nearest centroid (ties to the lower
// one) and returns the squared error.
func assign(x []float32, opt Options, c []float32) ([]int32, float64) {
	k := len(c)
	mid := make([]float64, k-1)
	for j := range mid {
		mid[j] = float64(c[j]) + (float64(c[j+1])-float64(c[j]))/2
	}
	a := make([]int32, len(x))
	var sse float64
	for i, v := range x {
		if !included(opt, x, i) {
			a[i] = -1
			continue
		}
		f := float64(v)
		j := sort.SearchFloat64s(mid, f) // first j with mid[j] >= f
		a[i] = int32(j)
		d := f - float64(c[j])
		sse += d * d
	}
	return a, sse
}
