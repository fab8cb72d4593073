package intruntime

// The graph layers: grouped/depthwise convolution, residual add, concat and
// the rescaling average pools. Buffers are CNHW storage codes (code + off),
// as everywhere in the runtime; each step reads its input tensors' buffers.

// groupedConv runs a grouped convolution (depthwise when each group has one
// input channel) directly: for every output channel and image, an int32
// accumulator plane gathers w·(x − Z_X) over the group's input channels and
// the kernel window (padding is real 0 and skipped), then the channel's
// requantization turns it into codes. There is no im2col and no GEMM: the
// reduction is only (InChannels/Groups)·KernelH·KernelW long.
func (e *engine) groupedConv(dst, src []uint8, s *step, n int) {
	H, W := s.in.shape.H, s.in.shape.W
	outC, oh, ow := s.out.shape.C, s.out.shape.H, s.out.shape.W
	P := oh * ow
	cpg := s.in.shape.C / s.groups // input channels per group
	opg := outC / s.groups         // output channels per group
	K := cpg * s.kh * s.kw
	zx := int32(s.zx)
	acc := e.acc[:P]
	for oc := range outC {
		g := oc / opg
		w := s.gw[oc*K : (oc+1)*K]
		for b := range n {
			clear(acc)
			for ci := range cpg {
				plane := src[((g*cpg+ci)*n+b)*H*W:][:H*W]
				for ky := range s.kh {
					for kx := range s.kw {
						wv := int32(w[(ci*s.kh+ky)*s.kw+kx])
						if wv == 0 {
							continue
						}
						// Output columns whose input column is inside the image.
						xa := max(0, ceilDiv(s.pw-kx, s.sw))
						xb := max(xa, min(ow, ceilDiv(W+s.pw-kx, s.sw)))
						wz := wv * zx
						for y := range oh {
							iy := y*s.sh - s.ph + ky
							if iy < 0 || iy >= H {
								continue
							}
							row := plane[iy*W : iy*W+W]
							a := acc[y*ow : y*ow+ow]
							if s.sw == 1 {
								r := row[xa-s.pw+kx : xb-s.pw+kx]
								aa := a[xa:xb]
								aa = aa[:len(r)]
								for j, v := range r {
									aa[j] += wv*int32(v) - wz
								}
								continue
							}
							for x := xa; x < xb; x++ {
								a[x] += wv*int32(row[x*s.sw-s.pw+kx]) - wz
							}
						}
					}
				}
			}
			e.requantOne(dst[(oc*n+b)*P:][:P], acc, s, oc)
		}
	}
}

// add is the residual add of two tensors of one shape, element by element
// (intmodel.Add.Apply: TFLite's int8 ADD).
func add(dst, a, b []uint8, s *step, n int) {
	size := n * s.out.shape.Size()
	offA, offB, off := s.inActs[0].off, s.inActs[1].off, s.out.off
	a, b, dst = a[:size], b[:size], dst[:size]
	for j := range dst {
		dst[j] = uint8(s.add.Apply(int32(a[j])-offA, int32(b[j])-offB) + off)
	}
}

// concat joins the inputs along channels. In CNHW each input is one
// contiguous block of its channels, so the output is the blocks back to
// back: copied when the input shares the output's quantization, otherwise
// requantized code by code (a Rescale of count 1).
func (e *engine) concat(dst []uint8, s *step, n int) {
	o := 0
	for k, in := range s.inActs {
		size := n * in.shape.Size()
		src, out := e.bufs[s.ins[k]][:size], dst[o:o+size]
		o += size
		if in.q == s.out.q {
			copy(out, src)
			continue
		}
		r := &s.rescale[k]
		sub := in.off + r.In.ZeroPoint
		for j, v := range src {
			out[j] = uint8(r.Apply(int32(v)-sub) + s.out.off)
		}
	}
}

// globalAvgPool rescales each (channel, image) plane's sum of code
// differences Σ (q − Z_in) over H·W into one output code.
func globalAvgPool(dst, src []uint8, s *step, n int) {
	hw := s.in.shape.H * s.in.shape.W
	r := &s.rescale[0]
	sub := int32(hw) * (s.in.off + r.In.ZeroPoint)
	for plane := range s.in.shape.C * n {
		var sum int32
		for _, v := range src[plane*hw : (plane+1)*hw] {
			sum += int32(v)
		}
		dst[plane] = uint8(r.Apply(sum-sub) + s.out.off)
	}
}

// avgPoolRescale is an AvgPool2d with Requant: each window's Σ (q − Z_in)
// over its in-bounds positions (padding is real 0, so it adds nothing but
// counts in the divisor KernelH·KernelW, which the multiplier holds).
func avgPoolRescale(dst, src []uint8, s *step, n int) {
	H, W := s.in.shape.H, s.in.shape.W
	oh, ow := s.out.shape.H, s.out.shape.W
	p := s.pool
	r := &s.rescale[0]
	sub := s.in.off + r.In.ZeroPoint
	for plane := range s.in.shape.C * n {
		in := src[plane*H*W : (plane+1)*H*W]
		out := dst[plane*oh*ow : (plane+1)*oh*ow]
		for y := range oh {
			y0 := y*p.StrideH - p.PadH
			ya, yb := max(y0, 0), min(y0+p.KernelH, H)
			for x := range ow {
				x0 := x*p.StrideW - p.PadW
				xa, xb := max(x0, 0), min(x0+p.KernelW, W)
				var sum int32
				for yy := ya; yy < yb; yy++ {
					for _, v := range in[yy*W+xa : yy*W+xb] {
						sum += int32(v)
					}
				}
				sum -= int32((yb-ya)*(xb-xa)) * sub
				out[y*ow+x] = uint8(r.Apply(sum) + s.out.off)
			}
		}
	}
}
