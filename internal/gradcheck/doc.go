// Package gradcheck compares analytic gradients with central finite
// differences, in float64. It is the one helper every package's gradient
// tests use: the caller gives a loss function of some float64 slices (which
// gradcheck perturbs in place and restores) and the analytic gradients.
package gradcheck
