package cgen

import (
	"fmt"
	"strings"

	"github.com/qatgo/qatgo/intmodel"
)

// MaxK bounds the inputs per output of a quantized layer so that the int32
// dot products cannot overflow: 2^16·255·128 < 2^31 (as intruntime.MaxK).
const MaxK = 1 << 16

// op is how one layer becomes C.
type op struct {
	// inPlace: the inputs (by position) whose buffer the output may
	// overwrite, the first that no later step reads is taken.
	inPlace []int
	// alias: the output is input 0 relabelled (Flatten): it shares the
	// buffer whatever reads the input later.
	alias bool
	// fuseNext: the op also computes the next layer (whose step emits
	// nothing); its output is the next layer's.
	fuseNext bool
	// kernels: the C kernels the emitted code calls.
	kernels []string
	// emit writes the layer's constants (g.data, g.decls) and its call in
	// <prefix>_run (g.calls), and reserves its scratch (g.scratch).
	emit func(g *gen, s *step) error
}

// first: in place over input 0.
var first = []int{0}

// opFor is the one place that maps a layer to its C; a new op is a case
// here and an emit function.
func opFor(s *step) (op, error) {
	if f := unknownField(s.layer); f != "" {
		return op{}, fmt.Errorf("field %s: %w", f, ErrUnsupported)
	}
	switch l := s.layer.(type) {
	case *intmodel.Conv2d:
		if len(l.Weights) != l.OutChannels*l.K() {
			return op{}, fmt.Errorf("%w (%d weights, want %d)", ErrUnsupported, len(l.Weights), l.OutChannels*l.K())
		}
		if l.NumGroups() > 1 {
			return op{kernels: []string{"conv2d_grouped"}, emit: emitGroupedConv}, nil
		}
		if p, ok := s.next.(*intmodel.MaxPool2d); ok && fusablePool(l, p) {
			return op{fuseNext: true, kernels: []string{"conv2d_maxpool2"}, emit: emitConv2d}, nil
		}
		return op{kernels: []string{"conv2d"}, emit: emitConv2d}, nil
	case *intmodel.Linear:
		return op{kernels: []string{"linear"}, emit: emitLinear}, nil
	case *intmodel.MaxPool2d:
		return op{inPlace: unpadded(l.Pool2d), kernels: []string{"maxpool2d"}, emit: emitPool("maxpool2d", l.Pool2d)}, nil
	case *intmodel.AvgPool2d:
		if l.Requant != nil {
			return op{inPlace: unpadded(l.Pool2d), kernels: []string{"avgpool2d_rescale"}, emit: emitAvgPoolRescale}, nil
		}
		return op{inPlace: unpadded(l.Pool2d), kernels: []string{"avgpool2d"}, emit: emitPool("avgpool2d", l.Pool2d)}, nil
	case *intmodel.GlobalAvgPool:
		return op{inPlace: first, kernels: []string{"global_avgpool"}, emit: emitGlobalAvgPool}, nil
	case *intmodel.Add:
		// Elementwise: output j is written after inputs j are read.
		return op{inPlace: []int{0, 1}, kernels: []string{"add"}, emit: emitAdd}, nil
	case *intmodel.Concat:
		o := op{emit: emitConcat}
		for k := range l.In {
			if l.In[k] != l.Out { // otherwise a memcpy
				o.kernels = []string{"rescale_copy"}
			}
		}
		return o, nil
	case *intmodel.Flatten:
		// One image's CHW activation is already flat: a relabelling.
		return op{inPlace: first, alias: true, emit: func(g *gen, s *step) error {
			fmt.Fprintf(&g.calls, "\t/* %s: flatten (in place) */\n", cname(s.layer.LayerName()))
			return nil
		}}, nil
	}
	return op{}, ErrUnsupported
}

// unpadded: a pool without padding may write over its input (output i
// reads only inputs at i or later).
func unpadded(p intmodel.Pool2d) []int {
	if p.PadH == 0 && p.PadW == 0 {
		return first
	}
	return nil
}

// fusablePool: a 2×2, stride-2, unpadded max pool after conv c, which the
// conv can compute on the accumulators of each window (max, then one
// requantization), never storing its own output. Requantization is monotone
// unless zy + M0·2^(shift−31)·acc can wrap int32: excluded with shift ≤ −1
// (then |M0·2^(shift−31)·acc| ≤ 2^30).
func fusablePool(c *intmodel.Conv2d, p *intmodel.MaxPool2d) bool {
	if p.Pool2d != (intmodel.Pool2d{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}) {
		return false
	}
	for _, sh := range c.Shift {
		if sh > -1 {
			return false
		}
	}
	return true
}

