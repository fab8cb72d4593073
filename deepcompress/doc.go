// Package deepcompress runs the Deep Compression pipeline (Han, Mao and
// Dally, 2016) on an nn model: iterative magnitude pruning with retraining
// (masks re-applied after every optimizer step, so pruned weights stay
// exactly zero), k-means weight sharing per layer with linear centroid
// initialisation on the surviving weights, centroid fine-tuning (the layer's
// weight is codebook[index] in the forward pass; the grouped gradient updates
// only the centroids, with their own learning-rate scale), then Huffman
// coding of the cluster indices and the sparse relative positions, with
// storage accounting per layer and per stage (package compress) and a
// compressed-model file that decodes to the very weights the fine-tuned model
// computes with.
//
// Every Linear and Conv2d layer is compressed; other parameters (biases at
// FP32, batch-norm statistics) and linear quantizers of activations are kept
// as they are. A compressed layer's weight quantizer is removed: its weights
// are the codebook's, not a linear grid's.
package deepcompress
