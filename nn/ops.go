package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// dispatch runs f32 or f64 by dtype.
func dispatch(dt tensor.Dtype, f32, f64 func() error) error {
	switch dt {
	case tensor.Float32:
		return f32()
	case tensor.Float64:
		return f64()
	}
	return fmt.Errorf("nn: unsupported dtype %v", dt)
}

// split returns the sizes before, at and after axis of s.
func split(s tensor.Shape, axis int) (outer, c, inner int) {
	outer, inner = 1, 1
	for i, d := range s {
		switch {
		case i < axis:
			outer *= d
		case i > axis:
			inner *= d
		}
	}
	return outer, s[axis], inner
}

// channelSum reduces x to a vector along axis (summing all other axes).
func channelSum(x *G.Node, axis int) (*G.Node, error) {
	s := x.Shape().Clone()
	outer, c, inner := split(s, axis)
	dt := x.Dtype()
	op := &fnOp{name: "chansum", dt: dt, outShape: tensor.Shape{c}}
	op.fwd = func(o *tensor.Dense, v []*tensor.Dense) error {
		return dispatch(dt, func() error { chanSum(data[float32](o), data[float32](v[0]), nil, outer, c, inner); return nil },
			func() error { chanSum(data[float64](o), data[float64](v[0]), nil, outer, c, inner); return nil })
	}
	return apply(op, x)
}

// chanSum sets dst[c] = Σ a (or Σ a·b when b is not nil) over all but the channel axis.
func chanSum[T float](dst, a, b []T, outer, c, inner int) {
	for j := range dst {
		dst[j] = 0
	}
	for o := 0; o < outer; o++ {
		for j := 0; j < c; j++ {
			base := (o*c + j) * inner
			var s T
			if b == nil {
				for _, v := range a[base : base+inner] {
					s += v
				}
			} else {
				bb := b[base : base+inner]
				for i, v := range a[base : base+inner] {
					s += v * bb[i]
				}
			}
			dst[j] += s
		}
	}
}

// biasNode is y = x + b broadcast along axis (the channel axis 1 of NCHW).
func biasNode(x, b *G.Node, axis int) (*G.Node, error) {
	s := x.Shape().Clone()
	outer, c, inner := split(s, axis)
	if b.Shape().TotalSize() != c {
		return nil, fmt.Errorf("nn: bias of %v for %d channels", b.Shape(), c)
	}
	dt := x.Dtype()
	op := &fnOp{name: "bias", dt: dt, outShape: s, diff: []bool{true, true}}
	op.fwd = func(o *tensor.Dense, v []*tensor.Dense) error {
		return dispatch(dt, func() error {
			chanBias(data[float32](o), data[float32](v[0]), data[float32](v[1]), outer, c, inner)
			return nil
		},
			func() error {
				chanBias(data[float64](o), data[float64](v[0]), data[float64](v[1]), outer, c, inner)
				return nil
			})
	}
	op.sym = func(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		gb, err := channelSum(grad, axis)
		if err != nil {
			return nil, err
		}
		return G.Nodes{grad, gb}, nil
	}
	return apply(op, x, b)
}

func chanBias[T float](dst, x, b []T, outer, c, inner int) {
	for o := 0; o < outer; o++ {
		for j := 0; j < c; j++ {
			base := (o*c + j) * inner
			bj := b[j]
			d, xs := dst[base:base+inner], x[base:base+inner]
			for i, v := range xs {
				d[i] = v + bj
			}
		}
	}
}

// scaleNode is y = x·s (or x/s when inverse) with s a vector broadcast along axis.
func scaleNode(x, s *G.Node, axis int, inverse bool) (*G.Node, error) {
	shape := x.Shape().Clone()
	outer, c, inner := split(shape, axis)
	if s.Shape().TotalSize() != c {
		return nil, fmt.Errorf("nn: scale of %v for %d channels", s.Shape(), c)
	}
	dt := x.Dtype()
	name := "chanmul"
	if inverse {
		name = "chandiv"
	}
	op := &fnOp{name: name, dt: dt, outShape: shape, diff: []bool{true, true}}
	op.fwd = func(o *tensor.Dense, v []*tensor.Dense) error {
		return dispatch(dt, func() error {
			chanScale(data[float32](o), data[float32](v[0]), data[float32](v[1]), outer, c, inner, inverse)
			return nil
		}, func() error {
			chanScale(data[float64](o), data[float64](v[0]), data[float64](v[1]), outer, c, inner, inverse)
			return nil
		})
	}
	op.sym = func(in G.Nodes, y, grad *G.Node) (G.Nodes, error) {
		// dx = dy·s (or dy/s); ds = Σ dy·x (or -Σ dy·y / s).
		gx, err := scaleNode(grad, in[1], axis, inverse)
		if err != nil {
			return nil, err
		}
		ds := &fnOp{name: name + ".ds", dt: dt, outShape: tensor.Shape{c}}
		ds.fwd = func(o *tensor.Dense, v []*tensor.Dense) error {
			return dispatch(dt, func() error { scaleGrad[float32](o, v, outer, c, inner, inverse); return nil },
				func() error { scaleGrad[float64](o, v, outer, c, inner, inverse); return nil })
		}
		var gs *G.Node
		if inverse {
			gs, err = apply(ds, grad, y, in[1])
		} else {
			gs, err = apply(ds, grad, in[0], in[1])
		}
		if err != nil {
			return nil, err
		}
		return G.Nodes{gx, gs}, nil
	}
	return apply(op, x, s)
}

