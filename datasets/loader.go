package datasets

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
)

// ErrShortBuffer is returned (wrapped) by NextInto when a caller's buffer
// cannot hold a full batch.
var ErrShortBuffer = errors.New("datasets: buffer too short for a batch")

// LoaderConfig says how a Loader batches a dataset.
type LoaderConfig struct {
	BatchSize int
	// Shuffle visits the images in a random order each epoch; the order of
	// epoch e depends only on (Seed, e).
	Shuffle bool
	Seed    uint64
	// DropLast skips the last batch of an epoch when it is not full;
	// otherwise it is delivered with its real count.
	DropLast bool
}

// Batch is one batch from a Loader. X holds N images (N·C·H·W values) and
// Labels N labels; both are views into the loader's buffers, valid until
// the next call to Next.
type Batch struct {
	X      []float32
	Labels []int
	N      int
}

// Loader delivers a dataset in batches, epoch after epoch. It owns a
// permutation and batch buffers that it reuses, so Next and NextInto do not
// allocate, and StartEpoch does not either. A Loader is not safe for
// concurrent use.
type Loader struct {
	d     *Dataset
	cfg   LoaderConfig
	order []int
	pos   int
	epoch int
	src   rand.PCG
	rng   *rand.Rand
	x     []float32
	y     []int
}

// NewLoader returns a loader over d positioned at the start of epoch 0.
func NewLoader(d *Dataset, cfg LoaderConfig) (*Loader, error) {
	if cfg.BatchSize < 1 {
		return nil, fmt.Errorf("%w: batch size %d, want ≥ 1", ErrInvalid, cfg.BatchSize)
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	l := &Loader{d: d, cfg: cfg, order: make([]int, d.Len()),
		x: make([]float32, cfg.BatchSize*d.SampleSize()), y: make([]int, cfg.BatchSize)}
	l.rng = rand.New(&l.src)
	l.StartEpoch(0)
	return l, nil
}

// Dataset returns the dataset the loader reads.
func (l *Loader) Dataset() *Dataset { return l.d }

// BatchSize returns the configured batch size.
func (l *Loader) BatchSize() int { return l.cfg.BatchSize }

// Epoch returns the current epoch.
func (l *Loader) Epoch() int { return l.epoch }

// NumBatches returns the number of batches in an epoch.
func (l *Loader) NumBatches() int {
	n, b := l.d.Len(), l.cfg.BatchSize
	if l.cfg.DropLast {
		return n / b
	}
	return (n + b - 1) / b
}

// StartEpoch positions the loader at the start of the given epoch and
// computes that epoch's order from (Seed, epoch) alone, so a resumed run
// can jump straight to any epoch.
func (l *Loader) StartEpoch(epoch int) {
	l.epoch, l.pos = epoch, 0
	for i := range l.order {
		l.order[i] = i
	}
	if !l.cfg.Shuffle {
		return
	}
	// Mixing the epoch keeps the generators of neighbouring epochs from
	// starting in neighbouring states.
	l.src.Seed(l.cfg.Seed, splitmix64(uint64(epoch)^0x9e3779b97f4a7c15))
	for i := len(l.order) - 1; i > 0; i-- {
		j := l.rng.IntN(i + 1)
		l.order[i], l.order[j] = l.order[j], l.order[i]
	}
}

func splitmix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Order returns the current epoch's order of image indices (a view; do not
// modify).
func (l *Loader) Order() []int { return l.order }

// Skip advances past k batches of the current epoch without copying them,
// to resume in the middle of an epoch.
func (l *Loader) Skip(k int) {
	l.pos = min(l.pos+max(k, 0)*l.cfg.BatchSize, len(l.order))
}

// Next fills the loader's own buffers with the next batch of the current
// epoch. It returns false at the end of the epoch; call StartEpoch to go on.
func (l *Loader) Next() (Batch, bool) {
	n, err := l.NextInto(l.x, l.y)
	if err != nil {
		return Batch{}, false
	}
	return Batch{X: l.x[:n*l.d.SampleSize()], Labels: l.y[:n], N: n}, true
}

// NextInto copies the next batch of the current epoch into x (at least
// BatchSize·C·H·W values) and labels (at least BatchSize) and returns its
// size, which is below BatchSize only for the last batch when DropLast is
// off. It returns io.EOF at the end of the epoch.
func (l *Loader) NextInto(x []float32, labels []int) (int, error) {
	b, s := l.cfg.BatchSize, l.d.SampleSize()
	if len(x) < b*s || len(labels) < b {
		return 0, fmt.Errorf("%w: have %d values and %d labels, want %d and %d", ErrShortBuffer, len(x), len(labels), b*s, b)
	}
	n := min(b, len(l.order)-l.pos)
	if n <= 0 || (n < b && l.cfg.DropLast) {
		l.pos = len(l.order)
		return 0, io.EOF
	}
	for j, i := range l.order[l.pos : l.pos+n] {
		copy(x[j*s:(j+1)*s], l.d.X[i*s:(i+1)*s])
		labels[j] = int(l.d.Labels[i])
	}
	l.pos += n
	return n, nil
}
