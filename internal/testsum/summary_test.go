package main

import (
	"bytes"
	"strings"
	"testing"
)

// A hand-written `go test -json` stream: one pass, one skip with its
// reason, one failure with its output, and a package without tests.
const stream = `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"pass","Package":"p","Test":"TestA","Elapsed":0.1}
{"Action":"run","Package":"p","Test":"TestORT"}
{"Action":"output","Package":"p","Test":"TestORT","Output":"=== RUN   TestORT\n"}
{"Action":"output","Package":"p","Test":"TestORT","Output":"    ort_test.go:20: onnx: onnxruntime unavailable\n"}
{"Action":"output","Package":"p","Test":"TestORT","Output":"--- SKIP: TestORT (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestORT","Elapsed":0}
{"Action":"run","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: got 2, want 3\n"}
{"Action":"fail","Package":"p","Test":"TestB","Elapsed":0}
{"Action":"fail","Package":"p","Elapsed":0.5}
{"Action":"skip","Package":"q","Elapsed":0}
{"ImportPath":"r","Action":"build-output","Output":"r/x.go:3:1: syntax error\n"}
{"ImportPath":"r","Action":"build-fail"}
{"Action":"fail","Package":"r","Elapsed":0}
`

func TestSummarize(t *testing.T) {
	var w bytes.Buffer
	c, err := summarize(strings.NewReader(stream), &w)
	if err != nil {
		t.Fatal(err)
	}
	if c != (counts{passed: 1, failed: 2, skipped: 1}) {
		t.Errorf("counts %+v", c)
	}
	for _, want := range []string{
		"b_test.go:9: got 2, want 3",
		"FAIL\tp\t0.500s",
		"?   \tq\t[no test files]",
		"p TestORT: ort_test.go:20: onnx: onnxruntime unavailable",
		"r/x.go:3:1: syntax error",
		"tests: 1 passed, 2 failed, 1 skipped",
	} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, w.String())
		}
	}
}
