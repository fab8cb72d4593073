package cgen

import (
	mrand "math/rand"
	"testing"

	"github.com/qatgo/qatgo/export"
	"github.com/qatgo/qatgo/internal/ctool"
	"github.com/qatgo/qatgo/internal/graphtest"
	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
)

// zooGraph builds a zoo model at spec (e.g. "w8a8") on a 1×16×16 input,
// calibrates it on a few batches of random images and exports it: untrained
// weights, real graph structure (bit-exactness does not need training).
func zooGraph(t testing.TB, name, spec string) *intmodel.Model {
	sp := zoo.Spec{InputShape: [3]int{1, 16, 16}, Classes: 10}
	q, err := qconfig.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := zoo.Default().New(name, sp, q, mrand.New(mrand.NewSource(3)))
	if err != nil {
		t.Fatal(err)
	}
	const batch = 4
	net, err := nn.Compile(mod, nn.CompileConfig{Batch: batch, InputShape: sp.InputShape, Classes: sp.Classes})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	rng := mrand.New(mrand.NewSource(4))
	x := make([]float32, batch*16*16)
	for range 3 {
		for i := range x {
			x[i] = rng.Float32()
		}
		if err := net.Calibrate(x, batch); err != nil {
			t.Fatal(err)
		}
	}
	m, err := export.FromNet(net)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ResNet-20 and MobileNetV2 (residual adds, projection shortcuts,
// depthwise convolutions, ReLU6, global average pooling) at W8A8 and W4A8,
// and graphtest's graphs (its four fixed ones and random ones: grouped
// convolutions, long skips, concats with requantization, rescaling average
// pools), all in one program under the sanitizers: output codes
// byte-identical to intruntime.
func TestHostGraphModels(t *testing.T) {
	if why := ctool.MissingHost(); why != "" {
		t.Skip(why)
	}
	var models []*intmodel.Model
	for _, f := range []func(uint64, int) (*intmodel.Model, error){graphtest.Residual, graphtest.InvertedResidual, graphtest.ConcatNet, graphtest.FlatNet} {
		for _, b := range []int{8, 4} {
			m, err := f(uint64(b), b)
			if err != nil {
				t.Fatal(err)
			}
			models = append(models, m)
		}
	}
	nRandom := 12
	if testing.Short() {
		nRandom = 6
	}
	for i := range nRandom {
		m, err := graphtest.Random(uint64(100+i), []int{8, 4, 2, 3}[i%4], 4+i%12)
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	if !testing.Short() {
		for _, name := range []string{"resnet20", "mobilenetv2"} {
			for _, spec := range []string{"w8a8", "w4a8"} {
				models = append(models, zooGraph(t, name, spec))
			}
		}
	}
	hostModels(t, models, 6, -0.2, 1.2)
}

// The arena plan of a residual block worked by hand (8-bit weights: no
// weight-row scratch; the depthwise conv needs no columns). Steps: 0 input
// copy, 1 conv, 2 depthwise conv, 3 add, 4 global average pool, 5 flatten,
// 6 linear, 7 output copy.
//
//	input 64 [0,1]; conv 4×8×8 = 256 [1,3] (read by dw and add), conv.cols
//	4·12·2 = 96 [1]; dw 256 [2,3]; add 256 [3,4] in place over conv (its
//	last reader); gap 4 [4,5] and flatten 4 [5,6] in place; fc 10 [6,7];
//	fc.col 4·2 = 8 [6].
//
// Largest unit first: the conv/add/gap/flatten chain at 0; dw (live with
// conv) at 256; conv.cols (step 1: conv) at 256, after dw's time; input
// (0..1: conv, cols) at 352; fc (6..7: flatten 0..4) at 4; fc.col (6: fc
// 4..14) at 16. Arena 512. Naive: 64 + 3·256 + 4 + 4 + 12 + 96 + 8 = 956.
func TestArenaResidual(t *testing.T) {
	b := graphtest.NewBuilder(1, intmodel.Shape{C: 1, H: 8, W: 8}, intmodel.ActQuant{Scale: 1.0 / 255, Bits: 8}, 8)
	c := b.Conv(0, 4, 3, 1, 1, 1, true, false)
	dw := b.Conv(c, 4, 3, 1, 1, 4, true, false)
	b.Linear(b.Flatten(b.GlobalAvgPool(b.Add(c, dw, false, false))), 10, false)
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	res, err := Generate(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.ArenaBytes != 512 || res.Report.NaiveBytes != 956 {
		t.Errorf("arena %d, naive %d; want 512, 956", res.Report.ArenaBytes, res.Report.NaiveBytes)
	}
	want := map[string]int{"input": 352, "conv0": 0, "conv0.cols": 256, "conv1": 256, "add2": 0, "gap3": 0, "flatten4": 0, "fc5": 4, "fc5.col": 16}
	for _, buf := range res.Report.Buffers {
		if off, ok := want[buf.Name]; !ok || off != buf.Offset {
			t.Errorf("buffer %s at %d, want %d", buf.Name, buf.Offset, off)
		}
		delete(want, buf.Name)
	}
	if len(want) != 0 {
		t.Errorf("buffers missing: %v", want)
	}
}

// A pool may write over its input only when nothing reads the input later:
// here the concat reads the conv's output after the pool, so the pool gets
// its own buffer; the second pool's input is dead after it, so it works in
// place.
func TestInPlaceOnlyWhenDead(t *testing.T) {
	b := graphtest.NewBuilder(2, intmodel.Shape{C: 1, H: 6, W: 6}, intmodel.ActQuant{Scale: 1.0 / 255, Bits: 8}, 8)
	c := b.Conv(0, 2, 3, 1, 1, 1, true, false)
	p := b.MaxPool(c, 1, 1, 0)
	cat := b.Concat(nil, p, c)
	b.Linear(b.Flatten(b.MaxPool(cat, 2, 2, 0)), 3, false)
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	res, err := Generate(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	off := map[string]int{}
	for _, buf := range res.Report.Buffers {
		off[buf.Name] = buf.Offset
	}
	for _, n := range []string{"conv0", "maxpool1", "cat2", "maxpool3"} {
		if _, ok := off[n]; !ok {
			t.Fatalf("no buffer %s in %v", n, off)
		}
	}
	if off["maxpool1"] == off["conv0"] {
		t.Errorf("maxpool1 at conv0's offset %d: it overwrites a tensor the concat reads later", off["conv0"])
	}
	if off["maxpool3"] != off["cat2"] {
		t.Errorf("maxpool3 at %d, cat2 at %d: want in place", off["maxpool3"], off["cat2"])
	}
}
