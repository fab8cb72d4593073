package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/qatgo/qatgo/internal/cpufeat"
)

// ErrInexactRuntime is RuntimeExact's error: onnxruntime's integer
// kernels on this CPU can give other results than exact integer
// arithmetic.
var ErrInexactRuntime = errors.New("onnx: onnxruntime's u8×s8 kernels on x86 CPUs without VNNI (AVX-512 VNNI or AVX-VNNI) add pairs of products in saturating int16 (VPMADDUBSW): its int8 results can differ from exact integer arithmetic on this CPU")

// RuntimeExact returns nil where onnxruntime's int8 convolutions and
// matrix products are exact (x86 CPUs with VNNI, other architectures),
// else ErrInexactRuntime: there an export cannot be checked against it
// bit for bit (measured on a Zen 3 core: 21 of 1,000 LeNet-5 predictions
// differ from the integer runtime's and from exact sums).
func RuntimeExact() error {
	if runtime.GOARCH != "amd64" {
		return nil
	}
	if f := cpufeat.Detect(""); f.VNNI || f.AVXVNNI {
		return nil
	}
	return ErrInexactRuntime
}

// EnvRuntimeLib names the environment variable that gives the path of the
// ONNX Runtime shared library (libonnxruntime.so) when LoadRuntime is not
// given one.
const EnvRuntimeLib = "QATGO_ONNXRUNTIME_LIB"

// EnvRequireRuntime names the environment variable that, when set to
// anything but "" or "0" (CI sets it), makes a missing onnxruntime fail the
// tests that need it instead of skipping them, so that "checked against
// onnxruntime" cannot pass unchecked.
const EnvRequireRuntime = "QATGO_REQUIRE_ONNXRUNTIME"

// RuntimeRequired reports whether $QATGO_REQUIRE_ONNXRUNTIME asks for a
// missing onnxruntime to be an error.
func RuntimeRequired() bool {
	v := os.Getenv(EnvRequireRuntime)
	return v != "" && v != "0"
}

// RuntimeSetup is the command that installs the ONNX Runtime library where
// LoadRuntime finds it by default.
const RuntimeSetup = "bash scripts/setup-onnxruntime.sh"

// defaultLibGlob is where scripts/setup-onnxruntime.sh puts the library,
// relative to the repository root.
const defaultLibGlob = ".cache/onnxruntime/node_modules/onnxruntime-node/bin/napi-v*/linux/x64/libonnxruntime.so*"

var (
	// ErrNoRuntime is wrapped by errors saying that onnxruntime cannot be
	// used: the shared library is missing, or the program was built
	// without cgo.
	ErrNoRuntime = errors.New("onnx: onnxruntime unavailable")
	// ErrRuntime is wrapped by errors that onnxruntime reported while
	// loading the library, creating a session or running it.
	ErrRuntime = errors.New("onnx: onnxruntime")
)

// SessionOptions configures NewSession.
type SessionOptions struct {
	// Optimize turns on onnxruntime's full graph optimization (a
	// session's default). Off, the graph runs as written, which is what
	// the bit-exactness checks want to see first; both give the same
	// codes for the Integer format.
	Optimize bool
	// Threads is onnxruntime's intra-op thread count; 0 lets onnxruntime
	// choose (one per core).
	Threads int
}

// LibraryPath resolves the ONNX Runtime shared library: path if it is not
// empty, else $QATGO_ONNXRUNTIME_LIB, else the first match of
// scripts/setup-onnxruntime.sh's install location under the working
// directory or one of its parents (so that it is found from the
// repository root and from a package directory alike). The file must
// exist; otherwise the error wraps ErrNoRuntime and names the setup
// command.
func LibraryPath(path string) (string, error) {
	from := "the argument"
	if path == "" {
		path, from = os.Getenv(EnvRuntimeLib), "$"+EnvRuntimeLib
	}
	if path == "" {
		path = findDefaultLib()
		if path == "" {
			return "", fmt.Errorf("%w: library not found in %s or under .cache/onnxruntime of the working directory or its parents; install it with `%s` from the repository root, or set %s=/path/to/libonnxruntime.so",
				ErrNoRuntime, EnvRuntimeLib, RuntimeSetup, EnvRuntimeLib)
		}
		return path, nil
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%w: library %s (from %s): %v; install it with `%s`", ErrNoRuntime, path, from, err, RuntimeSetup)
	}
	return path, nil
}

func findDefaultLib() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if m, _ := filepath.Glob(filepath.Join(dir, defaultLibGlob)); len(m) > 0 {
			return m[0]
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
