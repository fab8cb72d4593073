// Package observers implements fakequant.Observer: the statistics that pick
// the real range [min, max] a quantizer maps onto its integer grid.
//
// Min-max family (cheap, run in every training step):
//   - MinMax: running min and max over all batches (PyTorch MinMaxObserver).
//   - MovingAverageMinMax: exponential moving average of each batch's min and
//     max, the first batch taken as-is (PyTorch MovingAverageMinMaxObserver).
//   - PerChannelMinMax, PerChannelMovingAverageMinMax: the same per slice
//     along QScheme.Axis (PyTorch's PerChannel* observers).
//
// Histogram family (calibration; clip outliers):
//   - Histogram: percentile clipping on a histogram whose range grows with
//     the data.
//   - MSE: the clipping range minimising the expected quantization MSE.
//   - Entropy: the TensorRT-style threshold minimising KL(P||Q).
//
// Ranges go through fakequant.QParamsFromRange, which widens them to
// include 0. NaN and ±Inf are skipped and counted (NonFinite), never folded
// into a range. New picks an observer by name, for configuration files.
//
// Observers are not safe for concurrent use; one observer belongs to one
// tensor of one layer, which graphs run one after the other.
package observers
