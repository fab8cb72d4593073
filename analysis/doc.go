// Package analysis compares a quantized model with its float twin layer by
// layer, in the manner of PyTorch's Numeric Suite: for every quantized layer
// the signal-to-quantization-noise ratio (SQNR) of its weight and of its
// output activation, the fraction of values its grid clips, the grid's
// range, scale and zero point, and the test accuracy lost when only that
// layer is quantized. The float twin is the same net with every quantizer
// disabled, or a separate float net (an FP32 run) paired by layer name.
//
// Report renders as a text table, as JSON, and as one self-contained HTML
// page (inline SVG histograms that show each tensor's quantization grid and
// clipping range; no scripts or resources from the network).
package analysis