// emitQLayer writes the constants of a quantized layer with outC outputs
// of k inputs and returns the C initializer of its struct qlayer, and the
// scratch buffer for unpacked weight rows (nil for 8-bit weights).
func emitQLayer(g *gen, s *step, q *intmodel.Quantized, outC, k int) (string, *Buffer, error) {
	return emitQLayerOrder(g, s, q, outC, k, true)
}

// emitQLayerOrder is emitQLayer with the rows quad-permuted (perm, for the
// dot-product kernels) or in natural order (the direct grouped loop).
func emitQLayerOrder(g *gen, s *step, q *intmodel.Quantized, outC, k int, perm bool) (string, *Buffer, error) {
	if k > MaxK {
		return "", nil, fmt.Errorf("%w: %d inputs per output, at most %d", ErrUnsupported, k, MaxK)
	}
	k4 := (k + 3) &^ 3
	id := s.id
	var wexpr, wpexpr string
	var wbuf *Buffer
	rows := weightRows(q.Weights, outC, k, k4, perm)
	if q.WeightBits == 8 {
		g.array("int8_t", id+"_w", len(rows), func(i int) string { return fmt.Sprint(rows[i]) })
		g.wbytes += len(rows)
		wexpr, wpexpr = id+"_w", "NULL"
	} else {
		// Packed (intmodel.Pack), each row in the order unpack reads it.
		stream := make([]int8, len(rows))
		for o := range outC {
			wstream(stream[o*k4:(o+1)*k4], rows[o*k4:(o+1)*k4], q.WeightBits)
		}
		packed := make([]byte, intmodel.PackedLen(len(stream), q.WeightBits))
		if err := intmodel.Pack(packed, stream, q.WeightBits); err != nil {
			return "", nil, err
		}
		g.array("uint8_t", id+"_wp", len(packed), func(i int) string { return fmt.Sprintf("0x%02x", packed[i]) })
		g.wbytes += len(packed)
		wexpr, wpexpr = "NULL", id+"_wp"
		g.packed = true
		wbuf = g.scratch(s, "wrow", k4)
	}
	bias := "NULL"
	if q.Bias != nil {
		g.array("int32_t", id+"_bias", outC, func(i int) string { return int32Lit(q.Bias[i]) })
		bias = id + "_bias"
	}
	g.array("int32_t", id+"_m0", outC, func(i int) string { return int32Lit(q.M0[i]) })
	g.array("int8_t", id+"_shift", outC, func(i int) string { return fmt.Sprint(q.Shift[i]) })
	zx := q.InAct.ZeroPoint + s.in.off
	off := s.out.off
	init := fmt.Sprintf("{%s, %s, %d, %s, %s_m0, %s_shift, %d, %d, %d, %d, %d, %d, %d}",
		wexpr, wpexpr, q.WeightBits, bias, id, id, zx, q.OutAct.ZeroPoint+off, q.QMin+off, q.QMax+off, outC, k, k4)
	return init, wbuf, nil
}

// weightRows lays out outC rows of k weights as the kernels read them: each
// padded with zeros to k4 (a multiple of 4) and, if perm, quad-permuted,
// position 4q+{0,1,2,3} holding w[4q+{0,2,1,3}] (see kernels.go).
func weightRows(w []int8, outC, k, k4 int, perm bool) []int8 {
	rows := make([]int8, outC*k4)
	for o := range outC {
		row := rows[o*k4 : (o+1)*k4]
		for i, v := range w[o*k : (o+1)*k] {
			if perm {
				i = quadPerm(i)
			}
			row[i] = v
		}
	}
	return rows
}

// quadPerm swaps the middle two of every four positions.
func quadPerm(i int) int { return i&^3 | (i&1)<<1 | (i>>1)&1 }

// wstream writes the row d (len a multiple of 4) into s in the order the C
// unpack reads bits-wide values: for 2 and 4 bits, in groups of g = 32/bits
// values (one 32-bit word), stream value per·j + slot (per = 8/bits values a
// byte, j the byte) holds d[4·slot + j]; the tail, and other widths, in
// order.
func wstream(s, d []int8, bits int) {
	i := 0
	if bits == 2 || bits == 4 {
		per, g := 8/bits, 32/bits
		for ; i+g <= len(d); i += g {
			for j := range 4 {
				for slot := range per {
					s[i+per*j+slot] = d[i+4*slot+j]
				}
			}
		}
	}
	copy(s[i:], d[i:])
}

// int32Lit writes v so that INT32_MIN is a valid C int32 expression.
func int32Lit(v int32) string {
	if v == -1<<31 {
		return "INT32_MIN"
	}
	return fmt.Sprint(v)
}

