// Package kmeans clusters one-dimensional float32 data (the weights of a layer,
// or of one output channel when called per slice) into k centroids, the weight
// sharing step of Deep Compression (Han et al., 2015).
//
// The data are sorted once; each Lloyd iteration then finds every cluster as a
// contiguous run of the sorted array (between midpoints of neighbouring
// centroids) by binary search and takes its mean from prefix sums, so an
// iteration costs O(k log n) and allocates nothing. Centroid initialisation is
// Linear (evenly spaced over [min, max], the paper's best), Density (quantiles
// of the empirical CDF), Random (Forgy: k distinct data values) or PlusPlus
// (k-means++); the last two take an explicit *rand.Rand, so runs are
// deterministic for a given seed.
//
// Pruned weights can be excluded with a mask (or by ignoring exact zeros):
// they stay zero and get the assignment -1.
package kmeans
