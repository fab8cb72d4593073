package qconfig_test

import (
	"testing"

	"github.com/qatgo/qatgo/qconfig"
)

// FuzzParseQuantConfig: no spec panics; an accepted one has valid schemes.
func FuzzParseQuantConfig(f *testing.F) {
	for _, s := range []string{"fp32", "w8a8", "w4a8,per-tensor,aobs=histogram", "w2a32,method=lsq", "fp8-e4m3", "w16a16,narrow", "w8a8,wobs="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := qconfig.Parse(s)
		if err != nil {
			return
		}
		if w := q.Weight; w != nil && w.Method == "affine" {
			if err := w.Scheme.Validate(); err != nil {
				t.Fatalf("%q: accepted weight scheme invalid: %v", s, err)
			}
		}
	})
}

// FuzzParseOverrides: no --quant-config JSON panics; accepted bit widths
// are in range.
func FuzzParseOverrides(f *testing.F) {
	for _, s := range []string{`{"conv1": {"weight_bits": 8}}`, `{"fc2": {"float": true}}`, `{"x": {"act_bits": 32, "per_channel": false}}`, `{}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := qconfig.ParseOverrides(b)
		if err != nil {
			return
		}
		for name, o := range m {
			for _, p := range []*int{o.WeightBits, o.ActBits} {
				if p != nil && (*p < 1 || *p > 16) && *p != 32 {
					t.Fatalf("%s: bits %d accepted", name, *p)
				}
			}
		}
	})
}
