package datasets

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// Hand-worked: 51/255 = 0.2, so MNIST maps 51 to (0.2−0.1307)/0.3081 =
// 0.0693/0.3081 = 0.224927; 0 to −0.1307/0.3081 = −0.424213; 255 to
// 0.8693/0.3081 = 2.821487.
func TestNorm(t *testing.T) {
	for _, test := range []struct {
		norm Norm
		b    byte
		want float64
	}{
		{MNISTNorm(), 0, -0.424212917883804},
		{MNISTNorm(), 51, 0.2249269717624148},
		{MNISTNorm(), 255, 2.82148653034729},
		{FashionMNISTNorm(), 0, -0.8101983002832861},  // −0.2860/0.3530
		{FashionMNISTNorm(), 51, -0.2436260623229461}, // (0.2−0.2860)/0.3530
		{FashionMNISTNorm(), 255, 2.0226628895184136}, // 0.7140/0.3530
		{NoNorm(), 0, 0},
		{NoNorm(), 51, 0.2},
		{NoNorm(), 255, 1},
		{Norm{SyntheticMean, SyntheticStd}, 51, -0.6}, // (0.2−0.5)/0.5
	} {
		got := test.norm.Value(test.b)
		if got != float32(test.want) {
			t.Errorf("%+v.Value(%d) = %v, want %v", test.norm, test.b, got, float32(test.want))
		}
		dst := make([]float32, 2)
		test.norm.Apply(dst, []byte{test.b, test.b})
		if dst[0] != got || dst[1] != got {
			t.Errorf("%+v.Apply(%d) = %v, want %v", test.norm, test.b, dst, got)
		}
	}
	for _, bad := range []Norm{{}, {0, -1}, {math.NaN(), 1}, {0, math.Inf(1)}, {0, math.NaN()}} {
		if err := bad.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v.Validate() = %v, want ErrInvalid", bad, err)
		}
	}
}

func tinyDataset() *Dataset {
	// Four 1×1×2 images: image i holds {i, 10+i}.
	return &Dataset{Name: "tiny", C: 1, H: 1, W: 2, NumClasses: 3,
		X:      []float32{0, 10, 1, 11, 2, 12, 3, 13},
		Labels: []uint8{0, 1, 2, 0}}
}

func TestSubsetSplitSelect(t *testing.T) {
	d := tinyDataset()
	s, err := d.Subset(3)
	if err != nil || s.Len() != 3 || !reflect.DeepEqual(s.X, []float32{0, 10, 1, 11, 2, 12}) || !reflect.DeepEqual(s.Labels, []uint8{0, 1, 2}) {
		t.Errorf("Subset(3) = %+v, %v", s, err)
	}
	a, b, err := d.Split(1)
	if err != nil || a.Len() != 1 || b.Len() != 3 || !reflect.DeepEqual(b.Image(0), []float32{1, 11}) || b.Labels[2] != 0 {
		t.Errorf("Split(1) = %+v %+v, %v", a, b, err)
	}
	// Appending to a part must not overwrite the other part.
	_ = append(a.Labels, 2)
	if d.Labels[1] != 1 {
		t.Error("append to a split part overwrote its neighbour")
	}
	c, err := d.Select([]int{3, 0})
	if err != nil || !reflect.DeepEqual(c.X, []float32{3, 13, 0, 10}) || !reflect.DeepEqual(c.Labels, []uint8{0, 0}) {
		t.Errorf("Select = %+v, %v", c, err)
	}
	for _, err := range []error{
		func() error { _, err := d.Subset(5); return err }(),
		func() error { _, err := d.Subset(-1); return err }(),
		func() error { _, _, err := d.Split(5); return err }(),
		func() error { _, err := d.Select([]int{4}); return err }(),
	} {
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "tiny") {
			t.Errorf("error %v, want ErrInvalid naming the dataset", err)
		}
	}
}

func TestDatasetValidate(t *testing.T) {
	if err := tinyDataset().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, mod := range []func(*Dataset){
		func(d *Dataset) { d.Labels[2] = 3 },
		func(d *Dataset) { d.X = d.X[:7] },
		func(d *Dataset) { d.C = 0 },
		func(d *Dataset) { d.NumClasses = 0 },
	} {
		d := tinyDataset()
		mod(d)
		if err := d.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate() = %v, want ErrInvalid", err)
		}
	}
}
