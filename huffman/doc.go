// Package huffman builds canonical Huffman codes from symbol frequencies and
// encodes and decodes symbol streams with them: the last stage of Deep
// Compression (Han et al., 2015), which codes the cluster indices and the
// sparse relative positions of a layer's weights.
//
// A Huffman code is prefix-free and variable-length: frequent symbols get
// short codewords. The code is canonical (codewords assigned in order of
// (length, symbol)), so the code lengths alone define it and the table is
// stored as lengths only. Construction is deterministic: ties between equal
// weights are broken by symbol order, leaves before merged nodes. Symbols are
// int32 values in [0, n) for an alphabet of n symbols; a symbol of frequency 0
// gets no codeword; a single-symbol alphabet gets the 1-bit codeword "0".
// Bits are packed most significant first.
package huffman
