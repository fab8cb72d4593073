package cgen

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/fixedpoint"
	"github.com/qatgo/qatgo/internal/ctool"
	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/intruntime"
)

// reference runs m on n images x with the Go integer runtime and returns
// the input codes and output codes as the harness's bytes, and the logits.
func reference(t testing.TB, m *intmodel.Model, x []float32, n int) (in, out []byte, logits []float32) {
	r, err := intruntime.NewRunner(m, n, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	logits = make([]float32, n*r.OutputSize())
	if err := r.Run(x, n, logits); err != nil {
		t.Fatal(err)
	}
	ci, err := r.LayerCodes(-1, nil)
	if err != nil {
		t.Fatal(err)
	}
	co, err := r.LayerCodes(r.NumLayers()-1, nil)
	if err != nil {
		t.Fatal(err)
	}
	return codeBytes(ci), codeBytes(co), logits
}

// codeBytes stores int8/uint8 codes as the C arrays hold them.
func codeBytes(c []int32) []byte {
	b := make([]byte, len(c))
	for i, v := range c {
		b[i] = byte(v)
	}
	return b
}

func floatBytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func images(seed uint64, n int, size int, lo, hi float32) []float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	x := make([]float32, n*size)
	for i := range x {
		x[i] = lo + (hi-lo)*rng.Float32()
	}
	// A few exact ties and out-of-range values for the float quantizer.
	if len(x) > 4 {
		x[0], x[1], x[2], x[3] = 0.5/255, 2.5/255, -1e9, float32(math.NaN())
	}
	return x
}

