package fakequant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// ErrState is returned (wrapped) by UnmarshalState for state that is corrupt,
// of another version, or of another kind of quantizer.
var ErrState = errors.New("fakequant: bad quantizer state")

// ErrNotLinear is returned by QParams of quantizers that have no
// (scale, zero point) parameters: Identity and PoT.
var ErrNotLinear = errors.New("fakequant: quantizer has no linear parameters")

// stateVersion is the version of the quantizer state encoding. Bump it when
// the fields change meaning; decoders reject versions they do not know.
const stateVersion = 1

// quantState is the saved state of any quantizer, as JSON. Flags are saved
// like PyTorch saves fake_quant_enabled/observer_enabled in its state_dict.
type quantState struct {
	Version   int    `json:"version"`
	Kind      string `json:"kind"`
	Enabled   bool   `json:"enabled"`
	Observing bool   `json:"observing"`
	Observer  []byte `json:"observer,omitempty"`

	// LSQ
	Initialized bool      `json:"initialized,omitempty"`
	Scale       []float32 `json:"scale,omitempty"`
	ZeroPoint   []float32 `json:"zero_point,omitempty"`

	// PoT
	MaxAbs   float32 `json:"max_abs,omitempty"`
	Observed bool    `json:"observed,omitempty"`
}

func encodeState(s quantState) ([]byte, error) {
	s.Version = stateVersion
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("fakequant: encoding %s state: %w", s.Kind, err)
	}
	return b, nil
}

func decodeState(b []byte, kind string) (quantState, error) {
	var s quantState
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&s); err != nil {
		return s, fmt.Errorf("%w: %v", ErrState, err)
	}
	if d.More() {
		return s, fmt.Errorf("%w: trailing data", ErrState)
	}
	if s.Version != stateVersion {
		return s, fmt.Errorf("%w: version %d, want %d", ErrState, s.Version, stateVersion)
	}
	if s.Kind != kind {
		return s, fmt.Errorf("%w: state of a %q quantizer given to a %q one", ErrState, s.Kind, kind)
	}
	return s, nil
}

// observerName names an observer for String: its String method, else its
// type name in lower case ("*observers.MinMax" → "minmax").
func observerName(o Observer) string {
	if s, ok := o.(fmt.Stringer); ok {
		return s.String()
	}
	t := reflect.TypeOf(o)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "nil"
	}
	return strings.ToLower(t.Name())
}