func chanScale[T float](dst, x, s []T, outer, c, inner int, inverse bool) {
	for o := 0; o < outer; o++ {
		for j := 0; j < c; j++ {
			base := (o*c + j) * inner
			f := s[j]
			d, xs := dst[base:base+inner], x[base:base+inner]
			if inverse {
				for i, v := range xs {
					d[i] = v / f
				}
			} else {
				for i, v := range xs {
					d[i] = v * f
				}
			}
		}
	}
}

func scaleGrad[T float](o *tensor.Dense, v []*tensor.Dense, outer, c, inner int, inverse bool) {
	dst := data[T](o)
	chanSum(dst, data[T](v[0]), data[T](v[1]), outer, c, inner)
	if inverse {
		s := data[T](v[2])
		for j := range dst {
			dst[j] = -dst[j] / s[j]
		}
	}
}

// avgPoolNode averages k×k windows of an NCHW tensor with stride s and zero
// padding p counted in the divisor (PyTorch's count_include_pad default).
// gorgonia's AveragePool2D has a wrong gradient in v0.9.18 (the sign of the
// weight gradient comes out flipped in our checks), hence this op.
func avgPoolNode(x *G.Node, k, s, p int) (*G.Node, error) {
	sh := x.Shape().Clone()
	if len(sh) != 4 {
		return nil, fmt.Errorf("nn: avgpool input %v, want NCHW", sh)
	}
	n, c, h, w := sh[0], sh[1], sh[2], sh[3]
	oh, ow := (h+2*p-k)/s+1, (w+2*p-k)/s+1
	if oh < 1 || ow < 1 {
		return nil, fmt.Errorf("nn: avgpool window %d does not fit input %v", k, sh)
	}
	dt := x.Dtype()
	geo := poolGeo{nc: n * c, h: h, w: w, oh: oh, ow: ow, k: k, s: s, p: p}
	op := &fnOp{name: "avgpool", dt: dt, outShape: tensor.Shape{n, c, oh, ow}, diff: []bool{true}}
	op.fwd = func(o *tensor.Dense, v []*tensor.Dense) error {
		return dispatch(dt, func() error { avgFwd(data[float32](o), data[float32](v[0]), geo); return nil },
			func() error { avgFwd(data[float64](o), data[float64](v[0]), geo); return nil })
	}
	op.sym = func(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		g := &fnOp{name: "avgpool.dx", dt: dt, outShape: sh}
		g.fwd = func(o *tensor.Dense, v []*tensor.Dense) error {
			return dispatch(dt, func() error { avgBwd(data[float32](o), data[float32](v[0]), geo); return nil },
				func() error { avgBwd(data[float64](o), data[float64](v[0]), geo); return nil })
		}
		gx, err := apply(g, grad)
		return G.Nodes{gx}, err
	}
	return apply(op, x)
}

type poolGeo struct{ nc, h, w, oh, ow, k, s, p int }

func avgFwd[T float](y, x []T, g poolGeo) {
	inv := 1 / T(g.k*g.k)
	for m := 0; m < g.nc; m++ {
		xs, ys := x[m*g.h*g.w:(m+1)*g.h*g.w], y[m*g.oh*g.ow:(m+1)*g.oh*g.ow]
		for i := 0; i < g.oh; i++ {
			for j := 0; j < g.ow; j++ {
				var sum T
				for a := 0; a < g.k; a++ {
					r := i*g.s - g.p + a
					if r < 0 || r >= g.h {
						continue
					}
					for b := 0; b < g.k; b++ {
						c := j*g.s - g.p + b
						if c >= 0 && c < g.w {
							sum += xs[r*g.w+c]
						}
					}
				}
				ys[i*g.ow+j] = sum * inv
			}
		}
	}
}

func avgBwd[T float](dx, dy []T, g poolGeo) {
	clear(dx)
	inv := 1 / T(g.k*g.k)
	for m := 0; m < g.nc; m++ {
		xs, ys := dx[m*g.h*g.w:(m+1)*g.h*g.w], dy[m*g.oh*g.ow:(m+1)*g.oh*g.ow]
		for i := 0; i < g.oh; i++ {
			for j := 0; j < g.ow; j++ {
				d := ys[i*g.ow+j] * inv
				for a := 0; a < g.k; a++ {
					r := i*g.s - g.p + a
					if r < 0 || r >= g.h {
						continue
					}
					for b := 0; b < g.k; b++ {
						c := j*g.s - g.p + b
						if c >= 0 && c < g.w {
							xs[r*g.w+c] += d
						}
					}
				}
			}
		}
	}
}
