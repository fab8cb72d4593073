// Command sweepfigure redraws a sweep's conv-vs-FC loss figures
// (sweep.LossFigurePNG) from its results.csv alone:
//
//	go run ./examples/sweepfigure -title "VGG-small, Fashion-MNIST" docs/sweeps/vgg-small-fashion-mnist
//
// writes plot-loss-e<E>.png beside the CSV for every fine-tuning setting in it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/qatgo/qatgo/internal/atomicfile"
	"github.com/qatgo/qatgo/sweep"
)

func main() {
	title := flag.String("title", "", "figure title prefix (e.g. the model and data set)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: sweepfigure [-title T] SWEEPDIR")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *title); err != nil {
		fmt.Fprintln(os.Stderr, "sweepfigure:", err)
		os.Exit(1)
	}
}

func run(dir, title string) error {
	f, err := os.Open(filepath.Join(dir, "results.csv"))
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := sweep.ReadCSV(f)
	if err != nil {
		return err
	}
	var epochs []int
	for _, r := range rows {
		if r.Kind == sweep.GroupPoint && !slices.Contains(epochs, r.Epochs) {
			epochs = append(epochs, r.Epochs)
		}
	}
	for _, e := range epochs {
		t := title + ": accuracy loss vs bits, conv and fc"
		if e > 0 {
			t += fmt.Sprintf(", +%d ep", e)
		}
		png, err := sweep.LossFigurePNG(rows, e, t)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, sweep.LossFigureName(e))
		if err := atomicfile.WriteFile(path, png, 0o644); err != nil {
			return err
		}
		fmt.Println(path)
	}
	return nil
}
