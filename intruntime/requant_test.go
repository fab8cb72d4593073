package intruntime

import (
	"math"
	"math/rand/v2"
	"testing"
)

// requantRow (each variant the CPU runs) must equal MultiplyByQuantizedMultiplier
// + Z_Y + clamp element by element, including extreme accumulators and
// biases (saturation to int32 before the multiply) and every tail length.
func TestRequantRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for trial := range 300 {
		n := rng.IntN(70)
		row := make([]int32, n)
		for i := range row {
			switch rng.IntN(6) {
			case 0:
				row[i] = int32(rng.Uint32()) // anywhere
			case 1:
				row[i] = []int32{math.MinInt32, math.MaxInt32, 0, -1, 1}[rng.IntN(5)]
			default:
				row[i] = int32(rng.IntN(200001) - 100000)
			}
		}
		bias := int64(int32(rng.Uint32()) >> rng.IntN(32))
		m0, shift := int32(1<<30+rng.IntN(1<<30)), -rng.IntN(32)
		if trial%7 == 0 {
			m0 = 1 << 30 // exact ties are frequent with M0 = 2^30
		}
		zy := int32(rng.IntN(256))
		lo := int32(rng.IntN(128))
		hi := lo + int32(rng.IntN(int(256-lo)))
		for _, vi := range variantImpls() {
			out := make([]uint8, n+1)
			out[n] = 0xEE
			vi.requantRow(out[:n], row, bias, m0, uint(-shift), zy, lo, hi)
			for i, a := range row {
				v := int32(max(min(int64(a)+bias, math.MaxInt32), math.MinInt32))
				want := min(max(MultiplyByQuantizedMultiplier(v, m0, shift)+zy, lo), hi)
				if int32(out[i]) != want {
					t.Fatalf("trial %d (%s): acc %d bias %d m0 %d shift %d: got %d, want %d", trial, vi.name, a, bias, m0, shift, out[i], want)
				}
			}
			if out[n] != 0xEE {
				t.Fatalf("trial %d (%s): wrote past the row", trial, vi.name)
			}
		}
	}
}
