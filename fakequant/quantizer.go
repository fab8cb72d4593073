package fakequant

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Observer watches the values a tensor takes and proposes the range that a
// Quantizer maps onto its integer grid. Package observers implements it.
//
// Observe is called from inside a running graph (in the forward pass of the
// fake-quant op) while the observer is enabled; it must not retain x.
type Observer interface {
	// Observe records a batch. shape is x's shape (row-major); per-channel
	// observers use the scheme's Axis into it. Non-finite values are skipped
	// and counted; a batch with no finite value at all is an error.
	Observe(x []float32, shape []int) error
	// QParams computes scale and zero point for the scheme from the range
	// seen so far. Before any observation it returns ErrNotObserved.
	QParams() (QParams, error)
	// Range returns the range the observer proposes now (after clipping, for
	// observers that clip): one pair per tensor, or one per channel.
	Range() (min, max []float32, err error)
	// Scheme is the grid the observer computes parameters for.
	Scheme() QScheme
	// SetFrozen(true) makes Observe a no-op, keeping the range (eval, or
	// after the freeze epoch); Frozen reports it.
	SetFrozen(frozen bool)
	Frozen() bool
	// Reset forgets everything observed.
	Reset()
	// NonFinite is the number of NaN/Inf values skipped so far.
	NonFinite() int64
	// MarshalState and UnmarshalState save and restore the observer's state
	// (ranges, histograms, counters) for checkpoints.
	MarshalState() ([]byte, error)
	UnmarshalState([]byte) error
}

// RowObserver is implemented by per-channel observers that can observe a
// batch whose channels are its rows (axis 0: a weight's output channels)
// one row at a time. The Affine quantizer then observes and fake-quantizes
// each row while it is in cache: one pass over a weight from memory where
// Observe and FakeQuantize make two.
type RowObserver interface {
	Observer
	// ObserveRows is Observe, calling use(c, row, mn, mx) with each
	// channel's row and its range after the row was folded in (rows may be
	// handed over from several goroutines at once). It returns false, having
	// changed nothing, where Observe must run instead (the first batch, a
	// frozen observer, channels on another axis).
	ObserveRows(x []float32, shape []int, use func(c int, row []float32, mn, mx float32)) (bool, error)
}

// Binder creates the graph node for a persistent learnable tensor (such as an
// LSQ scale) in the graph being built, and registers it so that a trainer
// finds and updates it. Package nn's graph builder implements it; name is
// unique within the owning layer (e.g. "scale").
type Binder interface {
	Learnable(name string, v *tensor.Dense) *G.Node
}

// Quantizer is what a layer holds for one tensor: its weight, or its output
// activation. Apply inserts quantize→dequantize of x into x's graph. The same
// Quantizer may be applied in several graphs (a training graph and an
// evaluation graph sharing the weights); its state (observer, learned
// parameters, flags) is shared between them.
type Quantizer interface {
	// Apply returns the node holding the fake-quantized x. b registers any
	// learnable parameter the quantizer owns; it may be nil when there is none.
	Apply(b Binder, x *G.Node) (*G.Node, error)
	// SetObserving turns range observation on (training, calibration) or off
	// (evaluation, frozen ranges).
	SetObserving(on bool)
	// SetEnabled(false) makes Apply's op pass values through unchanged (an FP32
	// layer), while observation may still go on.
	SetEnabled(on bool)
	// QParams returns the parameters the op uses now (the observer's or the
	// learned ones). Before the first observation it returns ErrNotObserved.
	QParams() (QParams, error)
	// MarshalState and UnmarshalState save and restore the quantizer with its
	// observer and learned parameters.
	MarshalState() ([]byte, error)
	UnmarshalState([]byte) error
	// String describes the quantizer, e.g. "int8 sym per-channel(axis 0) minmax".
	String() string
}
