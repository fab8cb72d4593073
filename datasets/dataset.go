package datasets

import (
	"errors"
	"fmt"
	"math"
)

// Standard normalisation constants: the mean and standard deviation of the
// training pixels scaled to [0, 1] (the values torchvision examples use).
const (
	MNISTMean        = 0.1307
	MNISTStd         = 0.3081
	FashionMNISTMean = 0.2860
	FashionMNISTStd  = 0.3530
	// The synthetic set's pixels are spread over [0, 1]; this maps them to
	// [-1, 1].
	SyntheticMean = 0.5
	SyntheticStd  = 0.5
)

// ErrInvalid is returned (wrapped) for arguments or datasets that cannot be
// used: bad sizes, out-of-range indices, a zero standard deviation.
var ErrInvalid = errors.New("datasets: invalid argument")

// Norm maps a pixel byte x to float32 (x/255 − Mean)/Std.
type Norm struct {
	Mean, Std float64
}

// MNISTNorm is MNIST's standard normalisation.
func MNISTNorm() Norm { return Norm{Mean: MNISTMean, Std: MNISTStd} }

// FashionMNISTNorm is Fashion-MNIST's standard normalisation.
func FashionMNISTNorm() Norm { return Norm{Mean: FashionMNISTMean, Std: FashionMNISTStd} }

// NoNorm only scales to [0, 1]: x/255.
func NoNorm() Norm { return Norm{Mean: 0, Std: 1} }

// Validate reports whether n can be applied.
func (n Norm) Validate() error {
	if !(n.Std > 0) || math.IsInf(n.Std, 0) || math.IsNaN(n.Mean) || math.IsInf(n.Mean, 0) {
		return fmt.Errorf("%w: normalisation mean %v std %v: want a finite mean and 0 < std < Inf", ErrInvalid, n.Mean, n.Std)
	}
	return nil
}

// Value returns the normalised value of pixel byte b, computed in float64
// and rounded once to float32.
func (n Norm) Value(b byte) float32 {
	return float32((float64(b)/255 - n.Mean) / n.Std)
}

// Apply writes the normalised src into dst[:len(src)]. It panics if dst is
// shorter than src (a programmer error).
func (n Norm) Apply(dst []float32, src []byte) {
	// A byte has 256 values: a table turns the division into a lookup.
	var lut [256]float32
	for i := range lut {
		lut[i] = n.Value(byte(i))
	}
	dst = dst[:len(src)]
	for i, b := range src {
		dst[i] = lut[b]
	}
}

// Dataset is a labelled image set held in memory: Len() images of C×H×W
// float32 values (already normalised with Norm), stored image-major in X.
type Dataset struct {
	Name       string
	C, H, W    int
	NumClasses int
	X          []float32 // len Len()·C·H·W; image i is X[i·C·H·W : (i+1)·C·H·W]
	Labels     []uint8   // len Len(); each < NumClasses
	Norm       Norm      // the normalisation applied to X
}

// Len returns the number of images.
func (d *Dataset) Len() int { return len(d.Labels) }

// SampleSize returns the number of values per image, C·H·W.
func (d *Dataset) SampleSize() int { return d.C * d.H * d.W }

// Image returns image i (a view into X). It panics if i is out of range.
func (d *Dataset) Image(i int) []float32 {
	s := d.SampleSize()
	return d.X[i*s : (i+1)*s : (i+1)*s]
}

// Validate checks that the sizes agree and every label is in range.
func (d *Dataset) Validate() error {
	if d.C < 1 || d.H < 1 || d.W < 1 {
		return fmt.Errorf("%w: dataset %q: shape %d×%d×%d, want all ≥ 1", ErrInvalid, d.Name, d.C, d.H, d.W)
	}
	if d.NumClasses < 1 || d.NumClasses > 256 {
		return fmt.Errorf("%w: dataset %q: %d classes, want 1..256", ErrInvalid, d.Name, d.NumClasses)
	}
	if len(d.X) != d.Len()*d.SampleSize() {
		return fmt.Errorf("%w: dataset %q: %d values for %d images of %d, want %d", ErrInvalid, d.Name, len(d.X), d.Len(), d.SampleSize(), d.Len()*d.SampleSize())
	}
	for i, l := range d.Labels {
		if int(l) >= d.NumClasses {
			return fmt.Errorf("%w: dataset %q: label %d at index %d, want < %d", ErrInvalid, d.Name, l, i, d.NumClasses)
		}
	}
	return nil
}

// Subset returns the first n images as a dataset sharing d's storage
// (MNIST and Fashion-MNIST are stored in random order, so the first n are a
// fair sample).
func (d *Dataset) Subset(n int) (*Dataset, error) {
	if n < 0 || n > d.Len() {
		return nil, fmt.Errorf("%w: subset of %d images from dataset %q of %d", ErrInvalid, n, d.Name, d.Len())
	}
	return d.slice(0, n), nil
}

// Split divides d into its first n images and the rest (for example a
// training and a validation part). Both share d's storage.
func (d *Dataset) Split(n int) (first, rest *Dataset, err error) {
	if n < 0 || n > d.Len() {
		return nil, nil, fmt.Errorf("%w: split at %d of dataset %q of %d images", ErrInvalid, n, d.Name, d.Len())
	}
	return d.slice(0, n), d.slice(n, d.Len()), nil
}

func (d *Dataset) slice(lo, hi int) *Dataset {
	s := d.SampleSize()
	e := *d
	e.X = d.X[lo*s : hi*s : hi*s]
	e.Labels = d.Labels[lo:hi:hi]
	return &e
}

// Select returns a copy of the images at the given indices, in that order.
func (d *Dataset) Select(idx []int) (*Dataset, error) {
	s := d.SampleSize()
	e := *d
	e.X = make([]float32, len(idx)*s)
	e.Labels = make([]uint8, len(idx))
	for j, i := range idx {
		if i < 0 || i >= d.Len() {
			return nil, fmt.Errorf("%w: index %d out of range [0, %d) of dataset %q", ErrInvalid, i, d.Len(), d.Name)
		}
		copy(e.X[j*s:(j+1)*s], d.X[i*s:(i+1)*s])
		e.Labels[j] = d.Labels[i]
	}
	return &e, nil
}
