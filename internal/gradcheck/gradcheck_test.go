package gradcheck

import (
	"errors"
	"fmt"
	"testing"
)

func TestCheck(t *testing.T) {
	// L = x0²·x1 + 3·x1: dL/dx0 = 2·x0·x1, dL/dx1 = x0² + 3.
	x := []float64{1.5, -2}
	loss := func() (float64, error) { return x[0]*x[0]*x[1] + 3*x[1], nil }
	good := []float64{2 * 1.5 * -2, 1.5*1.5 + 3}
	r, err := Check(loss, []Var{{"x", x, good}}, Options{})
	if err != nil {
		t.Fatalf("correct gradient rejected: %v", err)
	}
	if r.Checked != 2 || x[0] != 1.5 || x[1] != -2 {
		t.Errorf("checked %d, x restored to %v", r.Checked, x)
	}
	bad := []float64{-6, 5.3}
	if _, err := Check(loss, []Var{{"x", x, bad}}, Options{}); !errors.Is(err, ErrMismatch) {
		t.Errorf("wrong gradient: got %v, want ErrMismatch", err)
	}
	if _, err := Check(loss, []Var{{"x", x, good[:1]}}, Options{}); err == nil {
		t.Error("length mismatch accepted")
	}
}

func ExampleCheck() {
	// L = Σ xᵢ³: dL/dxᵢ = 3xᵢ².
	x := []float64{1, -0.5, 2}
	g := []float64{3, 0.75, 12}
	loss := func() (float64, error) {
		var s float64
		for _, v := range x {
			s += v * v * v
		}
		return s, nil
	}
	r, err := Check(loss, []Var{{Name: "x", X: x, Grad: g}}, Options{})
	fmt.Println(err, r.Checked, r.MaxErr < 1e-7)
	// Output: <nil> 3 true
}
