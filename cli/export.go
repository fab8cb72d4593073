package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/qatgo/qatgo/cgen"
	"github.com/qatgo/qatgo/export"
	"github.com/qatgo/qatgo/intmodel"
	"github.com/qatgo/qatgo/onnx"
)

// runExport writes a trained QAT run as a true-integer model file (and
// optionally ONNX).
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	runDir := fs.String("run", "", "run directory of a quantized model (from qatgo train --quant ...)")
	out := fs.String("out", "", "integer model file to write (e.g. model.qint)")
	onnxOut := fs.String("onnx", "", "also write the integer model as ONNX to this file")
	cDir := fs.String("c", "", "also write the integer model as dependency-free C99 (model.h, model.c, model_weights.h) into this directory")
	cFloat := fs.Bool("c-float", false, "with --c: also generate the float input quantization and output dequantization")
	onnxFormat := fs.String("onnx-format", "integer", "with --onnx: integer (integer ops, exactly the integer runtime's codes), qlinear (QLinearConv) or qdq (QuantizeLinear/DequantizeLinear around float ops, as onnxruntime's quantizer writes)")
	asJSON := fs.Bool("json", false, "print a JSON summary as the last line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *runDir == "" || *out == "" {
		fmt.Fprintln(stderr, "qatgo export: --run and --out are required")
		return errUsage
	}
	format, err := onnx.ParseFormat(*onnxFormat)
	if err != nil {
		return flagErr("--onnx-format: %v", err)
	}
	c, net, _, _, err := loadRun(ctx, *runDir)
	if err != nil {
		return err
	}
	defer net.Close()
	m, err := export.FromNet(net)
	if err != nil {
		return fmt.Errorf("%s: %w", *runDir, err)
	}
	if abs, err := filepath.Abs(*runDir); err == nil {
		m.Meta["run"] = abs
	}
	m.Meta["data"] = c.Data
	id, err := runID(*runDir, c)
	if err != nil {
		return err
	}
	m.Meta["run_id"] = id
	if err := m.Write(*out); err != nil {
		return err
	}
	if *onnxOut != "" {
		if err := (onnx.Exporter{Format: format}).WriteFile(*onnxOut, m); err != nil {
			return fmt.Errorf("--onnx: %w", err)
		}
	}
	var cr *cgen.Report
	if *cDir != "" {
		res, err := cgen.WriteDir(*cDir, m, cgen.Options{FloatIO: *cFloat})
		if err != nil {
			return fmt.Errorf("--c: %w", err)
		}
		cr = &res.Report
	}
	s, err := intmodel.Inspect(m)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %s (%s) to %s: %d layers, %d bytes of parameters (FP32: %d, %.2fx smaller)\n",
		c.Model, c.Quant, *out, len(m.Layers), s.StoredBytes, s.FP32Bytes, ratio(s))
	if *onnxOut != "" {
		fmt.Fprintf(stdout, "ONNX model in %s\n", *onnxOut)
	}
	if cr != nil {
		fmt.Fprintf(stdout, "C code in %s: RAM %d bytes (arena; %d without reuse), %d bytes of constants besides code\n",
			*cDir, cr.ArenaBytes, cr.NaiveBytes, cr.ConstBytes)
	}
	if *asJSON {
		j := map[string]any{"out": *out, "onnx": *onnxOut, "run": *runDir, "model": c.Model, "quant": c.Quant,
			"layers": len(m.Layers), "weights": s.Weights, "stored_bytes": s.StoredBytes, "fp32_bytes": s.FP32Bytes, "compression": ratio(s)}
		if cr != nil {
			j["c"], j["c_arena_bytes"], j["c_naive_bytes"], j["c_const_bytes"] = *cDir, cr.ArenaBytes, cr.NaiveBytes, cr.ConstBytes
		}
		return printJSON(stdout, j)
	}
	return nil
}

func ratio(s *intmodel.Summary) float64 {
	if s.StoredBytes == 0 {
		return 0
	}
	return float64(s.FP32Bytes) / float64(s.StoredBytes)
}
