package qconfig

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/nn"
)

// ErrPrepare is returned (wrapped) for modules that Prepare cannot make
// quantized: a module holding parameters that is neither a qatgo layer nor
// an nn.Container, or a batch norm that cannot be folded into a convolution.
var ErrPrepare = errors.New("qconfig: cannot prepare module")

// Prepare readies a float model for quantization-aware training (or
// post-training calibration) under c, as torch.ao's fuse + prepare_qat do:
//
//   - in every Sequential, a Conv2d followed by a BatchNorm2d becomes a
//     ConvBn (the batch norm folded into the convolution for training and
//     export), and a ReLU or ReLU6 after it is fused;
//   - every layer, however deeply nested in containers, gets the weight and
//     output quantizers its settings call for (Config's specific-wins
//     rules), and the model gets an input quantizer;
//   - anything Prepare does not understand is an error that names it:
//     nothing is left in float silently.
//
// m keeps its parameters (a trained FP32 model's weights carry over); its
// layers are changed in place. m may be a *nn.Model (its body is used).
func Prepare(m nn.Module, c Config) (*nn.Model, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil module", ErrPrepare)
	}
	name := m.Name()
	if mm, ok := m.(*nn.Model); ok {
		if mm.Body == nil {
			return nil, fmt.Errorf("%w: model %q has no body", ErrPrepare, name)
		}
		m = mm.Body
	}
	if err := fuse(m); err != nil {
		return nil, err
	}
	p := &preparer{c: c, used: map[string]bool{}}
	// The last weight layer in build order produces the logits: with
	// EdgeActBits its output keeps that width (spec option io8).
	nn.Walk(m, func(l nn.Module) error {
		if q, ok := l.(nn.Quantizable); ok {
			p.last = q
		}
		return nil
	})
	if err := p.walk(m); err != nil {
		return nil, err
	}
	for k := range c.Overrides {
		if !p.used[k] {
			sort.Strings(p.names)
			return nil, fmt.Errorf("%w: override %q selects no layer (layers: %s)", ErrSpec, k, strings.Join(p.names, ", "))
		}
	}
	out := &nn.Model{ModelName: name, Body: m, QuantSpec: c.Spec}
	if c.Act != nil {
		q, err := NewQuantizer(*c.edge(c.Act), true)
		if err != nil {
			return nil, fmt.Errorf("qconfig: input: %w", err)
		}
		out.InputQ = q
	}
	return out, nil
}

// fuse folds Conv2d + BatchNorm2d pairs in every Sequential of m.
func fuse(m nn.Module) error {
	if s, ok := m.(*nn.Sequential); ok {
		var ls []nn.Module
		for i := 0; i < len(s.Layers); i++ {
			l := s.Layers[i]
			if c, ok := l.(*nn.Conv2d); ok && i+1 < len(s.Layers) {
				if bn, ok := s.Layers[i+1].(*nn.BatchNorm2d); ok && !c.ReLU && !c.ReLU6 && bn.C == c.OutC {
					l = &nn.ConvBn{Conv: c, BN: bn}
					i++
				}
			}
			if len(ls) > 0 && nn.FuseActivation(ls[len(ls)-1], l) {
				continue
			}
			ls = append(ls, l)
		}
		s.Layers = ls
	}
	if ct, ok := m.(nn.Container); ok {
		for _, ch := range ct.Children() {
			if ch == nil {
				continue
			}
			if err := fuse(ch); err != nil {
				return err
			}
		}
	}
	return nil
}

type preparer struct {
	c     Config
	last  nn.Quantizable
	used  map[string]bool
	names []string
}

func (p *preparer) settings(name, kind string) (w, a *TensorQuant, err error) {
	p.names = append(p.names, name)
	w, a, keys, err := p.c.ForLayer(name, kind)
	if err != nil {
		return nil, nil, err
	}
	for _, k := range keys {
		p.used[k] = true
	}
	return w, a, nil
}

func (p *preparer) walk(m nn.Module) error {
	switch l := m.(type) {
	case nil:
		return nil
	case nn.Quantizable:
		kind := "linear"
		switch v := l.(type) {
		case *nn.Conv2d:
			kind = convKind(v)
		case *nn.ConvBn:
			kind = convKind(v.Conv)
		}
		w, a, err := p.settings(l.Name(), kind)
		if err != nil {
			return err
		}
		var wq, aq fakequant.Quantizer
		if w != nil {
			if wq, err = NewQuantizer(*w, false); err != nil {
				return fmt.Errorf("qconfig: %s.weight: %w", l.Name(), err)
			}
		}
		if a != nil && nn.Module(l) == nn.Module(p.last) {
			a = p.c.edge(a)
		}
		if a != nil {
			if aq, err = NewQuantizer(*a, true); err != nil {
				return fmt.Errorf("qconfig: %s.act: %w", l.Name(), err)
			}
		}
		l.SetQuantizers(wq, aq)
		return nil
	case nn.OutputQuantizable:
		kind := "pool"
		switch l.(type) {
		case *nn.Add:
			kind = "add"
		case *nn.Concat:
			kind = "concat"
		}
		_, a, err := p.settings(l.Name(), kind)
		if err != nil {
			return err
		}
		var aq fakequant.Quantizer
		if a != nil {
			if aq, err = NewQuantizer(*a, true); err != nil {
				return fmt.Errorf("qconfig: %s.act: %w", l.Name(), err)
			}
		}
		l.SetOutputQuantizer(aq)
		return nil
	case *nn.BatchNorm2d:
		if p.c.Weight != nil || p.c.Act != nil {
			return fmt.Errorf("%w: batch norm %q does not directly follow a Conv2d in a Sequential, so it cannot be folded; the integer model has no standalone batch norm", ErrPrepare, l.Name())
		}
		return nil
	case nn.Container:
		for _, ch := range l.Children() {
			if err := p.walk(ch); err != nil {
				return err
			}
		}
		return nil
	case *nn.ReLU, *nn.ReLU6, *nn.MaxPool2d, *nn.Flatten, *nn.Dropout:
		return nil
	}
	if len(m.Params()) > 0 {
		return fmt.Errorf("%w: module %q (%T) holds parameters but is neither a qatgo layer nor an nn.Container listing its children", ErrPrepare, m.Name(), m)
	}
	return nil
}

func convKind(c *nn.Conv2d) string {
	if c.IsDepthwise() {
		return "depthwise"
	}
	return "conv2d"
}
