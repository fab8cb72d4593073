package cli

import "testing"

// FuzzRunConfig: no config.json panics the reader or the validation.
func FuzzRunConfig(f *testing.F) {
	for _, s := range []string{
		`{"model":"lenet5","data":"synthetic","quant":"w8a8","batch":64,"epochs":2,"optimizer":"sgd","lr":0.01,"momentum":0.9,"schedule":"cosine","seed":1}`,
		`{"model":"vgg-small","quant":"w4a8,per-tensor","batch":0,"lr":-1,"schedule":"step:2:NaN","freeze_observers_epoch":0}`,
		`{}`, `null`, `[`, `{"batch": 1e300}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseRunConfig(b)
		if err != nil {
			return
		}
		// Files named by a fuzzed config are not opened.
		c.Init, c.QuantFile = "", ""
		c.validate()
	})
}
