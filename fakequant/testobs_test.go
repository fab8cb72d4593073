package fakequant

import (
	"encoding/json"
	"fmt"
	"math"
)

// minMaxObs is a tiny min-max observer for this package's tests (package
// observers provides the real ones): running min and max, per tensor or per
// channel along the scheme's axis.
type minMaxObs struct {
	s        QScheme
	Min, Max []float32
	Seen     bool
	frozen   bool
	NonFin   int64
}

func newObs(s QScheme) *minMaxObs { return &minMaxObs{s: s} }

func (o *minMaxObs) Observe(x []float32, shape []int) error {
	if o.frozen {
		return nil
	}
	l, err := shapeLayout(o.s, shape, len(x))
	if err != nil {
		return err
	}
	lo, hi := make([]float32, l.channels), make([]float32, l.channels)
	for c := range lo {
		lo[c], hi[c] = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	finite := false
	off := 0
	for k := 0; k < l.outer; k++ {
		for c := 0; c < l.channels; c++ {
			for _, v := range x[off : off+l.inner] {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					o.NonFin++
					continue
				}
				finite = true
				lo[c], hi[c] = min(lo[c], v), max(hi[c], v)
			}
			off += l.inner
		}
	}
	if !finite {
		return fmt.Errorf("minMaxObs: no finite value")
	}
	if !o.Seen {
		o.Min, o.Max, o.Seen = lo, hi, true
		return nil
	}
	for c := range lo {
		o.Min[c], o.Max[c] = min(o.Min[c], lo[c]), max(o.Max[c], hi[c])
	}
	return nil
}

func (o *minMaxObs) QParams() (QParams, error) {
	if !o.Seen {
		return QParams{}, ErrNotObserved
	}
	lo, hi := append([]float32(nil), o.Min...), append([]float32(nil), o.Max...)
	for c := range lo {
		if lo[c] > hi[c] { // channel with no finite value
			lo[c], hi[c] = 0, 0
		}
	}
	return QParamsFromRange(o.s, lo, hi)
}

func (o *minMaxObs) Range() (min, max []float32, err error) {
	if !o.Seen {
		return nil, nil, ErrNotObserved
	}
	return o.Min, o.Max, nil
}
func (o *minMaxObs) Scheme() QScheme               { return o.s }
func (o *minMaxObs) SetFrozen(f bool)              { o.frozen = f }
func (o *minMaxObs) Frozen() bool                  { return o.frozen }
func (o *minMaxObs) Reset()                        { o.Min, o.Max, o.Seen, o.NonFin = nil, nil, false, 0 }
func (o *minMaxObs) NonFinite() int64              { return o.NonFin }
func (o *minMaxObs) MarshalState() ([]byte, error) { return json.Marshal(o) }
func (o *minMaxObs) UnmarshalState(b []byte) error {
	var n minMaxObs
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	if len(n.Min) != len(n.Max) {
		return fmt.Errorf("minMaxObs: bad state")
	}
	o.Min, o.Max, o.Seen, o.NonFin = n.Min, n.Max, n.Seen, n.NonFin
	return nil
}

var _ Observer = (*minMaxObs)(nil)

func (o *minMaxObs) String() string { return "minmax" }
