package cgen

import (
	"os"
	"testing"
)

func TestDump(t *testing.T) {
	dir := os.Getenv("CGEN_DUMP")
	if dir == "" {
		t.Skip()
	}
	res, err := WriteDir(dir, leNet5(t, 1, 4), Options{FloatIO: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res.Report)
}
