// Package compress holds the storage side of Deep Compression (Han et al.,
// 2015): the sparse relative-position encoding of pruned layers, per-layer and
// per-stage storage accounting with a Markdown report in the style of the
// paper's tables, and a versioned, checksummed file holding a compressed model
// (codebooks, Huffman-coded cluster indices and relative positions, biases)
// that decodes to bit-identical float32 weights.
//
// Stages, for a layer of n weights of which nnz are kept, k centroids, b-bit
// indices (b = ceil(log2 k), at least 1) and E relative-position entries of r
// bits (nnz plus fillers; none for an unpruned layer):
//
//	FP32:       32·n
//	pruned:     32·nnz + r·E
//	+quantized: b·nnz + 32·k + r·E
//	+Huffman:   H(indices) + table + 32·k + H(positions) + table
//
// where H is the exact Huffman-coded stream length and a table is the
// serialised canonical code (lengths only). Biases are stored at 32 bits and
// reported in their own column, not in the weight ratios; Report also gives the
// ratio with biases included.
//
// Relative positions differ from the paper in one detail: a filler entry (for
// a gap longer than 2^r - 1) is the reserved position symbol 0 and carries no
// weight, where the paper stores a zero-valued weight with it; so a filler
// costs r bits, not r + b.
package compress
