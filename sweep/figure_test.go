package sweep

import (
	"bytes"
	"errors"
	"image/png"
	"strings"
	"testing"
)

const figureCSV = `id,kind,group,method,bits,epochs,layers,test_accuracy
a,baseline,,fp32,32,0,,0.914100
b,control,,fp32,32,1,,0.907500
c,group,conv,linear-pc,2,1,conv1,0.898300
d,group,conv,linear-pc,4,1,conv1,0.911700
e,group,fc,linear-pc,2,1,fc1,0.905200
f,group,fc,linear-pc,4,1,fc1,
g,group,fc,fp16,16,1,fc1,0.914100
`

func TestLossFigureFromCSV(t *testing.T) {
	rows, err := ReadCSV(strings.NewReader(figureCSV))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 7 || rows[1].Kind != Control || rows[5].HasAcc || rows[2].Bits != 2 || rows[2].Accuracy != 0.8983 {
		t.Fatalf("rows %+v", rows)
	}
	img, err := LossFigurePNG(rows, 1, "test")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := png.DecodeConfig(bytes.NewReader(img)); err != nil || c.Width != 600 {
		t.Errorf("PNG %+v %v", c, err)
	}
	if _, err := LossFigurePNG(rows, 3, "x"); !errors.Is(err, ErrOption) {
		t.Errorf("no points at 3 epochs: %v", err)
	}
	if _, err := ReadCSV(strings.NewReader("a,b\n")); !errors.Is(err, ErrOption) {
		t.Errorf("not a results.csv: %v", err)
	}
}
