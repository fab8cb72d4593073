// Command mcu prepares a microcontroller run of an integer model: it writes
// the model as C (package cgen), the test harness (main.c, startup.c and the
// MPS2 linker script), n test images as input codes (codes.bin) and the Go
// integer runtime's output codes for them (expected.bin). run.sh then builds
// the C with the host's gcc and for a Cortex-M4, runs both (the latter under
// qemu-system-arm) and compares their outputs with expected.bin byte for byte.
//
//	go run ./examples/mcu -model runs/mcu/model.qint -dir runs/mcu/c -n 100
//
// The images come from the data set the model was trained on (its "data"
// metadata, or -data), with the data set's standard normalisation.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/qatgo/qatgo/cgen"
	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/internal/ctool"
	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/intruntime"
)

func main() {
	modelFile := flag.String("model", "", "integer model file (qatgo export --out)")
	dir := flag.String("dir", "mcu", "directory for the C code, harness and images")
	n := flag.Int("n", 100, "test images")
	data := flag.String("data", "", "data set of the images (default: the model's training data)")
	dataDir := flag.String("data-dir", "", "where the data set's files are (default: located automatically)")
	flag.Parse()
	if *modelFile == "" {
		log.Fatal("mcu: -model is required (see qatgo export)")
	}
	if err := run(*modelFile, *dir, *data, *dataDir, *n); err != nil {
		log.Fatal(err)
	}
}

func run(modelFile, dir, data, dataDir string, n int) error {
	m, err := intmodel.Read(modelFile)
	if err != nil {
		return err
	}
	if data == "" {
		data = m.Meta["data"]
	}
	_, test, err := datasets.Load(data, dataDir)
	if err != nil {
		return err
	}
	n = min(n, test.Len())
	if n < 1 || test.SampleSize() != m.InputShape.Size() {
		return fmt.Errorf("mcu: %d images of %d values for a model that takes %v", n, test.SampleSize(), m.InputShape)
	}
	res, err := cgen.WriteDir(dir, m, cgen.Options{})
	if err != nil {
		return err
	}
	if err := ctool.WriteHarness(dir); err != nil {
		return err
	}
	r, err := intruntime.NewRunner(m, n, 0)
	if err != nil {
		return err
	}
	defer r.Close()
	x := test.X[:n*test.SampleSize()]
	logits := make([]float32, n*r.OutputSize())
	if err := r.Run(x, n, logits); err != nil {
		return err
	}
	correct := 0
	for i := range n {
		best := 0
		for j, v := range logits[i*r.OutputSize() : (i+1)*r.OutputSize()] {
			if v > logits[i*r.OutputSize()+best] {
				best = j
			}
		}
		if best == int(test.Labels[i]) {
			correct++
		}
	}
	for _, f := range []struct {
		name  string
		layer int
	}{{"codes.bin", -1}, {"expected.bin", r.NumLayers() - 1}} {
		codes, err := r.LayerCodes(f.layer, nil)
		if err != nil {
			return err
		}
		b := make([]byte, len(codes))
		for i, c := range codes {
			b[i] = byte(c) // int8 or uint8, as the C arrays hold them
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), b, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("%s: C model in %s (RAM: arena %d bytes, %d without buffer reuse; constants %d bytes)\n",
		modelFile, dir, res.Report.ArenaBytes, res.Report.NaiveBytes, res.Report.ConstBytes)
	fmt.Printf("%d %s test images in %s; Go integer runtime: %d/%d correct, output codes in %s\n",
		n, data, filepath.Join(dir, "codes.bin"), correct, n, filepath.Join(dir, "expected.bin"))
	return nil
}
