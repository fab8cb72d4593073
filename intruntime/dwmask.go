package intruntime

// dwMaskPlan is a stride-1, padding-1 depthwise 3×3 computed straight from
// its H×W input planes, without zero-point frames: each vector of 16
// consecutive outputs (the plane's last vector at hw − 16, overlapping)
// loads each tap's 16 codes at the outputs' positions plus the tap's
// offset, (ky − 1)·W + kx − 1, and takes the zero point instead where the
// tap falls outside the plane (masks: 0xFF where it is inside, 9 rows of
// 16 bytes a vector). The frames' copy, the flat pass over their borders
// and the pick of the outputs from it (MobileNetV2's 4×4 planes computed 36
// flat positions for 16 outputs) are gone.
type dwMaskPlan struct {
	h, w, hw, nv int
	masks        []byte
}

// dwMaskMinHW is the smallest plane a dwMaskPlan takes: one whole vector.
const dwMaskMinHW = 16

// newDwMaskPlan returns the plan for H×W planes, or nil where a plane is
// smaller than a vector or a row too wide for the reads past the last
// plane to stay inside a buffer's slack.
func newDwMaskPlan(H, W int) *dwMaskPlan {
	hw := H * W
	if hw < dwMaskMinHW || W+17 > slack {
		return nil
	}
	p := &dwMaskPlan{h: H, w: W, hw: hw, nv: ceilDiv(hw, 16)}
	p.masks = make([]byte, p.nv*9*16)
	for v := range p.nv {
		p0 := min(16*v, hw-16)
		for t := range 9 {
			dy, dx := t/3-1, t%3-1
			for l := range 16 {
				y, x := (p0+l)/W+dy, (p0+l)%W+dx
				if y >= 0 && y < H && x >= 0 && x < W {
					p.masks[(v*9+t)*16+l] = 0xFF
				}
			}
		}
	}
	return p
}

// dwMaskWeights returns a 3×3 kernel's weights as VPMADDWD's pairs: taps
// (0, 1), (2, 3), (4, 5), (6, 7) and (8, none), the first of each in the
// low word.
func dwMaskWeights(dst *[5]uint32, w []int8) {
	for i := range 5 {
		lo, hi := w[2*i], int8(0)
		if 2*i+1 < 9 {
			hi = w[2*i+1]
		}
		dst[i] = uint32(uint16(int16(lo))) | uint32(uint16(int16(hi)))<<16
	}
}
