package qconfig

import (
	"fmt"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/numerics"
	"github.com/qatgo/qatgo/observers"
)

// NewQuantizer makes the quantizer a setting describes: the one place where
// settings become quantizers.
func NewQuantizer(t TensorQuant) (fakequant.Quantizer, error) {
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
		return fakequant.NewLSQ(obs)
	}
	return nil, fmt.Errorf("qconfig: quantizer method %q, want affine, lsq or pot", t.Method)
}

// newObserver makes an observer of the given kind (see observers.New).
func newObserver(kind string, s fakequant.QScheme) (fakequant.Observer, error) {
	return observers.New(kind, s)
}
