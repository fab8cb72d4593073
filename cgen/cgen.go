package cgen

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/qatgo/qatgo/internal/atomicfile"
	"github.com/qatgo/qatgo/intmodel"
)

// Errors wrapped by Generate.
var (
	// ErrUnsupported: the model has a layer the generator has no C for.
	ErrUnsupported = errors.New("op not supported by the C generator")
	// ErrOptions: bad Options.
	ErrOptions = errors.New("cgen: bad options")
)

// Options configure Generate.
type Options struct {
	// Prefix names the files (<Prefix>.h, <Prefix>.c, <Prefix>_weights.h),
	// the functions (<Prefix>_run) and the macros (<PREFIX>_INPUT_SIZE...),
	// so that several models can share a program. A C identifier; default
	// "model".
	Prefix string
	// FloatIO also emits <Prefix>_quantize_input (float32 image → input
	// codes, as intruntime quantizes) and <Prefix>_dequantize_output
	// (output codes → float32 logits). Without it the code has no floats.
	FloatIO bool
}

// File is one generated file.
type File struct {
	Name string
	Data []byte
}

// Report sizes the generated model.
type Report struct {
	// ArenaBytes is the static activation arena (input, activations and
	// layer scratch, buffers reused once dead): the model's RAM.
	ArenaBytes int `json:"arena_bytes"`
	// NaiveBytes is the arena if every buffer had its own memory.
	NaiveBytes int `json:"naive_bytes"`
	// ConstBytes is the constant data (weights, biases, multipliers,
	// shifts, layer tables): flash besides the code.
	ConstBytes int `json:"const_bytes"`
	// WeightBytes is the part of ConstBytes that holds weights.
	WeightBytes int `json:"weight_bytes"`
	// Buffers is the arena plan.
	Buffers []Buffer `json:"buffers"`
}

// Result is the output of Generate.
type Result struct {
	Files  []File
	Report Report
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Generate writes m as a self-contained C99 library: a header with one
// inference function, <Prefix>_run(input codes, output codes), the sizes
// and quantization of input and output and the memory figures; a .c file
// with the layer sequence and the kernels it needs; and the constant
// weights. Layers it cannot translate are refused by name (ErrUnsupported).
func Generate(m *intmodel.Model, opt Options) (*Result, error) {
	if opt.Prefix == "" {
		opt.Prefix = "model"
	}
	if !identRE.MatchString(opt.Prefix) {
		return nil, fmt.Errorf("%w: prefix %q is not a C identifier", ErrOptions, opt.Prefix)
	}
	shapes, err := m.Shapes()
	if err != nil {
		return nil, fmt.Errorf("cgen: %w", err)
	}
	if f := unknownField(m); f != "" {
		return nil, fmt.Errorf("cgen: model field %s: %w", f, ErrUnsupported)
	}
	g := &gen{m: m, opt: opt, up: strings.ToUpper(opt.Prefix), used: map[string]bool{}}
	if err := g.build(shapes); err != nil {
		return nil, err
	}
	return g.files(), nil
}

// WriteDir generates m into dir (created if missing), each file written
// atomically.
func WriteDir(dir string, m *intmodel.Model, opt Options) (*Result, error) {
	res, err := Generate(m, opt)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cgen: %w", err)
	}
	for _, f := range res.Files {
		if err := atomicfile.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			return nil, fmt.Errorf("cgen: %w", err)
		}
	}
	return res, nil
}

// tensor is an activation: its shape, quantization and buffer.
type tensor struct {
	shape intmodel.Shape
	q     intmodel.ActQuant
	off   int32 // storage code = code + off
	buf   *Buffer
}

func storageOffset(q intmodel.ActQuant) int32 {
	if q.Signed {
		return 1 << (q.Bits - 1)
	}
	return 0
}

