// Package codebook implements Deep Compression's weight sharing as a
// gorgonia op: a layer's weights are W = centroids[idx], with the cluster
// indices fixed (held by the op) and the k centroids a learnable 1-D tensor.
// Pruned weights (mask false) stay exactly zero and receive no gradient.
//
// Backward, the gradient of every weight is grouped by its cluster index and
// reduced onto the centroid: Sum (the paper, and the true gradient of the
// loss with respect to the centroid) or Mean (the lecture's variant, the sum
// divided by the cluster's number of unpruned members).
//
// Limits users should know: the dense weights are rebuilt from the codebook
// at every forward pass (a gather: irregular memory access), and weight
// sharing suits weights only, not activations, whose values change with every
// input.
package codebook
