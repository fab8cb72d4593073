// Package prune implements magnitude pruning, the first stage of Deep
// Compression (Han et al., 2015): the weights of smallest magnitude are set to
// zero and a Mask records which survive, so that the mask can be re-applied
// after every optimizer step while the network is retrained (pruned weights
// stay exactly zero). Schedules raise the sparsity gradually over training
// (Zhu & Gupta's cubic ramp, or explicit stages).
package prune