// generate writes m's C and the harness into a temporary directory.
func generate(t testing.TB, m *intmodel.Model, opt Options) (string, *Result) {
	dir := t.TempDir()
	res, err := WriteDir(dir, m, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := ctool.WriteHarness(dir); err != nil {
		t.Fatal(err)
	}
	return dir, res
}

func firstDiff(a, b []byte) string {
	if len(a) != len(b) {
		return fmt.Sprintf("lengths %d and %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			return fmt.Sprintf("byte %d: %d, want %d", i, a[i], b[i])
		}
	}
	return ""
}

// The zoo and the odd models, compiled with -std=c99 -Wall -Wextra -Werror
// and the address and undefined-behaviour sanitizers: output codes from
// input codes (and for some, float logits from float images) byte-identical
// to intruntime.
func TestHostBitExact(t *testing.T) {
	if why := ctool.MissingHost(); why != "" {
		t.Skip(why)
	}
	type model struct {
		name  string
		m     *intmodel.Model
		n     int
		float bool // also the float input quantization and logits
	}
	models := []model{{"odd", oddModel(t, 1), 40, true}, {"convpool", convPool(t, 1), 20, true}}
	for _, b := range []int{8, 4, 2} {
		models = append(models, model{fmt.Sprintf("lenet5-w%da8", b), leNet5(t, uint64(b), b), 20, b == 8})
	}
	for _, b := range []int{8, 4} {
		models = append(models, model{fmt.Sprintf("vgg-small-w%da8", b), vggSmall(t, uint64(b), b), 10, false})
	}
	// A multiplier ≥ 0.5 in conv1 keeps its max pool apart (in place).
	unfused := leNet5(t, 3, 3)
	c1 := unfused.Layers[0].(*intmodel.Conv2d)
	c1.M0[0], c1.Shift[0] = intmodel.QuantizeMultiplier(0.7)
	models = append(models, model{"lenet5-w3a8-unfused", unfused, 10, false})
	if testing.Short() {
		models = models[:3]
	}
	ctx := context.Background()
	for _, mc := range models {
		t.Run(mc.name, func(t *testing.T) {
			m := mc.m
			dir, _ := generate(t, m, Options{FloatIO: true})
			x := images(7, mc.n, m.InputShape.Size(), -0.2, 1.2)
			in, want, logits := reference(t, m, x, mc.n)
			if err := os.WriteFile(filepath.Join(dir, "codes.bin"), in, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "floats.bin"), floatBytes(x), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := ctool.BuildHost(ctx, dir, "codes", ctool.Sanitize...); err != nil {
				t.Fatal(err)
			}
			got, err := ctool.RunHost(ctx, dir, "codes", "codes.bin")
			if err != nil {
				t.Fatal(err)
			}
			if d := firstDiff(got, want); d != "" {
				t.Errorf("output codes differ from intruntime: %s", d)
			}
			if !mc.float {
				return
			}
			if err := ctool.BuildHost(ctx, dir, "floats", append([]string{"-DHARNESS_FLOAT"}, ctool.Sanitize...)...); err != nil {
				t.Fatal(err)
			}
			got, err = ctool.RunHost(ctx, dir, "floats", "floats.bin")
			if err != nil {
				t.Fatal(err)
			}
			if d := firstDiff(got, floatBytes(logits)); d != "" {
				t.Errorf("float logits differ from intruntime: %s", d)
			}
		})
	}
}

// The C fixed-point routines against package fixedpoint, on the edge cases
// and random values.
func TestHostFixedPoint(t *testing.T) {
	if why := ctool.MissingHost(); why != "" {
		t.Skip(why)
	}
	type tc struct {
		acc        int64 // dot + bias, as the C requant receives them
		m0         int32
		shift      int
		zy, lo, hi int32
	}
	var cases []tc
	edge := []int32{0, 1, -1, 2, -2, 3, -3, 1 << 30, -(1 << 30), math.MaxInt32, math.MinInt32, math.MaxInt32 - 1, math.MinInt32 + 1, 12345, -12345}
	for _, a := range edge {
		for _, m0 := range []int32{0, 1 << 30, 1<<30 + 1, math.MaxInt32, 1518500250} {
			for _, sh := range []int{-31, -30, -5, -1, 0, 1, 7, 30} {
				cases = append(cases, tc{int64(a), m0, sh, 3, 0, 255}, tc{int64(a) + math.MaxInt32, m0, sh, 255, 0, 255}, tc{int64(a) - 1<<31, m0, sh, -100, 0, 200})
			}
		}
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for range 20000 {
		m0, sh := intmodel.QuantizeMultiplier(math.Exp(rng.Float64()*30 - 25))
		cases = append(cases, tc{rng.Int64N(1<<33) - 1<<32, m0, sh, int32(rng.IntN(256)), 0, 255})
	}
	dir := t.TempDir()
	prog := "#include <stdio.h>\n#include <stdint.h>\n#include <inttypes.h>\n" + cFixedPoint + cRequant + `
int main(void)
{
	long long dot, bias;
	long m0;
	int shift, zy, lo, hi;
	while (scanf("%lld %lld %ld %d %d %d %d", &dot, &bias, &m0, &shift, &zy, &lo, &hi) == 7)
		printf("%d %" PRId32 "\n", requant((int32_t)dot, (int32_t)bias, (int32_t)m0, shift, zy, lo, hi),
		       mbqm((int32_t)(dot + bias < INT32_MIN ? INT32_MIN : dot + bias > INT32_MAX ? INT32_MAX : dot + bias), (int32_t)m0, shift));
	return 0;
}
`
	if err := os.WriteFile(filepath.Join(dir, "fp.c"), []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	var in strings.Builder
	var want []string
	for _, c := range cases {
		// Split acc into an int32 dot and an int32 bias, as the kernels do.
		dot := int32(max(min(c.acc, math.MaxInt32), math.MinInt32))
		bias := int32(max(min(c.acc-int64(dot), math.MaxInt32), math.MinInt32))
		acc := int64(dot) + int64(bias)
		fmt.Fprintf(&in, "%d %d %d %d %d %d %d\n", dot, bias, c.m0, c.shift, c.zy, c.lo, c.hi)
		sat := int32(max(min(acc, math.MaxInt32), math.MinInt32))
		want = append(want, fmt.Sprintf("%d %d", fixedpoint.Requantize(acc, c.m0, c.shift, c.zy, c.lo, c.hi), fixedpoint.MultiplyByQuantizedMultiplier(sat, c.m0, c.shift)))
	}
	ctx := context.Background()
	args := append(append(append([]string{}, ctool.HostFlags...), ctool.Sanitize...), "-o", "fp", "fp.c")
	if err := ctool.Run(ctx, dir, "gcc", args...); err != nil {
		t.Fatal(err)
	}
	out, err := ctool.RunInput(ctx, dir, in.String(), "./fp")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	i, bad := 0, 0
	for sc.Scan() {
		if i < len(want) && sc.Text() != want[i] && bad < 10 {
			t.Errorf("case %+v: C gives %q, Go %q", cases[i], sc.Text(), want[i])
			bad++
		}
		i++
	}
	if i != len(want) {
		t.Errorf("C printed %d lines, want %d", i, len(want))
	}
}
