package qconfig

import (
	"fmt"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/numerics"
	"github.com/qatgo/qatgo/observers"
)

// NewQuantizer makes the quantizer a setting describes: the one place where
// settings become quantizers. act says the tensor is an activation (axis 0
// the batch), which sets the LSQ gradient scale's N to one sample's
// elements.
func NewQuantizer(t TensorQuant, act bool) (fakequant.Quantizer, error) {
	if f, err := numerics.FormatByName(t.Method); err == nil {
		return fakequant.NewFloat(f)
	}
	if err := t.Scheme.Validate(); err != nil {
		return nil, err
	}
	if t.Method == "pot" {
		return fakequant.NewPowerOfTwo(t.Scheme.Bits)
	}
	obs, err := newObserver(t.Observer, t.Scheme)
	if err != nil {
		return nil, err
	}
	switch t.Method {
	case "affine", "":
		return fakequant.NewAffine(obs)
	case "lsq":
		// The LSQ paper's method: step from 2·mean|x|/√Qp, gradient scale 1/√(N·Qp).
		return fakequant.NewLSQ(obs, fakequant.WithMeanInit(true), fakequant.WithGradScaling(true), fakequant.WithBatchAxis(act))
	}
	return nil, fmt.Errorf("qconfig: quantizer method %q, want affine, lsq or pot", t.Method)
}

// newObserver makes an observer of the given kind (see observers.New).
func newObserver(kind string, s fakequant.QScheme) (fakequant.Observer, error) {
	return observers.New(kind, s)
}
