package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// analyze on a QAT run and on it against its FP32 run: a row per quantized
// layer, the JSON line, and the HTML report.
func TestAnalyzeSynthetic(t *testing.T) {
	dir := t.TempDir()
	fp, q := filepath.Join(dir, "fp32"), filepath.Join(dir, "w4a8")
	mustTrain(t, trainArgs(fp, "--epochs", "1")...)
	mustTrain(t, trainArgs(q, "--epochs", "1", "--quant", "w4a8", "--init", fp)...)
	for _, ref := range []string{"", fp} {
		args := []string{"analyze", "--run", q, "--calib-images", "40", "--json"}
		if ref != "" {
			args = append(args, "--ref", ref, "--no-accuracy", "--html", filepath.Join(dir, "ref.html"))
		}
		out, errs, code := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		js := lastJSON(t, out)
		layers, _ := js["layers"].([]any)
		if len(layers) < 4 || !strings.Contains(out, "conv1") {
			t.Fatalf("%v: %d layers in the JSON; output:\n%s", args, len(layers), out)
		}
		first := layers[0].(map[string]any)
		if _, ok := first["accuracy_drop"]; ok == (ref != "") {
			t.Errorf("%v: accuracy_drop present %v", args, ok)
		}
		b, err := os.ReadFile(js["html"].(string))
		if err != nil || !strings.Contains(string(b), "<svg") {
			t.Errorf("%v: HTML report: %v", args, err)
		}
	}
	if _, errs, code := runCLI(t, "analyze", "--run", q, "--ref", q); code == 0 || !strings.Contains(errs, "want an FP32 run") {
		t.Errorf("--ref of a quantized run: exit %d, %s", code, errs)
	}
}