func emitConv2d(g *gen, s *step) error {
	l := s.layer.(*intmodel.Conv2d)
	qi, wbuf, err := emitQLayer(g, s, &l.Quantized, l.OutChannels, l.K())
	if err != nil {
		return err
	}
	in := s.in.shape
	conv, err := l.OutShape(in)
	if err != nil {
		return err
	}
	oh, ow := conv.H, conv.W
	k4 := (l.K() + 3) &^ 3
	fmt.Fprintf(&g.decls, "static const struct conv2d %s = {%s, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d};\n",
		s.id, qi, in.C, in.H, in.W, oh, ow, l.KernelH, l.KernelW, l.StrideH, l.StrideW, l.PadH, l.PadW)
	g.consts += 4 * 24 // the table: pointers and ints
	cols := g.scratch(s, "cols", 4*k4*2)
	kernel, what := "conv2d", ""
	if s.fused { // with the max pool after it
		kernel, what = "conv2d_maxpool2", " + 2x2 max pool "+cname(s.next.LayerName())
	}
	fmt.Fprintf(&g.calls, "\t/* %s: conv2d %v -> %dx%dx%d, %dx%d/%d, %d-bit weights%s */\n", cname(l.Name), in, l.OutChannels, oh, ow, l.KernelH, l.KernelW, l.StrideH, l.WeightBits, what)
	fmt.Fprintf(&g.calls, "\t%s(%s, %s, &%s, %s, %s);\n", kernel, ptr(s.out.buf, "uint8_t"), ptr(s.in.buf, "const uint8_t"), s.id, ptr(cols, "int16_t"), wbufExpr(wbuf))
	return nil
}

func emitLinear(g *gen, s *step) error {
	l := s.layer.(*intmodel.Linear)
	qi, wbuf, err := emitQLayer(g, s, &l.Quantized, l.OutFeatures, l.InFeatures)
	if err != nil {
		return err
	}
	k4 := (l.InFeatures + 3) &^ 3
	fmt.Fprintf(&g.decls, "static const struct qlayer %s = %s;\n", s.id, qi)
	g.consts += 4 * 13
	col := g.scratch(s, "col", k4*2)
	fmt.Fprintf(&g.calls, "\t/* %s: linear %d -> %d, %d-bit weights */\n", cname(l.Name), l.InFeatures, l.OutFeatures, l.WeightBits)
	fmt.Fprintf(&g.calls, "\tlinear(%s, %s, &%s, %s, %s);\n", ptr(s.out.buf, "uint8_t"), ptr(s.in.buf, "const uint8_t"), s.id, ptr(col, "int16_t"), wbufExpr(wbuf))
	return nil
}

func wbufExpr(b *Buffer) string {
	if b == nil {
		return "NULL"
	}
	return ptr(b, "int8_t")
}

func emitPool(kernel string, p intmodel.Pool2d) func(g *gen, s *step) error {
	return func(g *gen, s *step) error {
		in, out := s.in.shape, s.out.shape
		fmt.Fprintf(&g.decls, "static const struct pool2d %s = {%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d};\n",
			s.id, in.C, in.H, in.W, out.H, out.W, p.KernelH, p.KernelW, p.StrideH, p.StrideW, p.PadH, p.PadW, s.in.off)
		g.consts += 4 * 12
		where := ""
		if s.out.buf.leader != nil {
			where = ", in place"
		}
		fmt.Fprintf(&g.calls, "\t/* %s: %s %v -> %v%s */\n", cname(s.layer.LayerName()), kernel, in, out, where)
		fmt.Fprintf(&g.calls, "\t%s(%s, %s, &%s);\n", kernel, ptr(s.out.buf, "uint8_t"), ptr(s.in.buf, "const uint8_t"), s.id)
		return nil
	}
}

// array writes a static const C array of n elements to the weights file.
func (g *gen) array(ctype, name string, n int, elem func(int) string) {
	size := map[string]int{"int8_t": 1, "uint8_t": 1, "int32_t": 4}[ctype]
	g.consts += n * size
	fmt.Fprintf(&g.data, "static const %s %s[%d] = {", ctype, name, n)
	for i := range n {
		if i%20 == 0 {
			g.data.WriteString("\n\t")
		} else {
			g.data.WriteByte(' ')
		}
		g.data.WriteString(elem(i))
		if i < n-1 {
			g.data.WriteByte(',')
		}
	}
	g.data.WriteString("\n};\n")
}

// cname makes a layer name safe inside a C comment.
func cname(s string) string {
	if safeComment(s) {
		return s
	}
	return strings.NewReplacer("*/", "*_/", "\n", " ", "\r", " ", "\\", "/").Replace(s)
}
