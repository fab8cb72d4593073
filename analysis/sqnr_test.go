package analysis

import (
	"errors"
	"math"
	"testing"
)

func TestSQNRHandWorked(t *testing.T) {
	for i, test := range []struct {
		ref, q []float32
		want   float64
	}{
		// Σref² = 1+4+9+16 = 30; errors 0.5,0,0,-0.5: Σ = 0.5; 10·log10(60) = 17.7815 dB.
		{[]float32{1, 2, 3, 4}, []float32{0.5, 2, 3, 4.5}, 10 * math.Log10(60)},
		// A tiny layer's weights on a 1-bit-step grid: [0.4, -1.2, 2.6] → [0, -1, 3]:
		// Σref² = 0.16+1.44+6.76 = 8.36; Σerr² = 0.16+0.04+0.16 = 0.36; 10·log10(23.2222) = 13.659 dB.
		{[]float32{0.4, -1.2, 2.6}, []float32{0, -1, 3}, 13.659},
		{[]float32{1, -1}, []float32{1, -1}, MaxSQNR},
		{[]float32{0, 0}, []float32{0, 1}, -MaxSQNR},
		// Error energy equal to the signal's: 0 dB.
		{[]float32{2}, []float32{0}, 0},
	} {
		got, err := SQNR(test.ref, test.q)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if math.Abs(got-test.want) > 1e-3 {
			t.Errorf("%d: SQNR = %.4f dB, want %.4f", i, got, test.want)
		}
	}
	if _, err := SQNR([]float32{1}, []float32{1, 2}); !errors.Is(err, ErrInput) {
		t.Errorf("length mismatch: err %v, want ErrInput", err)
	}
}
