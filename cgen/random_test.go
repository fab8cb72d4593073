package cgen

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/internal/ctool"
	"github.com/qatgo/qatgo/intmodel"
)

// randomAct is a random activation quantization: 2..8 bits, signed or
// not, any zero point in range.
func randomAct(rng *rand.Rand) intmodel.ActQuant {
	a := intmodel.ActQuant{Scale: 0.01 + rng.Float32(), Bits: 2 + rng.IntN(7), Signed: rng.IntN(2) == 0}
	lo, hi := a.Range()
	a.ZeroPoint = lo + rng.Int32N(hi-lo+1)
	return a
}

// randomModel chains random layers of every kind the generator supports,
// with random geometry (strides past the kernel, padding, 1×1 outputs),
// weight widths 1..8, multipliers from 2^-14 to 4 (left shifts included).
func randomModel(t testing.TB, rng *rand.Rand) *intmodel.Model {
	in := randomAct(rng)
	shape := intmodel.Shape{C: 1 + rng.IntN(4), H: 1 + rng.IntN(12), W: 1 + rng.IntN(12)}
	m := &intmodel.Model{Input: in, InputShape: shape}
	act := in
	quantized := func(outC, k int) intmodel.Quantized {
		out := randomAct(rng)
		q := quant(t, rng, outC, k, 1+rng.IntN(8), act, out, rng.IntN(2) == 0, rng.IntN(2) == 0)
		for c := range q.M0 {
			q.M0[c], q.Shift[c] = intmodel.QuantizeMultiplier(math.Exp2(-14 + 16*rng.Float64()))
		}
		if rng.IntN(3) == 0 {
			q.Bias = nil
		}
		act = out
		return q
	}
	for i := range 2 + rng.IntN(5) {
		name := fmt.Sprintf("l%d", i)
		var l intmodel.Layer
		switch rng.IntN(4) {
		case 0, 1:
			kh, kw := 1+rng.IntN(min(4, shape.H+1)), 1+rng.IntN(min(4, shape.W+1))
			c := &intmodel.Conv2d{Name: name, InChannels: shape.C, OutChannels: 1 + rng.IntN(6), KernelH: kh, KernelW: kw,
				StrideH: 1 + rng.IntN(3), StrideW: 1 + rng.IntN(3), PadH: rng.IntN(kh), PadW: rng.IntN(kw)}
			if _, err := c.OutShape(shape); err != nil {
				continue
			}
			c.Quantized = quantized(c.OutChannels, c.K())
			l = c
		case 2:
			kh, kw := 1+rng.IntN(3), 1+rng.IntN(3)
			p := intmodel.Pool2d{KernelH: kh, KernelW: kw, StrideH: 1 + rng.IntN(3), StrideW: 1 + rng.IntN(3), PadH: rng.IntN(kh/2 + 1), PadW: rng.IntN(kw/2 + 1)}
			if rng.IntN(2) == 0 {
				l = &intmodel.MaxPool2d{Name: name, Pool2d: p}
			} else {
				l = &intmodel.AvgPool2d{Name: name, Pool2d: p}
			}
		case 3:
			if shape.H*shape.W > 1 {
				l = &intmodel.Flatten{Name: name}
			} else {
				lin := &intmodel.Linear{Name: name, InFeatures: shape.C, OutFeatures: 1 + rng.IntN(12)}
				lin.Quantized = quantized(lin.OutFeatures, lin.InFeatures)
				l = lin
			}
		}
		out, err := l.OutShape(shape)
		if err != nil {
			continue
		}
		m.Layers = append(m.Layers, l)
		shape = out
	}
	if len(m.Layers) == 0 {
		m.Layers = append(m.Layers, &intmodel.Flatten{Name: "flat"})
	}
	m.Output = act
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

// Random models, all in one program (one prefix each), against intruntime
// under the sanitizers.
func TestHostRandomModels(t *testing.T) {
	if why := ctool.MissingHost(); why != "" {
		t.Skip(why)
	}
	rng := rand.New(rand.NewPCG(21, 21))
	var models []*intmodel.Model
	for range 24 {
		models = append(models, randomModel(t, rng))
	}
	hostModels(t, models, 8, -3, 3)
}

// hostModels compiles the models into one program (prefix m<i> each) with
// the sanitizers, runs each on nImages random images (values in [lo, hi])
// and requires output codes byte-identical to intruntime's.
func hostModels(t *testing.T, models []*intmodel.Model, nImages int, lo, hi float32) {
	t.Helper()
	dir := t.TempDir()
	var main, files strings.Builder
	main.WriteString("#include <stdio.h>\n#include <stdlib.h>\n")
	var body strings.Builder
	want := map[string][]byte{}
	kinds := map[string]int{}
	for i, m := range models {
		for _, l := range m.Layers {
			kinds[l.Kind().String()]++
		}
		p := fmt.Sprintf("m%d", i)
		if _, err := WriteDir(dir, m, Options{Prefix: p}); err != nil {
			t.Fatal(err)
		}
		x := images(uint64(i), nImages, m.InputShape.Size(), lo, hi)
		in, out, _ := reference(t, m, x, nImages)
		if err := os.WriteFile(filepath.Join(dir, p+".in"), in, 0o644); err != nil {
			t.Fatal(err)
		}
		want[p] = out
		fmt.Fprintf(&main, "#include \"%s.h\"\n", p)
		fmt.Fprintf(&body, `	{
		static %[1]s_input_t x[%[2]s_INPUT_SIZE];
		static %[1]s_output_t y[%[2]s_OUTPUT_SIZE];
		FILE *in = fopen("%[1]s.in", "rb"), *out = fopen("%[1]s.out", "wb");
		if (in == NULL || out == NULL)
			return 1;
		while (fread(x, sizeof x, 1, in) == 1) {
			%[1]s_run(x, y);
			fwrite(y, sizeof y, 1, out);
		}
		fclose(in);
		fclose(out);
	}
`, p, strings.ToUpper(p))
		files.WriteString(p + ".c ")
	}
	t.Logf("layers: %v", kinds)
	main.WriteString("int main(void)\n{\n" + body.String() + "\treturn 0;\n}\n")
	if err := os.WriteFile(filepath.Join(dir, "main.c"), []byte(main.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	args := append(append(append([]string{}, ctool.HostFlags...), ctool.Sanitize...), "-o", "all", "main.c")
	args = append(args, strings.Fields(files.String())...)
	if err := ctool.Run(ctx, dir, "gcc", args...); err != nil {
		t.Fatal(err)
	}
	if err := ctool.Run(ctx, dir, "./all"); err != nil {
		t.Fatal(err)
	}
	for i := range models {
		p := fmt.Sprintf("m%d", i)
		got, err := os.ReadFile(filepath.Join(dir, p+".out"))
		if err != nil {
			t.Fatal(err)
		}
		if d := firstDiff(got, want[p]); d != "" {
			src, _ := os.ReadFile(filepath.Join(dir, p+".c"))
			calls := src[strings.Index(string(src), "void "+p+"_run"):]
			t.Errorf("model %s: %s\n%s", p, d, calls)
		}
	}
}
