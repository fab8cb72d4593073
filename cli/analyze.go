package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/qatgo/qatgo/analysis"
	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/internal/atomicfile"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/train"
)

// analyzeSummary is analyze's --json line: the report and where the HTML is.
type analyzeSummary struct {
	*analysis.Report
	Run  string `json:"run"`
	Ref  string `json:"ref,omitempty"`
	HTML string `json:"html"`
}

func runAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("analyze", stderr)
	runDir := fs.String("run", "", "quantized run directory (from qatgo train --quant ...); required")
	refDir := fs.String("ref", "", "FP32 run to compare with (default: the run's own weights with its quantizers disabled)")
	calib := fs.Int("calib-images", 256, "training images run through both models for the activation statistics (≥ 1)")
	testLimit := fs.Int("test-limit", -1, "use only the first N test images for the accuracies (-1: as the run)")
	noAcc := fs.Bool("no-accuracy", false, "skip the accuracies (one test-set evaluation per quantized layer, plus two)")
	htmlPath := fs.String("html", "", "HTML report to write (default RUN/analysis.html)")
	asJSON := fs.Bool("json", false, "print the analysis as one JSON object as the last line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *runDir == "" {
		fmt.Fprintln(stderr, "qatgo analyze: --run is required")
		return errUsage
	}
	if *calib < 1 {
		return flagErr("--calib-images %d: want ≥ 1", *calib)
	}
	if *htmlPath == "" {
		*htmlPath = filepath.Join(*runDir, "analysis.html")
	}
	c, net, trainSet, testSet, err := loadRunKeep(ctx, *runDir, *testLimit)
	if err != nil {
		return err
	}
	defer net.Close()
	opt := analysis.Options{Images: trainSet.X[:min(*calib, trainSet.Len())*trainSet.SampleSize()]}
	if *refDir != "" {
		rc, ref, _, _, err := loadRunKeep(ctx, *refDir, *testLimit)
		if err != nil {
			return fmt.Errorf("--ref: %w", err)
		}
		defer ref.Close()
		if q := strings.ToLower(rc.Quant); q != "fp32" && q != "" {
			return fmt.Errorf("--ref %s was trained with --quant %s; want an FP32 run", *refDir, rc.Quant)
		}
		opt.Ref = ref
	}
	if !*noAcc {
		opt.Accuracy = func(n *nn.Net) (float64, error) {
			return train.Evaluate(train.NetModel(n), train.FromDataset(testSet))
		}
	}
	rep, err := analysis.Analyze(net, opt)
	if err != nil {
		return err
	}
	rep.Model, rep.Quant = c.Model, c.Quant
	if *refDir != "" {
		rep.Reference = "FP32 run " + *refDir
	}
	var page bytes.Buffer
	if err := rep.WriteHTML(&page); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(*htmlPath, page.Bytes(), 0o644); err != nil {
		return err
	}
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "HTML report in %s\n", *htmlPath)
	if *asJSON {
		return printJSON(stdout, analyzeSummary{Report: rep, Run: *runDir, Ref: *refDir, HTML: *htmlPath})
	}
	return nil
}

// loadRunKeep is loadRun with a net that keeps every layer's output
// (nn.CompileConfig.KeepActivations) and an optional test-set limit.
func loadRunKeep(ctx context.Context, dir string, testLimit int) (*RunConfig, *nn.Net, *datasets.Dataset, *datasets.Dataset, error) {
	c, err := readRunConfig(dir)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if testLimit >= 0 {
		c.TestLimit = testLimit
	}
	trainSet, testSet, err := loadData(*c)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	m, spec, err := runModel(ctx, *c, trainSet)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	net, err := nn.Compile(m, nn.CompileConfig{Batch: c.Batch, InputShape: spec.InputShape, Classes: spec.Classes, KeepActivations: true})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if err := net.LoadState(filepath.Join(dir, stateFileName)); err != nil {
		net.Close()
		return nil, nil, nil, nil, err
	}
	return c, net, trainSet, testSet, nil
}
