//go:build cgo

package onnx

import (
	"fmt"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// loaded records the library that LoadRuntime initialized. onnxruntime_go
// keeps one environment per process (a library can be loaded once), so
// this is process state by nature; the mutex makes LoadRuntime safe to
// call from any goroutine, and repeat calls cheap.
var loaded struct {
	sync.Mutex
	path string
	err  error
}

// LoadRuntime loads the ONNX Runtime shared library and initializes its
// environment, once per process. libPath is resolved by LibraryPath ("" for
// $QATGO_ONNXRUNTIME_LIB or the default install location). A second call
// returns the first call's result; asking for a different library after
// one is loaded is an error, since a process can hold only one.
func LoadRuntime(libPath string) error {
	loaded.Lock()
	defer loaded.Unlock()
	if loaded.path != "" {
		if libPath != "" && libPath != loaded.path {
			return fmt.Errorf("%w: %s requested, but %s is already loaded (one per process)", ErrRuntime, libPath, loaded.path)
		}
		return loaded.err
	}
	p, err := LibraryPath(libPath)
	if err != nil {
		return err
	}
	loaded.path = p
	if !ort.IsInitialized() {
		ort.SetSharedLibraryPath(p)
		if err := ort.InitializeEnvironment(); err != nil {
			loaded.err = fmt.Errorf("%w: loading %s: %v", ErrRuntime, p, err)
		}
	}
	return loaded.err
}

// RuntimeVersion is the loaded onnxruntime's version, or "" before a
// successful LoadRuntime.
func RuntimeVersion() string {
	loaded.Lock()
	defer loaded.Unlock()
	if loaded.path == "" || loaded.err != nil {
		return ""
	}
	return ort.GetVersion()
}

// Session runs one exported model (as written by Exporter) in onnxruntime.
// It is not safe for concurrent use.
type Session struct {
	s        *ort.DynamicAdvancedSession
	c, h, w  int64
	outSize  int // values per image of OutputName; 0 if not static
	hasCodes bool
}

// NewSession makes an onnxruntime session for the serialized model (from
// Exporter.Marshal or an .onnx file written by Exporter.WriteFile). It
// needs LoadRuntime first. The model must have the float32 input
// InputName [N, C, H, W] and the output OutputName; the output CodesName
// is used when present (Exporter.Codes).
func NewSession(model []byte, opts SessionOptions) (*Session, error) {
	if err := LoadRuntime(""); err != nil {
		return nil, err
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(model)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the model: %v", ErrRuntime, err)
	}
	s := &Session{}
	for _, in := range ins {
		if in.Name != InputName {
			return nil, fmt.Errorf("%w: model input %q, want only %q", ErrInvalidModel, in.Name, InputName)
		}
		d := in.Dimensions
		if len(d) != 4 || d[1] <= 0 || d[2] <= 0 || d[3] <= 0 || in.DataType != ort.TensorElementDataTypeFloat {
			return nil, fmt.Errorf("%w: model input %v, want float32 [N, C, H, W]", ErrInvalidModel, in.String())
		}
		s.c, s.h, s.w = d[1], d[2], d[3]
	}
	if s.c == 0 {
		return nil, fmt.Errorf("%w: model has no input %q", ErrInvalidModel, InputName)
	}
	names := []string{OutputName}
	hasLogits := false
	for _, o := range outs {
		switch o.Name {
		case OutputName:
			hasLogits = true
			s.outSize = 1
			for _, v := range o.Dimensions[1:] {
				if v <= 0 {
					s.outSize = 0
					break
				}
				s.outSize *= int(v)
			}
		case CodesName:
			s.hasCodes = true
			names = append(names, CodesName)
		}
	}
	if !hasLogits {
		return nil, fmt.Errorf("%w: model has no output %q", ErrInvalidModel, OutputName)
	}
	o, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRuntime, err)
	}
	defer o.Destroy()
	level := ort.GraphOptimizationLevel(ort.GraphOptimizationLevelDisableAll)
	if opts.Optimize {
		level = ort.GraphOptimizationLevelEnableAll
	}
	if err := o.SetGraphOptimizationLevel(level); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRuntime, err)
	}
	if opts.Threads > 0 {
		if err := o.SetIntraOpNumThreads(opts.Threads); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrRuntime, err)
		}
	}
	// The graph is a chain: parallel execution of independent nodes has
	// nothing to gain.
	if err := o.SetInterOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRuntime, err)
	}
	if s.s, err = ort.NewDynamicAdvancedSessionWithONNXData(model, []string{InputName}, names, o); err != nil {
		return nil, fmt.Errorf("%w: session: %v", ErrRuntime, err)
	}
	return s, nil
}

// HasCodes reports whether the model has the CodesName output.
func (s *Session) HasCodes() bool { return s.hasCodes }

// InputSize is the number of values per image (C·H·W).
func (s *Session) InputSize() int { return int(s.c * s.h * s.w) }

// OutputSize is the number of logits per image, or 0 if the model does
// not declare it statically.
func (s *Session) OutputSize() int { return s.outSize }

// Run runs n images x (n·C·H·W values, NCHW) and returns their logits and,
// if the model has the codes output, the last layer's true integer codes
// (signed codes negative where they are), both n × OutputSize in row
// order. codes is nil without the codes output.
func (s *Session) Run(x []float32, n int) (logits []float32, codes []int32, err error) {
	if n < 1 || len(x) != n*s.InputSize() {
		return nil, nil, fmt.Errorf("onnx: Session.Run: %d values for %d images of %d×%d×%d", len(x), n, s.c, s.h, s.w)
	}
	in, err := ort.NewTensor(ort.NewShape(int64(n), s.c, s.h, s.w), x)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: input tensor: %v", ErrRuntime, err)
	}
	defer in.Destroy()
	outs := make([]ort.Value, 1, 2)
	if s.hasCodes {
		outs = append(outs, nil)
	}
	if err := s.s.Run([]ort.Value{in}, outs); err != nil {
		return nil, nil, fmt.Errorf("%w: run: %v", ErrRuntime, err)
	}
	for _, o := range outs {
		if o != nil {
			defer o.Destroy()
		}
	}
	l, ok := outs[0].(*ort.Tensor[float32])
	if !ok {
		return nil, nil, fmt.Errorf("%w: output %q of type %T, want float32", ErrInvalidModel, OutputName, outs[0])
	}
	logits = append([]float32(nil), l.GetData()...)
	if s.hasCodes {
		switch c := outs[1].(type) {
		case *ort.Tensor[uint8]:
			codes = widen(c.GetData())
		case *ort.Tensor[int8]:
			codes = widen(c.GetData())
		default:
			return nil, nil, fmt.Errorf("%w: output %q of type %T, want uint8 or int8", ErrInvalidModel, CodesName, outs[1])
		}
	}
	return logits, codes, nil
}

func widen[T uint8 | int8](v []T) []int32 {
	out := make([]int32, len(v))
	for i, c := range v {
		out[i] = int32(c)
	}
	return out
}

// Close releases the session.
func (s *Session) Close() error {
	if s.s == nil {
		return nil
	}
	err := s.s.Destroy()
	s.s = nil
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRuntime, err)
	}
	return nil
}
