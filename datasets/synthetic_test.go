package datasets

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestSyntheticDeterministic(t *testing.T) {
	cfg := SyntheticConfig{NTrain: 50, NTest: 20, C: 3, H: 5, W: 6, NumClasses: 4, Noise: 0.2, MaxShift: 1, Seed: 9}
	a, at, err := NewSynthetic(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, bt, _ := NewSynthetic(cfg)
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(at, bt) {
		t.Error("the same config gave different data")
	}
	if err := a.Validate(); err != nil {
		t.Error(err)
	}
	if a.Len() != 50 || at.Len() != 20 || a.C != 3 || a.H != 5 || a.W != 6 || a.NumClasses != 4 {
		t.Errorf("shape %d %d %d×%d×%d classes %d", a.Len(), at.Len(), a.C, a.H, a.W, a.NumClasses)
	}
	// 50 images in 4 classes: balanced to 13, 13, 12, 12.
	if got := classCounts(a); !reflect.DeepEqual(got, []int{13, 13, 12, 12}) {
		t.Errorf("class counts %v", got)
	}
	// The training part does not depend on NTest.
	cfg2 := cfg
	cfg2.NTest = 3
	c, _, _ := NewSynthetic(cfg2)
	if !reflect.DeepEqual(a, c) {
		t.Error("changing NTest changed the training images")
	}
	cfg2 = cfg
	cfg2.Seed = 10
	d, _, _ := NewSynthetic(cfg2)
	if reflect.DeepEqual(a.X, d.X) {
		t.Error("seeds 9 and 10 gave the same images")
	}
}

// The classes are separable: the nearest class mean of the training images
// classifies the test images almost perfectly.
func TestSyntheticSeparable(t *testing.T) {
	train, test, err := NewSynthetic(DefaultSyntheticConfig())
	if err != nil {
		t.Fatal(err)
	}
	s := train.SampleSize()
	means := make([][]float64, train.NumClasses)
	for k := range means {
		means[k] = make([]float64, s)
	}
	counts := classCounts(train)
	for i := range train.Len() {
		for j, v := range train.Image(i) {
			means[train.Labels[i]][j] += float64(v) / float64(counts[train.Labels[i]])
		}
	}
	correct := 0
	for i := range test.Len() {
		best, bestD := 0, 0.0
		for k, m := range means {
			var dist float64
			for j, v := range test.Image(i) {
				e := float64(v) - m[j]
				dist += e * e
			}
			if k == 0 || dist < bestD {
				best, bestD = k, dist
			}
		}
		if best == int(test.Labels[i]) {
			correct++
		}
	}
	if acc := float64(correct) / float64(test.Len()); acc < 0.9 {
		t.Errorf("nearest-mean accuracy %.3f, want ≥ 0.9", acc)
	}
}

func TestSyntheticConfigErrors(t *testing.T) {
	for _, mod := range []func(*SyntheticConfig){
		func(c *SyntheticConfig) { c.NTrain = -1 },
		func(c *SyntheticConfig) { c.H = 0 },
		func(c *SyntheticConfig) { c.NumClasses = 257 },
		func(c *SyntheticConfig) { c.Noise = -0.1 },
		func(c *SyntheticConfig) { c.MaxShift = -1 },
	} {
		cfg := DefaultSyntheticConfig()
		mod(&cfg)
		if _, _, err := NewSynthetic(cfg); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", cfg, err)
		}
	}
}

func Example() {
	cfg := SyntheticConfig{NTrain: 100, NTest: 20, C: 1, H: 8, W: 8, NumClasses: 4, Noise: 0.2, MaxShift: 1, Seed: 1}
	train, test, err := NewSynthetic(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %d images of %d×%d×%d, %d classes\n", train.Name, train.Len(), train.C, train.H, train.W, train.NumClasses)
	fmt.Printf("%s: %d images\n", test.Name, test.Len())

	l, err := NewLoader(train, LoaderConfig{BatchSize: 32, Shuffle: true, Seed: 7})
	if err != nil {
		fmt.Println(err)
		return
	}
	for epoch := range 2 {
		l.StartEpoch(epoch)
		for {
			b, ok := l.Next()
			if !ok {
				break
			}
			fmt.Printf("epoch %d: batch of %d (%d values)\n", epoch, b.N, len(b.X))
		}
	}
	// Output:
	// synthetic-train: 100 images of 1×8×8, 4 classes
	// synthetic-test: 20 images
	// epoch 0: batch of 32 (2048 values)
	// epoch 0: batch of 32 (2048 values)
	// epoch 0: batch of 32 (2048 values)
	// epoch 0: batch of 4 (256 values)
	// epoch 1: batch of 32 (2048 values)
	// epoch 1: batch of 32 (2048 values)
	// epoch 1: batch of 32 (2048 values)
	// epoch 1: batch of 4 (256 values)
}
