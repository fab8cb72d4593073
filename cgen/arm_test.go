package cgen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qatgo/qatgo/internal/ctool"
	"github.com/qatgo/qatgo/intmodel"
)

// LeNet-5 W8A8/W4A8/W2A8 and vgg-small W8A8 cross-compiled for a Cortex-M4
// and run under qemu-system-arm (MPS2 AN386, semihosting), portable and DSP
// kernels: output codes byte-identical to intruntime on 100 images (10 for
// vgg-small), and ResNet-20 and MobileNetV2 W8A8 (W4A8 too with
// QATGO_CGEN_ALL set) on 1×16×16 inputs on 10 images (graph models:
// residual adds, depthwise convolutions). The link puts LeNet-5 W8A8 in a
// 1 MB-flash / 256 KB-SRAM part and the sub-byte ones in 512 KB of flash,
// so it fails if they do not fit.
// The logged figures are those of BENCHMARKS.md.
func TestARMBitExact(t *testing.T) {
	if why := ctool.MissingARM(); why != "" {
		t.Skip(why)
	}
	type model struct {
		name        string
		m           *intmodel.Model
		n           int
		flash, sram int
	}
	var models []model
	for _, b := range []int{8, 4, 2} {
		flash := 512 << 10
		if b == 8 {
			flash = 1 << 20
		}
		models = append(models, model{fmt.Sprintf("lenet5-w%da8", b), leNet5(t, uint64(b), b), 100, flash, 256 << 10})
	}
	models = append(models, model{"vgg-small-w8a8", vggSmall(t, 8, 8), 10, 1 << 20, 256 << 10})
	if testing.Short() {
		models = models[1:2]
		models[0].n = 10
	} else {
		// The graph models on the board's whole memory (4 MB each).
		specs := []string{"w8a8"}
		if os.Getenv("QATGO_CGEN_ALL") != "" { // the W4A8 rows of BENCHMARKS.md
			specs = append(specs, "w4a8")
		}
		for _, name := range []string{"resnet20", "mobilenetv2"} {
			for _, spec := range specs {
				models = append(models, model{name + "-" + spec, zooGraph(t, name, spec), 10, 0, 0})
			}
		}
	}
	ctx := context.Background()
	t.Run("lenet5-w8a8-float", func(t *testing.T) {
		// Input quantization and logits in float on the M4's FPU: the
		// same float32 bits as the Go runtime.
		m := models[0].m
		dir, _ := generate(t, m, Options{FloatIO: true})
		n := 20
		x := images(13, n, m.InputShape.Size(), -0.2, 1.2)
		_, _, logits := reference(t, m, x, n)
		if err := os.WriteFile(filepath.Join(dir, "floats.bin"), floatBytes(x), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ctool.BuildARM(ctx, dir, "floats", ctool.ARM{Extra: []string{"-DHARNESS_FLOAT"}}); err != nil {
			t.Fatal(err)
		}
		got, _, err := ctool.RunQEMU(ctx, dir, "floats", "floats.bin", 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if d := firstDiff(got, floatBytes(logits)); d != "" {
			t.Errorf("float logits differ from intruntime: %s", d)
		}
	})
	t.Logf("| model | path | flash: code+const (model.o text) | arena RAM (naive) | instructions/inference |")
	for _, mc := range models {
		t.Run(mc.name, func(t *testing.T) {
			dir, res := generate(t, mc.m, Options{})
			x := images(11, mc.n, mc.m.InputShape.Size(), -0.2, 1.2)
			in, want, _ := reference(t, mc.m, x, mc.n)
			if err := os.WriteFile(filepath.Join(dir, "codes.bin"), in, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, dsp := range []bool{false, true} {
				name, path := "portable", "portable"
				if dsp {
					name, path = "dsp", "DSP (SMLAD)"
				}
				msize, psize, err := ctool.BuildARM(ctx, dir, name, ctool.ARM{DSP: dsp, FlashBytes: mc.flash, RAMBytes: mc.sram})
				if err != nil {
					t.Fatal(err)
				}
				got, q, err := ctool.RunQEMU(ctx, dir, name, "codes.bin", 5*time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if q.Images != mc.n {
					t.Fatalf("%s: qemu ran %d images, want %d", name, q.Images, mc.n)
				}
				if d := firstDiff(got, want); d != "" {
					t.Errorf("%s: output codes differ from intruntime: %s", name, d)
				}
				if msize.BSS != res.Report.ArenaBytes {
					t.Errorf("%s: model.o has %d bytes of .bss, want the arena's %d", name, msize.BSS, res.Report.ArenaBytes)
				}
				t.Logf("| %s | %s | %d | %d (%d) | %d |  (program %d flash, %d RAM)", mc.name, path, msize.Text+msize.Data,
					res.Report.ArenaBytes, res.Report.NaiveBytes, q.TotalTicks*ctool.InstrPerTick/int64(q.Images),
					psize.Text+psize.Data, psize.Data+psize.BSS)
			}
		})
	}
}
