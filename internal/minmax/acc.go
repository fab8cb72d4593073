package minmax

import "math"

// Acc accumulates the range of many float32 slices in vector lanes, so that
// short slices (a batch norm's planes, each scanned while in cache) cost no
// reduction each. The zero Acc is not ready: call Reset first.
type Acc struct {
	lanes [3][16]float32 // min, max and sum per lane
}

// Reset empties the accumulator.
func (a *Acc) Reset() {
	for i := range 16 {
		a.lanes[0][i], a.lanes[1][i], a.lanes[2][i] = posInf, negInf, 0
	}
}

// Add folds x into the range.
func (a *Acc) Add(x []float32) {
	if len(x) == 0 {
		return
	}
	if useAVX512 {
		acc512(&x[0], len(x), &a.lanes)
		return
	}
	mn, mx, ok := Fast(x)
	a.lanes[0][0], a.lanes[1][0] = min(a.lanes[0][0], mn), max(a.lanes[1][0], mx)
	if !ok {
		a.lanes[2][0] = float32(math.NaN())
	}
}

// Result returns the min and max of everything added. ok is false when a
// value was a NaN or an infinity, and may be false when the values' sum
// overflows (the vector loop's cheap guard): a caller that needs the range
// then scans carefully.
func (a *Acc) Result() (mn, mx float32, ok bool) {
	mn, mx = posInf, negInf
	var s float32
	for i := range 16 {
		mn, mx, s = min(mn, a.lanes[0][i]), max(mx, a.lanes[1][i]), s+(a.lanes[2][i]-a.lanes[2][i])
	}
	return mn, mx, s == 0 && mn <= mx
}