// gen holds the state of one generation.
type gen struct {
	m      *intmodel.Model
	opt    Options
	up     string // upper-case prefix for macros
	used   map[string]bool
	packed bool         // some layer keeps packed sub-byte weights
	data   bytes.Buffer // <prefix>_weights.h body
	decls  bytes.Buffer // layer tables in <prefix>.c
	calls  bytes.Buffer // body of <prefix>_run
	bufs   []*Buffer
	consts int
	wbytes int
	naive  int     // every activation of m and every scratch its own buffer
	in     *tensor // the model input
	out    *tensor // the last layer's output
}

// step describes layer i to its op: input and output tensors (the output of
// the next layer too if the op fuses it), and the step number (i+1) for
// buffer lifetimes.
type step struct {
	i       int
	layer   intmodel.Layer
	next    intmodel.Layer // the layer after, if it reads only this one's output and nothing else does; or nil
	fused   bool           // the op computes next too
	ins     []*tensor      // the tensors the layer reads (edges)
	in, out *tensor        // in: ins[0]
	id      string         // C name stem: "l<i>"
}

// build plans the buffers and emits every layer. Tensor 0 is the input,
// tensor j+1 layer j's output; a tensor's buffer stays live until its last
// reader's step (the output until the copy out). An op writes over an input
// (in place) only when no later step reads that input or anything sharing
// its memory.
func (g *gen) build(shapes []intmodel.Shape) error {
	m := g.m
	nl := len(m.Layers)
	tshapes := append([]intmodel.Shape{m.InputShape}, shapes...)
	lastRead := make([]int, nl+1) // the step of each tensor's last reader
	for i := range nl {
		for _, t := range m.LayerInputs(i) {
			lastRead[t] = max(lastRead[t], i+1)
		}
	}
	lastRead[nl] = nl + 1
	// chainLast: the last step that reads any tensor of an in-place chain
	// (keyed by its leader).
	chainLast := map[*Buffer]int{}
	leader := func(b *Buffer) *Buffer {
		if b.leader != nil {
			return b.leader
		}
		return b
	}
	tensors := make([]*tensor, nl+1)
	g.in = &tensor{shape: m.InputShape, q: m.Input, off: storageOffset(m.Input)}
	g.in.buf = g.newBuffer("input", m.InputShape.Size(), 0)
	g.in.buf.Last = lastRead[0]
	chainLast[g.in.buf] = lastRead[0]
	tensors[0] = g.in
	g.naive = alignUp(m.InputShape.Size())
	for i := 0; i < nl; i++ {
		l := m.Layers[i]
		ids := m.LayerInputs(i)
		s := &step{i: i, layer: l, id: fmt.Sprintf("l%d", i), ins: make([]*tensor, len(ids))}
		for k, t := range ids {
			s.ins[k] = tensors[t]
			if s.ins[k] == nil {
				return fmt.Errorf("cgen: layer %d (%s %q) reads tensor %d, computed by a fused layer", i, l.Kind(), l.LayerName(), t)
			}
		}
		s.in = s.ins[0]
		if i+1 < nl && lastRead[i+1] == i+2 && slices.Equal(m.LayerInputs(i+1), []int{i + 1}) {
			s.next = m.Layers[i+1]
		}
		o, err := opFor(s)
		if err != nil {
			return fmt.Errorf("cgen: layer %d (%s %q): %w", i, l.Kind(), l.LayerName(), err)
		}
		last, name := i, l.LayerName()
		if o.fuseNext {
			last, name = i+1, name+"+"+s.next.LayerName()
			s.fused = true
		}
		q := intmodel.OutAct(l, s.in.q)
		if s.fused {
			q = intmodel.OutAct(s.next, q)
		}
		s.out = &tensor{shape: tshapes[last+1], q: q, off: storageOffset(q)}
		s.out.buf = g.newBuffer(name, s.out.shape.Size(), i+1)
		s.out.buf.Last = max(lastRead[last+1], i+1)
		for _, k := range o.inPlace {
			// A relabelling (alias) never writes; any other op only over
			// an input that nothing reads after this step.
			if ld := leader(s.ins[k].buf); o.alias || chainLast[ld] <= i+1 {
				s.out.buf.leader = ld
				chainLast[ld] = max(chainLast[ld], s.out.buf.Last)
				break
			}
		}
		if s.out.buf.leader == nil {
			chainLast[s.out.buf] = s.out.buf.Last
		}
		for _, k := range o.kernels {
			g.use(k)
		}
		if err := o.emit(g, s); err != nil {
			return fmt.Errorf("cgen: layer %d (%s %q): %w", i, l.Kind(), l.LayerName(), err)
		}
		for _, sh := range shapes[i : last+1] {
			g.naive += alignUp(sh.Size())
		}
		tensors[last+1] = s.out
		i = last
	}
	g.out = tensors[nl]
	return nil
}

