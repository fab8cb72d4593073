package onnx

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestLibraryPathMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "libonnxruntime.so")
	for _, test := range []struct {
		arg, env string
	}{
		{missing, ""},
		{"", missing},
	} {
		t.Setenv(EnvRuntimeLib, test.env)
		_, err := LibraryPath(test.arg)
		if !errors.Is(err, ErrNoRuntime) || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), RuntimeSetup) {
			t.Errorf("LibraryPath(%q) with $%s=%q: %v; want ErrNoRuntime naming the file and %q", test.arg, EnvRuntimeLib, test.env, err, RuntimeSetup)
		}
	}
}

func TestRuntimeRequired(t *testing.T) {
	for _, test := range []struct {
		env  string
		want bool
	}{{"", false}, {"0", false}, {"1", true}, {"yes", true}} {
		t.Setenv(EnvRequireRuntime, test.env)
		if got := RuntimeRequired(); got != test.want {
			t.Errorf("$%s=%q: %v, want %v", EnvRequireRuntime, test.env, got, test.want)
		}
	}
}
