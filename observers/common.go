package observers

import (
	"errors"
	"fmt"
	"math"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/internal/minmax"
	"github.com/qatgo/qatgo/internal/parallel"
)

// Sentinel errors, returned wrapped with detail; test with errors.Is.
var (
	// ErrNoFiniteValues: a batch (or, per channel, a channel that has never
	// had data) holds only NaN and ±Inf.
	ErrNoFiniteValues = errors.New("observers: no finite values")
	// ErrEmptyBatch: Observe was given no values.
	ErrEmptyBatch = errors.New("observers: empty batch")
	// ErrShape: the shape does not describe x (len(x) != product(shape), a
	// negative dimension, or a channel axis outside the shape).
	ErrShape = errors.New("observers: bad shape")
	// ErrChannels: a per-channel batch has a different channel count from
	// the first one.
	ErrChannels = errors.New("observers: channel count changed")
	// ErrGranularity: the scheme's granularity does not suit the observer.
	ErrGranularity = errors.New("observers: wrong granularity for observer")
	// ErrBadState: UnmarshalState was given bytes it cannot restore.
	ErrBadState = errors.New("observers: bad state")
	// ErrUnknownKind: New was given a kind it does not know.
	ErrUnknownKind = errors.New("observers: unknown observer kind")
)

// Defaults used by New.
const (
	// DefaultAveragingConstant is PyTorch's MovingAverageMinMaxObserver default.
	DefaultAveragingConstant float32 = 0.01
	// DefaultBins is the histogram size of the histogram family (TensorRT's
	// calibrators and PyTorch's HistogramObserver use 2048).
	DefaultBins = 2048
	// DefaultLowPercentile and DefaultHighPercentile (in percent) bound the
	// Histogram observer's range.
	DefaultLowPercentile  = 0.01
	DefaultHighPercentile = 99.99
	// DefaultMSESteps is the number of candidate ranges per search line of
	// the MSE observer.
	DefaultMSESteps = 100
)

// base holds what every observer shares.
type base struct {
	kind      string
	s         fakequant.QScheme
	frozen    bool
	nonFinite int64
}

func newBase(kind string, s fakequant.QScheme, g fakequant.Granularity) (base, error) {
	if err := s.Validate(); err != nil {
		return base{}, fmt.Errorf("observers: %s: %w", kind, err)
	}
	if s.Granularity != g {
		return base{}, fmt.Errorf("%w: %s observer needs a %v scheme, got %v", ErrGranularity, kind, g, s)
	}
	return base{kind: kind, s: s}, nil
}

// Kind names the observer type, as its state is tagged: "minmax", "ema",
// "minmax-per-channel", "ema-per-channel", "histogram", "mse" or "entropy"
// (for a quantizer's String).
func (b *base) Kind() string { return b.kind }

// Scheme returns the grid the observer computes parameters for.
func (b *base) Scheme() fakequant.QScheme { return b.s }

// SetFrozen(true) makes Observe a no-op that keeps the range.
func (b *base) SetFrozen(frozen bool) { b.frozen = frozen }

// Frozen reports whether Observe is a no-op.
func (b *base) Frozen() bool { return b.frozen }

// NonFinite returns the number of NaN and ±Inf values skipped since
// construction or the last Reset (including those of rejected batches).
func (b *base) NonFinite() int64 { return b.nonFinite }

func (b *base) notObserved() error {
	return fmt.Errorf("observers: %s: %w", b.kind, fakequant.ErrNotObserved)
}

func (b *base) noFinite(n int) error {
	return fmt.Errorf("%w: %s observer: all %d values of the batch are NaN or ±Inf", ErrNoFiniteValues, b.kind, n)
}

// rangeUpdater is a per-tensor observer that folds a batch's [min, max]
// into its state (MinMax, MovingAverageMinMax).
type rangeUpdater interface{ update(mn, mx float32) }

// scanBatch validates a per-tensor batch x and returns its finite range
// and how many of its values are not finite (counted in b); an error when
// none is finite.
func (b *base) scanBatch(x []float32, shape []int) (mn, mx float32, bad int, err error) {
	if err := checkBatch(b.kind, x, shape); err != nil {
		return 0, 0, 0, err
	}
	mn, mx, bad = scan(x)
	b.nonFinite += int64(bad)
	if bad == len(x) {
		return 0, 0, bad, b.noFinite(len(x))
	}
	return mn, mx, bad, nil
}

