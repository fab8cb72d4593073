//go:build cgo

package onnx

import (
	"errors"
	"fmt"
	"testing"
)

func TestSessionErrors(t *testing.T) {
	needORT(t)
	if _, err := NewSession([]byte("not an onnx model"), SessionOptions{}); !errors.Is(err, ErrRuntime) {
		t.Errorf("NewSession(garbage): %v, want ErrRuntime", err)
	}
	m := tinyModel()
	b, err := Exporter{}.Marshal(m) // no codes output
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(b, SessionOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.HasCodes() || s.InputSize() != m.InputShape.Size() {
		t.Errorf("HasCodes %v InputSize %d, want false %d", s.HasCodes(), s.InputSize(), m.InputShape.Size())
	}
	x := make([]float32, 2*s.InputSize())
	if _, _, err := s.Run(x[1:], 2); err == nil {
		t.Error("Run with a short input: no error")
	}
	if _, _, err := s.Run(x, 0); err == nil {
		t.Error("Run with n = 0: no error")
	}
	logits, codes, err := s.Run(x, 2)
	if err != nil || codes != nil || len(logits) != 2*s.OutputSize() {
		t.Errorf("Run: %d logits, codes %v, err %v; want %d, nil, nil", len(logits), codes, err, 2*s.OutputSize())
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// Load onnxruntime, run an exported model on two images and print the
// integer codes of the last layer next to the logits. It prints
//
//	codes [6 2 6 2] logits [2.5 0.5 2.5 0.5]
//
// (this example is compiled but not run by go test, since it needs the
// onnxruntime library, which scripts/setup-onnxruntime.sh installs;
// TestExampleSession runs it when the library is there).
func ExampleSession() {
	if err := LoadRuntime(""); err != nil {
		fmt.Println(err)
		return
	}
	m := handWorkedModel()
	b, err := Exporter{Codes: true}.Marshal(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := NewSession(b, SessionOptions{Threads: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	logits, codes, err := s.Run([]float32{1.0, 0.3, 1.0, 0.3}, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("codes", codes, "logits", logits)
}

func TestExampleSession(t *testing.T) {
	needORT(t)
	m := handWorkedModel()
	b, err := Exporter{Codes: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	logits, codes := ortRun(t, b, []float32{1.0, 0.3, 1.0, 0.3}, 2, false)
	if got := fmt.Sprint("codes ", codes, " logits ", logits); got != "codes [6 2 6 2] logits [2.5 0.5 2.5 0.5]" {
		t.Errorf("got %q", got)
	}
}
