package intruntime

// Convolutions of few taps (a grayscale model's first layer: one input
// channel, 3×3) as one pass that keeps every tap's codes in registers and
// requantizes in them (host.stem, stemY): 16 outputs of a row at a time,
// their ≤ 10 taps' codes widened and paired once, then per output channel
// five VPMADDWDs and the float relu8 requantization, 16 codes stored. The
// GEMM path had packed K = 9 into 12, written int32 C and read it back: on
// Zen 3 vgg-small's conv1 (1 → 16 channels, 28×28) took 5.7 µs an image,
// a tenth of the model.

// stemTaps is the most taps (input channels × kernel positions) a stem
// plan takes: five pairs, ten registers of paired codes for 16 outputs.
const stemTaps = 10

// stemPlan is a stride-1 convolution of at most stemTaps taps run by
// host.stem on zero-point frames of its input.
type stemPlan struct {
	cin, hf, wf, ph, pw int
	oh, ow              int
	// offs: tap t's offset in an image's frames (channel c's at c·hf·wf),
	// the taps past the kernel's at 0 with zero weights.
	offs [stemTaps]int32
	// w: output channel m's pairs of tap weights, each pair (taps 2j,
	// 2j+1: low and high int16 of a dword) repeated for the 8 lanes:
	// w[(m·5 + j)·8 + lane].
	w []uint32
}

// frameBytes is one image's frames.
func (p *stemPlan) frameBytes() int { return p.cin * p.hf * p.wf }

// newStemPlan plans conv step s (weights w, [m][cin][kh][kw]) for
// host.stem: stride 1, no groups, at most stemTaps taps, outputs at least
// 16 wide and every channel requantized by the float relu8 kernel
// (rqFloat8; its packs are the clamp); else nil.
func newStemPlan(s *step, w []int8, m int) *stemPlan {
	cin, H, W := s.in.shape.C, s.in.shape.H, s.in.shape.W
	taps := cin * s.kh * s.kw
	if host.stem == nil || s.groups != 0 || s.sh != 1 || s.sw != 1 || taps > stemTaps || len(s.rq) != m || m < 1 || len(w) != m*taps {
		return nil
	}
	for i := range s.rq {
		if s.rq[i].float != floatRelu8 {
			return nil
		}
	}
	p := &stemPlan{cin: cin, hf: H + 2*s.ph, wf: W + 2*s.pw, ph: s.ph, pw: s.pw}
	p.oh, p.ow = p.hf-s.kh+1, p.wf-s.kw+1
	if p.ow < 16 || p.oh < 1 {
		return nil
	}
	for t := range taps {
		c, k := t/(s.kh*s.kw), t%(s.kh*s.kw)
		p.offs[t] = int32(c*p.hf*p.wf + k/s.kw*p.wf + k%s.kw)
	}
	p.w = make([]uint32, m*stemTaps/2*8)
	for oc := range m {
		for j := range stemTaps / 2 {
			var pair uint32
			for h := range 2 {
				if t := 2*j + h; t < taps {
					pair |= uint32(uint16(int16(w[oc*taps+t]))) << (16 * h)
				}
			}
			for l := range 8 {
				p.w[(oc*stemTaps/2+j)*8+l] = pair
			}
		}
	}
	return p
}

// stemConv runs conv step s (with a stem plan) on n images from src into
// dst: per chunk of images their frames, then one host.stem call an image
// (into its reader's frames where s.framed).
func (e *engine) stemConv(dst, src []uint8, s *step, n int) {
	p := s.stem
	H, W := s.in.shape.H, s.in.shape.W
	hw, fb, P := H*W, p.frameBytes(), p.oh*p.ow
	per := max(1, (len(e.padbuf)-slack)/fb)
	for b0 := 0; b0 < n; b0 += per {
		nb := min(per, n-b0)
		frames := e.padbuf[:nb*fb]
		fill(frames, s.zx)
		for c := range p.cin {
			host.frameRows(frames[c*p.hf*p.wf+p.ph*p.wf+p.pw:], src[(c*n+b0)*hw:][:nb*hw], H, W, p.wf, nb, fb)
		}
		for b := range nb {
			if f := s.framed; f != nil {
				host.stem(dst[f.at(0, b0+b):], f.images*f.plane(), f.Wp, frames[b*fb:][:fb], p, s.rq)
				continue
			}
			host.stem(dst[(b0+b)*P:], n*P, p.ow, frames[b*fb:][:fb], p, s.rq)
		}
	}
}

// stemScalar is host.stem's definition (the tests' reference): output
// channel m's rows of p.ow codes from out[m·outStride:], outRow apart, each the channel's
// fixed-point requantization of the sum of its tap weights times the
// codes of the image's frames.
func stemScalar(out []uint8, outStride, outRow int, frames []uint8, p *stemPlan, rq []requantScalars) {
	acc := make([]int32, p.oh*p.ow)
	for m := range rq {
		for y := range p.oh {
			for x := range p.ow {
				var sum int32
				for j := range stemTaps / 2 {
					pair := p.w[(m*stemTaps/2+j)*8]
					for h := range 2 {
						sum += int32(int16(pair>>(16*h))) * int32(frames[int(p.offs[2*j+h])+y*p.wf+x])
					}
				}
				acc[y*p.ow+x] = sum
			}
		}
		c := &rq[m]
		requantRowsScalar(out[m*outStride:], outRow, acc, p.ow, p.oh, p.ow, int64(c.bias), c.m0, uint(c.exp), c.zy, c.lo, c.hi)
	}
}
