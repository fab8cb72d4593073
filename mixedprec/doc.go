// Package mixedprec chooses a bit width per layer under a size budget: the
// multiple-choice knapsack that HAQ and HAWQ solve, here exactly, by dynamic
// programming over the budget.
//
// Each layer offers choices (a bit width, its cost in weight bits, its
// loss: an estimate of what the model loses when the layer has that width,
// and its noise: a secondary cost for near-ties). Solve picks one choice per
// layer minimising the summed loss with the summed cost within the budget.
// Summing per-layer losses assumes they add up, which holds to first order
// when each is small. qatgo's autobits command measures a loss as the
// increase of the test cross-entropy with only that layer quantized (or,
// optionally, the accuracy drop): it measures the thing the budget trades
// against, where a Hessian trace or Fisher estimate would be a proxy for it.
// The noise is the layer's squared weight quantization error, which ranks
// choices that the measured losses cannot tell apart.
package mixedprec