// observeScan is Observe of a per-tensor range observer: the batch's
// finite range (scanBatch) handed to u.
func (b *base) observeScan(u rangeUpdater, x []float32, shape []int) error {
	if b.frozen {
		return nil
	}
	mn, mx, _, err := b.scanBatch(x, shape)
	if err != nil {
		return err
	}
	u.update(mn, mx)
	return nil
}

// observeRange is ObserveRange of a per-tensor range observer: n finite
// values from mn to mx, as a folded quantizer's producer reports them.
func (b *base) observeRange(u rangeUpdater, mn, mx float32, n int) error {
	if b.frozen {
		return nil
	}
	if err := checkRange(b.kind, mn, mx, n); err != nil {
		return err
	}
	u.update(mn, mx)
	return nil
}

// checkBatch validates x against shape for every observer.
func checkBatch(kind string, x []float32, shape []int) error {
	n := 1
	for i, d := range shape {
		if d < 0 {
			return fmt.Errorf("%w: %s observer: dimension %d of shape %v is negative", ErrShape, kind, i, shape)
		}
		n *= d
	}
	if n != len(x) {
		return fmt.Errorf("%w: %s observer: %d values for shape %v (%d elements)", ErrShape, kind, len(x), shape, n)
	}
	if len(x) == 0 {
		return fmt.Errorf("%w: %s observer, shape %v", ErrEmptyBatch, kind, shape)
	}
	return nil
}

// checkRange validates an ObserveRange batch: n > 0 finite values from mn
// to mx.
func checkRange(kind string, mn, mx float32, n int) error {
	if n <= 0 {
		return fmt.Errorf("%w: %s observer, range of %d values", ErrEmptyBatch, kind, n)
	}
	if !finite(mn) || !finite(mx) || mn > mx {
		return fmt.Errorf("%w: %s observer: range [%g, %g] of %d values", ErrShape, kind, mn, mx, n)
	}
	return nil
}

var (
	posInf = float32(math.Inf(1))
	negInf = float32(math.Inf(-1))
)

// finite reports whether v is neither NaN nor ±Inf: both have an all-ones
// exponent.
func finite(v float32) bool { return math.Float32bits(v)&0x7f800000 != 0x7f800000 }

// scan returns the min and max of the finite values of x and the number of
// non-finite ones; with no finite value mn = +Inf and mx = -Inf.
//
// The fast path (minmax.Fast, SIMD where the build has it) tests no value for
// finiteness: it also sums v-v, which is 0 for finite v and NaN for NaN and
// ±Inf, so one NaN check at the end tells whether the careful path must run.
//
// Above 2·scanGrain values it splits x over the cores (internal/parallel);
// min and max do not depend on the order, so the result is the same.
func scan(x []float32) (mn, mx float32, bad int) {
	if k := parallel.Chunks(len(x), scanGrain); k > 1 {
		return scanParallel(x, k)
	}
	return scanOne(x)
}

// scanGrain is the fewest values a core scans when scan splits x.
const scanGrain = 1 << 15

// scanOne is scan on the calling goroutine.
func scanOne(x []float32) (mn, mx float32, bad int) {
	if mn, mx, ok := minmax.Fast(x); ok {
		return mn, mx, 0
	}
	return scanCareful(x)
}

// scanParallel is scan over k chunks of x, one per goroutine.
func scanParallel(x []float32, k int) (mn, mx float32, bad int) {
	type part struct {
		mn, mx float32
		bad    int
	}
	parts := make([]part, k)
	parallel.For(len(x), k, 16, func(i, lo, hi int) {
		p := &parts[i]
		p.mn, p.mx, p.bad = scanOne(x[lo:hi])
	})
	mn, mx = posInf, negInf
	for _, p := range parts {
		mn, mx, bad = min(mn, p.mn), max(mx, p.mx), bad+p.bad
	}
	return mn, mx, bad
}

// scanCareful is scan with a finiteness test per value.
func scanCareful(x []float32) (mn, mx float32, bad int) {
	mn, mx = posInf, negInf
	for _, v := range x {
		if !finite(v) {
			bad++
			continue
		}
		if v < mn {
			mn = v
		}
		if v > mx {
			mx = v
		}
	}
	return mn, mx, bad
}
