package cli

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"

	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/onnximport"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
)

// newModel constructs the run's model prepared for q: the registry's
// c.Model, or the float ONNX model c.ModelFile (--model-file), whose input
// shape and classes must be the dataset's.
func newModel(ctx context.Context, c RunConfig, spec zoo.Spec, q qconfig.Config) (*nn.Model, error) {
	if c.ModelFile == "" {
		return modelsFrom(ctx).New(c.Model, spec, q, rand.New(rand.NewSource(int64(c.Seed))))
	}
	m, err := onnximport.ReadFile(c.ModelFile, onnximport.Options{Name: c.Model, Seed: int64(c.Seed)})
	if err != nil {
		return nil, fmt.Errorf("--model-file: %w", err)
	}
	if m.InputShape != spec.InputShape || m.Classes != spec.Classes {
		return nil, fmt.Errorf("--model-file %s: the model takes %v inputs with %d classes, the %s dataset has %v with %d",
			c.ModelFile, m.InputShape, m.Classes, c.Data, spec.InputShape, spec.Classes)
	}
	return qconfig.Prepare(m.Graph, q)
}

// modelFileName is the model name recorded for --model-file PATH: "onnx:"
// and the file's base name without extension.
func modelFileName(path string) string {
	return "onnx:" + strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}
