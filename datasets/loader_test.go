package datasets

import (
	"errors"
	"io"
	"reflect"
	"slices"
	"testing"
)

// rangeDataset holds n 1×1×1 images whose single value is the image index
// and whose label is index mod 10, so batches show which images they hold.
func rangeDataset(n int) *Dataset {
	d := &Dataset{Name: "range", C: 1, H: 1, W: 1, NumClasses: 10, X: make([]float32, n), Labels: make([]uint8, n)}
	for i := range n {
		d.X[i] = float32(i)
		d.Labels[i] = uint8(i % 10)
	}
	return d
}

// epochBatches runs one epoch and returns the image values of each batch.
func epochBatches(l *Loader) [][]float32 {
	var out [][]float32
	for {
		b, ok := l.Next()
		if !ok {
			return out
		}
		out = append(out, slices.Clone(b.X))
	}
}

func TestLoaderSequential(t *testing.T) {
	for _, test := range []struct {
		n, batch int
		dropLast bool
		want     [][]float32
	}{
		{10, 4, false, [][]float32{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}}},
		{10, 4, true, [][]float32{{0, 1, 2, 3}, {4, 5, 6, 7}}},
		{8, 4, true, [][]float32{{0, 1, 2, 3}, {4, 5, 6, 7}}},
		{3, 4, true, nil},
		{3, 4, false, [][]float32{{0, 1, 2}}},
	} {
		l, err := NewLoader(rangeDataset(test.n), LoaderConfig{BatchSize: test.batch, DropLast: test.dropLast})
		if err != nil {
			t.Fatal(err)
		}
		if l.NumBatches() != len(test.want) {
			t.Errorf("n=%d batch=%d drop=%v: NumBatches %d, want %d", test.n, test.batch, test.dropLast, l.NumBatches(), len(test.want))
		}
		for epoch := range 2 {
			l.StartEpoch(epoch)
			if got := epochBatches(l); !reflect.DeepEqual(got, test.want) {
				t.Errorf("n=%d batch=%d drop=%v epoch %d: %v, want %v", test.n, test.batch, test.dropLast, epoch, got, test.want)
			}
		}
	}
}

func TestLoaderLabelsMatchImages(t *testing.T) {
	d := rangeDataset(23)
	l, _ := NewLoader(d, LoaderConfig{BatchSize: 5, Shuffle: true, Seed: 3})
	x, y := make([]float32, 5), make([]int, 5)
	seen := map[int]bool{}
	for {
		n, err := l.NextInto(x, y)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for j := range n {
			i := int(x[j])
			if y[j] != i%10 {
				t.Errorf("image %d came with label %d", i, y[j])
			}
			seen[i] = true
		}
	}
	if len(seen) != 23 {
		t.Errorf("epoch visited %d distinct images, want 23", len(seen))
	}
}

// The order of epoch k depends only on (seed, k): a fresh loader jumping to
// epoch 3 sees what a loader that ran epochs 0..2 sees.
func TestLoaderShuffleDeterminism(t *testing.T) {
	cfg := LoaderConfig{BatchSize: 7, Shuffle: true, Seed: 42}
	a, _ := NewLoader(rangeDataset(50), cfg)
	var orders [][]int
	for e := range 4 {
		a.StartEpoch(e)
		epochBatches(a)
		orders = append(orders, slices.Clone(a.Order()))
	}
	b, _ := NewLoader(rangeDataset(50), cfg)
	b.StartEpoch(3)
	if !reflect.DeepEqual(b.Order(), orders[3]) {
		t.Error("epoch 3 differs between a resumed and a continuous loader")
	}
	for e := range 4 {
		if p := slices.Sorted(slices.Values(orders[e])); !reflect.DeepEqual(p, rangeInts(50)) {
			t.Errorf("epoch %d order is not a permutation: %v", e, orders[e])
		}
		for f := e + 1; f < 4; f++ {
			if reflect.DeepEqual(orders[e], orders[f]) {
				t.Errorf("epochs %d and %d have the same order", e, f)
			}
		}
	}
	cfg.Seed = 43
	c, _ := NewLoader(rangeDataset(50), cfg)
	c.StartEpoch(3)
	if reflect.DeepEqual(c.Order(), orders[3]) {
		t.Error("seeds 42 and 43 give the same order")
	}

	// Skip resumes inside an epoch.
	b.StartEpoch(3)
	all := epochBatches(b)
	b.StartEpoch(3)
	b.Skip(2)
	if rest := epochBatches(b); !reflect.DeepEqual(rest, all[2:]) {
		t.Errorf("after Skip(2): %v, want %v", rest, all[2:])
	}
}

func rangeInts(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func TestLoaderZeroAllocs(t *testing.T) {
	d := rangeDataset(1000)
	d.C, d.H, d.W = 1, 1, 1
	l, _ := NewLoader(d, LoaderConfig{BatchSize: 32, Shuffle: true, Seed: 1})
	if a := testing.AllocsPerRun(200, func() {
		if _, ok := l.Next(); !ok {
			l.StartEpoch(l.Epoch() + 1)
		}
	}); a != 0 {
		t.Errorf("Next: %v allocations per batch, want 0", a)
	}
	x, y := make([]float32, 32), make([]int, 32)
	if a := testing.AllocsPerRun(200, func() {
		if _, err := l.NextInto(x, y); err != nil {
			l.StartEpoch(l.Epoch() + 1)
		}
	}); a != 0 {
		t.Errorf("NextInto: %v allocations per batch, want 0", a)
	}
}

func TestLoaderErrors(t *testing.T) {
	if _, err := NewLoader(rangeDataset(5), LoaderConfig{BatchSize: 0}); !errors.Is(err, ErrInvalid) {
		t.Errorf("batch size 0: %v", err)
	}
	bad := rangeDataset(5)
	bad.Labels[0] = 10
	if _, err := NewLoader(bad, LoaderConfig{BatchSize: 1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad dataset: %v", err)
	}
	l, _ := NewLoader(rangeDataset(5), LoaderConfig{BatchSize: 4})
	if _, err := l.NextInto(make([]float32, 3), make([]int, 4)); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("short buffer: %v", err)
	}
}

// One shuffled batch of 64 MNIST-shaped images.
func BenchmarkLoaderNext64(b *testing.B) {
	cfg := DefaultSyntheticConfig()
	cfg.NTest = 0
	d, _, err := NewSynthetic(cfg)
	if err != nil {
		b.Fatal(err)
	}
	l, _ := NewLoader(d, LoaderConfig{BatchSize: 64, Shuffle: true, Seed: 1, DropLast: true})
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := l.Next(); !ok {
			l.StartEpoch(l.Epoch() + 1)
		}
	}
}
