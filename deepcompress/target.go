package deepcompress

import (
	"errors"
	"fmt"

	"github.com/qatgo/qatgo/compress"
	"github.com/qatgo/qatgo/nn"
)

// Sentinel errors; returned errors wrap them with details.
var (
	ErrConfig = errors.New("deepcompress: invalid config")
	ErrModel  = errors.New("deepcompress: model does not match")
)

// Target is a compressible layer of a model: a Linear or Conv2d.
type Target struct {
	Name   string
	Conv   bool // a convolution (rank-4 weight); false: fully connected
	Weight *nn.Param
	Bias   *nn.Param // nil when the layer has none
	linear *nn.Linear
	conv   *nn.Conv2d
}

// dropWeightQuantizer removes the layer's weight quantizer: a shared weight
// is codebook[index], not on a linear grid.
func (t Target) dropWeightQuantizer() {
	if t.linear != nil {
		t.linear.WQ = nil
	}
	if t.conv != nil {
		t.conv.WQ = nil
	}
}

// Targets lists the Linear and Conv2d layers of m in order, looking inside
// every container (nn.Walk). Other layers (ConvBn, BatchNorm2d) are not
// compressed.
func Targets(m nn.Module) []Target {
	var ts []Target
	nn.Walk(m, func(m nn.Module) error {
		switch v := m.(type) {
		case *nn.Linear:
			ts = append(ts, Target{Name: v.LayerName, Weight: v.Weight, Bias: v.Bias, linear: v})
		case *nn.Conv2d:
			ts = append(ts, Target{Name: v.LayerName, Conv: true, Weight: v.Weight, Bias: v.Bias, conv: v})
		}
		return nil
	})
	return ts
}

// Load writes the decoded weights and biases of layers (from a compressed
// file) into m's layers of the same names and removes their weight
// quantizers; compile m afterwards. Every compressible layer of m must be in
// layers, with its shape.
func Load(m nn.Module, layers []compress.Layer) error {
	byName := map[string]*compress.Layer{}
	for i := range layers {
		if err := layers[i].Validate(); err != nil {
			return err
		}
		byName[layers[i].Name] = &layers[i]
	}
	ts := Targets(m)
	for _, t := range ts {
		l, ok := byName[t.Name]
		if !ok {
			return fmt.Errorf("%w: layer %s is not in the compressed model", ErrModel, t.Name)
		}
		if !t.Weight.Value.Shape().Eq(l.Shape) {
			return fmt.Errorf("%w: layer %s: weight %v, compressed %v", ErrModel, t.Name, t.Weight.Value.Shape(), l.Shape)
		}
		nb := 0
		if t.Bias != nil {
			nb = t.Bias.Value.Shape().TotalSize()
		}
		if len(l.Bias) != nb {
			return fmt.Errorf("%w: layer %s: %d biases, compressed %d", ErrModel, t.Name, nb, len(l.Bias))
		}
		delete(byName, t.Name)
	}
	for name := range byName {
		return fmt.Errorf("%w: compressed layer %s is not in the model", ErrModel, name)
	}
	for _, t := range ts {
		l := findLayer(layers, t.Name)
		if err := t.Weight.Unshare(); err != nil {
			return err
		}
		if err := set(t.Weight, l.Weights()); err != nil {
			return err
		}
		t.Weight.Mask = l.Mask
		if t.Bias != nil {
			if err := set(t.Bias, l.Bias); err != nil {
				return err
			}
		}
		t.dropWeightQuantizer()
	}
	return nil
}

func findLayer(layers []compress.Layer, name string) *compress.Layer {
	for i := range layers {
		if layers[i].Name == name {
			return &layers[i]
		}
	}
	return nil
}

// set copies v into p's float32 value.
func set(p *nn.Param, v []float32) error {
	d, ok := p.Value.Data().([]float32)
	if !ok || len(d) != len(v) {
		return fmt.Errorf("%w: %s: %v of %d values, want float32 of %d", ErrModel, p.Name, p.Value.Dtype(), p.Value.Shape().TotalSize(), len(v))
	}
	copy(d, v)
	return nil
}
