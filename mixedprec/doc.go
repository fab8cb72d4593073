// Package mixedprec chooses a bit width per layer under a size budget: the
// multiple-choice knapsack that HAQ and HAWQ solve, here exactly, by dynamic
// programming over the budget.
//
// Each layer offers choices (a bit width, its cost in weight bits, and its
// loss: an estimate of the accuracy the model loses when the layer has that
// width). Solve picks one choice per layer minimising the summed loss with
// the summed cost within the budget. Summing per-layer losses assumes they
// add up, which holds to first order when each is small; qatgo measures a
// loss as the accuracy drop with only that layer quantized (see the
// autobits command), the simplest estimate and one that measures the thing
// the budget trades against, where a Hessian trace or Fisher estimate would
// be a proxy for it.
package mixedprec