func (g *gen) newBuffer(name string, size, first int) *Buffer {
	b := &Buffer{Name: name, Size: size, First: first, Last: first}
	g.bufs = append(g.bufs, b)
	return b
}

// scratch reserves a buffer live only while step s runs and returns the C
// expression of its address.
func (g *gen) scratch(s *step, name string, size int) *Buffer {
	g.naive += alignUp(size)
	return g.newBuffer(s.layer.LayerName()+"."+name, size, s.i+1)
}

func (g *gen) use(name string) {
	if g.used[name] {
		return
	}
	for _, k := range kernelList {
		if k.name == name {
			for _, d := range k.deps {
				g.use(d)
			}
		}
	}
	g.used[name] = true
}

// ptr is the C expression of a buffer's address, filled in after planning
// (offsets are not known while layers are emitted).
func ptr(b *Buffer, ctype string) string {
	return fmt.Sprintf("(%s *)(void *)(arena.b + @%p@)", ctype, b)
}

var ptrRE = regexp.MustCompile(`@0x[0-9a-f]+@`)

func (g *gen) files() *Result {
	naive := g.naive
	arena := planArena(g.bufs)
	offs := map[string]int{}
	for _, b := range g.bufs {
		offs[fmt.Sprintf("@%p@", b)] = b.Offset
	}
	resolve := func(s string) string {
		return ptrRE.ReplaceAllStringFunc(s, func(k string) string { return strconv.Itoa(offs[k]) })
	}
	rep := Report{ArenaBytes: arena, NaiveBytes: naive, ConstBytes: g.consts, WeightBytes: g.wbytes}
	for _, b := range g.bufs {
		rep.Buffers = append(rep.Buffers, *b)
	}
	sort.SliceStable(rep.Buffers, func(i, j int) bool { return rep.Buffers[i].Offset < rep.Buffers[j].Offset })

	p, up := g.opt.Prefix, g.up
	inT, outT := ctypeOf(g.m.Input), ctypeOf(g.m.Output)

	// Header.
	var h bytes.Buffer
	fmt.Fprintf(&h, "/* %s.h: %s, generated by qatgo (package cgen) from an integer model. Do not edit. */\n", p, g.describe())
	fmt.Fprintf(&h, "#ifndef %s_H\n#define %s_H\n\n#include <stdint.h>\n\n", up, up)
	fmt.Fprintf(&h, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n")
	is, ous := g.m.InputShape, g.out.shape
	fmt.Fprintf(&h, "/* Input: %d×%d×%d codes (CHW), %d-bit %s; x ≈ S·(q − Z). */\n", is.C, is.H, is.W, g.m.Input.Bits, signWord(g.m.Input.Signed))
	fmt.Fprintf(&h, "#define %s_INPUT_C %d\n#define %s_INPUT_H %d\n#define %s_INPUT_W %d\n", up, is.C, up, is.H, up, is.W)
	fmt.Fprintf(&h, "#define %s_INPUT_SIZE %d\n", up, is.Size())
	fmt.Fprintf(&h, "#define %s_INPUT_BITS %d\n#define %s_INPUT_ZERO_POINT %d\n", up, g.m.Input.Bits, up, g.m.Input.ZeroPoint)
	fmt.Fprintf(&h, "#define %s_INPUT_SCALE %s /* %g */\n", up, floatLit(g.m.Input.Scale), g.m.Input.Scale)
	fmt.Fprintf(&h, "/* Output: %d×%d×%d codes, %d-bit %s; logits y = S·(q − Z). */\n", ous.C, ous.H, ous.W, g.m.Output.Bits, signWord(g.m.Output.Signed))
	fmt.Fprintf(&h, "#define %s_OUTPUT_SIZE %d\n", up, ous.Size())
	fmt.Fprintf(&h, "#define %s_OUTPUT_BITS %d\n#define %s_OUTPUT_ZERO_POINT %d\n", up, g.m.Output.Bits, up, g.m.Output.ZeroPoint)
	fmt.Fprintf(&h, "#define %s_OUTPUT_SCALE %s /* %g */\n\n", up, floatLit(g.m.Output.Scale), g.m.Output.Scale)
	fmt.Fprintf(&h, "/* Memory: one static arena (RAM) planned by liveness; every buffer apart\n   would take %s_ARENA_NAIVE_BYTES. Constant data (flash, besides code):\n   %s_CONST_BYTES, of which weights %s_WEIGHT_BYTES. */\n", up, up, up)
	fmt.Fprintf(&h, "#define %s_ARENA_BYTES %d\n#define %s_ARENA_NAIVE_BYTES %d\n", up, arena, up, naive)
	fmt.Fprintf(&h, "#define %s_CONST_BYTES %d\n#define %s_WEIGHT_BYTES %d\n\n", up, g.consts, up, g.wbytes)
	fmt.Fprintf(&h, "typedef %s %s_input_t;\ntypedef %s %s_output_t;\n\n", inT, p, outT, p)
	fmt.Fprintf(&h, "/* Runs the model on one image's input codes; writes the output codes.\n   Integer only, no allocation; not reentrant (one static arena). */\n")
	fmt.Fprintf(&h, "void %s_run(const %s_input_t *input, %s_output_t *output);\n", p, p, p)
	if g.opt.FloatIO {
		fmt.Fprintf(&h, "\n/* q = clamp(Z + round_half_even(x·(1/S))) in float32, as qatgo's runtime. */\n")
		fmt.Fprintf(&h, "void %s_quantize_input(const float *x, %s_input_t *q);\n", p, p)
		fmt.Fprintf(&h, "/* y = S·(q − Z) in float32. */\n")
		fmt.Fprintf(&h, "void %s_dequantize_output(const %s_output_t *q, float *y);\n", p, p)
	}
	fmt.Fprintf(&h, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s_H */\n", up)

	// Weights.
	var w bytes.Buffer
	fmt.Fprintf(&w, "/* %s_weights.h: constant data of %s.c (included once, by it). Generated by qatgo. */\n\n", p, p)
	w.Write(g.data.Bytes())

	// Source.
	var c bytes.Buffer
	fmt.Fprintf(&c, "/* %s.c: %s, generated by qatgo (package cgen). Do not edit.\n", p, g.describe())
	fmt.Fprintf(&c, "   Arena plan (offset size buffer):\n")
	for _, b := range rep.Buffers {
		fmt.Fprintf(&c, "     %7d %7d %s\n", b.Offset, b.Size, cname(b.Name))
	}
	fmt.Fprintf(&c, "*/\n#include \"%s.h\"\n\n", p)
	c.WriteString(cPrelude)
	for _, k := range kernelList {
		if !g.used[k.name] {
			continue
		}
		src := k.src
		if k.name == "qlayer" {
			unpack := ""
			if g.packed {
				unpack = "unpack(buf, q->wp, (uint32_t)o * (uint32_t)q->k4, q->k4, q->wbits);"
			}
			src = strings.Replace(src, "UNPACK_ROW", unpack, 1)
		}
		if k.name == "qlayer" && g.packed {
			c.WriteString(cUnpack)
		}
		c.WriteString(src)
	}
	fmt.Fprintf(&c, "\n#include \"%s_weights.h\"\n\n", p)
	c.WriteString(resolve(g.decls.String()))
	fmt.Fprintf(&c, "\n/* The activation arena (a union for word alignment). */\nstatic union {\n\tuint8_t b[%d];\n\tint32_t align;\n} arena;\n\n", max(arena, 4))
	fmt.Fprintf(&c, "void %s_run(const %s_input_t *input, %s_output_t *output)\n{\n", p, p, p)
	fmt.Fprintf(&c, "\tuint8_t *in = %s, *out = %s;\n\tint i;\n", ptr(g.in.buf, "uint8_t"), ptr(g.out.buf, "uint8_t"))
	// Storage codes: signed codes + 2^(bits−1) (see kernels.go).
	fmt.Fprintf(&c, "\tfor (i = 0; i < %d; i++)\n\t\tin[i] = (uint8_t)%s;\n", g.in.shape.Size(), offsetExpr("input[i]", "+", g.in.off))
	c.WriteString(g.calls.String())
	fmt.Fprintf(&c, "\tfor (i = 0; i < %d; i++)\n\t\toutput[i] = (%s)%s;\n}\n", g.out.shape.Size(), outT, offsetExpr("out[i]", "-", g.out.off))
	if g.opt.FloatIO {
		lo, hi := g.m.Input.Range()
		c.WriteString(cQuantize)
		fmt.Fprintf(&c, "\nvoid %s_quantize_input(const float *x, %s_input_t *q)\n{\n\tint i;\n", p, p)
		fmt.Fprintf(&c, "\tfor (i = 0; i < %d; i++)\n\t\tq[i] = (%s)quantize1(x[i], %s, %d, %d, %d);\n}\n", g.in.shape.Size(), inT, floatLit(1/g.m.Input.Scale), g.m.Input.ZeroPoint, lo, hi)
		fmt.Fprintf(&c, "\nvoid %s_dequantize_output(const %s_output_t *q, float *y)\n{\n\tint i;\n", p, p)
		fmt.Fprintf(&c, "\tfor (i = 0; i < %d; i++)\n\t\ty[i] = %s * (float)((int32_t)q[i] - %d);\n}\n", g.out.shape.Size(), floatLit(g.m.Output.Scale), g.m.Output.ZeroPoint)
	}
	src := resolve(c.String())
	return &Result{Report: rep, Files: []File{
		{Name: p + ".h", Data: h.Bytes()},
		{Name: p + ".c", Data: []byte(src)},
		{Name: p + "_weights.h", Data: w.Bytes()},
	}}
}

// offsetExpr is "(x op off)", or x alone for off 0.
func offsetExpr(x, op string, off int32) string {
	if off == 0 {
		return x
	}
	return fmt.Sprintf("(%s %s %d)", x, op, off)
}

func (g *gen) describe() string {
	var parts []string
	for _, k := range []string{"model", "quant"} {
		if v := g.m.Meta[k]; v != "" && safeComment(v) {
			parts = append(parts, v)
		}
	}
	parts = append(parts, fmt.Sprintf("%d layers", len(g.m.Layers)))
	return strings.Join(parts, " ")
}

// safeComment: text that cannot end a C comment or break a line.
func safeComment(s string) bool {
	return !strings.Contains(s, "*/") && !strings.ContainsAny(s, "\n\r\\")
}

func signWord(s bool) string {
	if s {
		return "signed"
	}
	return "unsigned"
}

func ctypeOf(q intmodel.ActQuant) string {
	if q.Signed {
		return "int8_t"
	}
	return "uint8_t"
}

// floatLit is an exact C99 float literal (hexadecimal) of f.
func floatLit(f float32) string {
	return strconv.FormatFloat(float64(f), 'x', -1, 32) + "f"
}
