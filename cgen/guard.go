package cgen

import (
	"fmt"
	"reflect"

	"github.com/qatgo/qatgo/intmodel"
)

// The fields of the intmodel types whose meaning this generator implements.
// A field it does not know (a later intmodel's new option…)
// set to anything but its zero value (or
// the value in allowed) makes Generate refuse the model by name instead of
// emitting code that ignores it.
var knownFields = map[reflect.Type][]string{
	reflect.TypeFor[intmodel.Model]():         {"Input", "InputShape", "Layers", "Inputs", "Output", "Meta"},
	reflect.TypeFor[intmodel.Conv2d]():        {"Name", "InChannels", "OutChannels", "KernelH", "KernelW", "StrideH", "StrideW", "PadH", "PadW", "Groups", "Quantized"},
	reflect.TypeFor[intmodel.Linear]():        {"Name", "InFeatures", "OutFeatures", "Quantized"},
	reflect.TypeFor[intmodel.Quantized]():     {"WeightBits", "Weights", "WeightScale", "InAct", "OutAct", "Bias", "M0", "Shift", "QMin", "QMax"},
	reflect.TypeFor[intmodel.MaxPool2d]():     {"Name", "Pool2d"},
	reflect.TypeFor[intmodel.AvgPool2d]():     {"Name", "Pool2d", "Requant"},
	reflect.TypeFor[intmodel.GlobalAvgPool](): {"Name", "Rescale"},
	reflect.TypeFor[intmodel.Rescale]():       {"In", "Out", "M0", "Shift", "QMin", "QMax"},
	reflect.TypeFor[intmodel.Add]():           {"Name", "A", "B", "Out", "LeftShift", "M0A", "ShiftA", "M0B", "ShiftB", "M0Out", "ShiftOut", "QMin", "QMax"},
	reflect.TypeFor[intmodel.Concat]():        {"Name", "In", "Out", "Requant"},
	reflect.TypeFor[intmodel.Pool2d]():        {"KernelH", "KernelW", "StrideH", "StrideW", "PadH", "PadW"},
	reflect.TypeFor[intmodel.Flatten]():       {"Name"},
}

// allowed: unknown fields whose value means "as before" (none at present).
var allowed = map[string]int64{}

// unknownField returns the first field of the struct v (or *struct),
// embedded structs included, that knownFields does not list and that is set,
// as "Name=value"; "" if none.
func unknownField(v any) string { return unknownIn(reflect.ValueOf(v), knownFields) }

func unknownIn(rv reflect.Value, known map[reflect.Type][]string) string {
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return ""
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return ""
	}
	names := map[string]bool{}
	for _, f := range known[rv.Type()] {
		names[f] = true
	}
	for i := range rv.NumField() {
		f, fv := rv.Type().Field(i), rv.Field(i)
		if names[f.Name] {
			if f.Anonymous {
				if s := unknownIn(fv, known); s != "" {
					return s
				}
			}
			continue
		}
		if fv.IsZero() {
			continue
		}
		if a, ok := allowed[f.Name]; ok && fv.CanInt() && fv.Int() == a {
			continue
		}
		return fmt.Sprintf("%s=%v", f.Name, fv)
	}
	return ""
}
