package cgen

import (
	"fmt"

	"github.com/qatgo/qatgo/intmodel"
)

// The graph layers: grouped/depthwise convolution, residual add, concat and
// the rescaling average pools, with intruntime's numbers (graph.go there).

// emitGroupedConv: a direct loop over each group's input channels and the
// kernel window (no im2col, no dense GEMM per group), the weight rows in
// natural order.
func emitGroupedConv(g *gen, s *step) error {
	l := s.layer.(*intmodel.Conv2d)
	qi, wbuf, err := emitQLayerOrder(g, s, &l.Quantized, l.OutChannels, l.K(), false)
	if err != nil {
		return err
	}
	in, out := s.in.shape, s.out.shape
	fmt.Fprintf(&g.decls, "static const struct conv2d %s = {%s, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d};\n",
		s.id, qi, in.C, in.H, in.W, out.H, out.W, l.KernelH, l.KernelW, l.StrideH, l.StrideW, l.PadH, l.PadW)
	g.consts += 4 * 24
	what := "grouped"
	if l.Depthwise() {
		what = "depthwise"
	}
	fmt.Fprintf(&g.calls, "\t/* %s: %s conv2d (%d groups) %v -> %v, %dx%d/%d, %d-bit weights */\n", cname(l.Name), what, l.NumGroups(), in, out, l.KernelH, l.KernelW, l.StrideH, l.WeightBits)
	fmt.Fprintf(&g.calls, "\tconv2d_grouped(%s, %s, &%s, %d, %s);\n", ptr(s.out.buf, "uint8_t"), ptr(s.in.buf, "const uint8_t"), s.id, l.NumGroups(), wbufExpr(wbuf))
	return nil
}

// rescaleInit is the C initializer of struct rescale for r reading codes
// stored with offset inOff and writing codes stored with offset outOff.
func rescaleInit(r *intmodel.Rescale, inOff, outOff int32) string {
	return fmt.Sprintf("{%d, %s, %d, %d, %d, %d, %d}", r.In.ZeroPoint+inOff, int32Lit(r.M0), r.Shift, r.Out.ZeroPoint, r.QMin, r.QMax, outOff)
}

func emitAdd(g *gen, s *step) error {
	l := s.layer.(*intmodel.Add)
	a, b, o := s.ins[0], s.ins[1], s.out
	fmt.Fprintf(&g.decls, "static const struct add %s = {%d, %d, %s, %d, %s, %d, %s, %d, %d, %d, %d, %d, %d};\n",
		s.id, l.A.ZeroPoint+a.off, l.B.ZeroPoint+b.off, int32Lit(l.M0A), l.ShiftA, int32Lit(l.M0B), l.ShiftB, int32Lit(l.M0Out), l.ShiftOut,
		l.LeftShift, l.Out.ZeroPoint+o.off, l.QMin+o.off, l.QMax+o.off, o.shape.Size())
	g.consts += 4 * 13
	fmt.Fprintf(&g.calls, "\t/* %s: add %v%s */\n", cname(l.Name), o.shape, inPlaceNote(s))
	fmt.Fprintf(&g.calls, "\tadd(%s, %s, %s, &%s);\n", ptr(o.buf, "uint8_t"), ptr(a.buf, "const uint8_t"), ptr(b.buf, "const uint8_t"), s.id)
	return nil
}

// emitConcat: in CHW each input is one block of channels; the output is
// the blocks back to back, copied or requantized code by code.
func emitConcat(g *gen, s *step) error {
	l := s.layer.(*intmodel.Concat)
	fmt.Fprintf(&g.calls, "\t/* %s: concat of %d -> %v */\n", cname(l.Name), len(s.ins), s.out.shape)
	off := 0
	for k, in := range s.ins {
		n := in.shape.Size()
		dst := fmt.Sprintf("%s + %d", ptr(s.out.buf, "uint8_t"), off)
		if l.In[k] == l.Out {
			fmt.Fprintf(&g.calls, "\tmemcpy(%s, %s, %d);\n", dst, ptr(in.buf, "const uint8_t"), n)
		} else {
			id := fmt.Sprintf("%s_r%d", s.id, k)
			fmt.Fprintf(&g.decls, "static const struct rescale %s = %s;\n", id, rescaleInit(&l.Requant[k], in.off, s.out.off))
			g.consts += 4 * 7
			fmt.Fprintf(&g.calls, "\trescale_copy(%s, %s, %d, &%s);\n", dst, ptr(in.buf, "const uint8_t"), n, id)
		}
		off += n
	}
	return nil
}

func emitGlobalAvgPool(g *gen, s *step) error {
	l := s.layer.(*intmodel.GlobalAvgPool)
	in := s.in.shape
	fmt.Fprintf(&g.decls, "static const struct rescale %s = %s;\n", s.id, rescaleInit(&l.Rescale, s.in.off, s.out.off))
	g.consts += 4 * 7
	fmt.Fprintf(&g.calls, "\t/* %s: global average pool %v -> %v%s */\n", cname(l.Name), in, s.out.shape, inPlaceNote(s))
	fmt.Fprintf(&g.calls, "\tglobal_avgpool(%s, %s, %d, %d, &%s);\n", ptr(s.out.buf, "uint8_t"), ptr(s.in.buf, "const uint8_t"), in.C, in.H*in.W, s.id)
	return nil
}

func emitAvgPoolRescale(g *gen, s *step) error {
	l := s.layer.(*intmodel.AvgPool2d)
	in, out, p := s.in.shape, s.out.shape, l.Pool2d
	fmt.Fprintf(&g.decls, "static const struct pool2d %s_p = {%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d};\n",
		s.id, in.C, in.H, in.W, out.H, out.W, p.KernelH, p.KernelW, p.StrideH, p.StrideW, p.PadH, p.PadW, s.in.off)
	fmt.Fprintf(&g.decls, "static const struct rescale %s_r = %s;\n", s.id, rescaleInit(l.Requant, s.in.off, s.out.off))
	g.consts += 4 * 19
	fmt.Fprintf(&g.calls, "\t/* %s: avgpool2d %v -> %v, rescaled%s */\n", cname(l.Name), in, out, inPlaceNote(s))
	fmt.Fprintf(&g.calls, "\tavgpool2d_rescale(%s, %s, &%s_p, &%s_r);\n", ptr(s.out.buf, "uint8_t"), ptr(s.in.buf, "const uint8_t"), s.id, s.id)
	return nil
}

// inPlaceNote is ", in place" when the step writes over an input.
func inPlaceNote(s *step) string {
	if s.out.buf.leader != nil {
		return ", in place"
	}
	return ""
}
