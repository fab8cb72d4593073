package fixedpoint_test

import (
	"fmt"

	"github.com/qatgo/qatgo/fixedpoint"
)

// A layer with S_W = 0.02, S_X = 0.05 and S_Y = 0.1 (M ≈ 0.01 from the float32 scales; M0 = 0.64·2^31 would be 1374389535), output zero
// point 3 and a fused ReLU, requantizes the accumulator 1234 (bias included):
// 1234·0.01 = 12.34 → 12, + 3.
func Example() {
	m0, shift := fixedpoint.RequantMultiplier(0.02, 0.05, 0.1)
	fmt.Println(m0, shift)
	fmt.Println(fixedpoint.QuantizeBias(0.5, 0.02, 0.05)) // 0.5/0.001 = 500
	fmt.Println(fixedpoint.Requantize(1234, m0, shift, 3, 3, 255))
	fmt.Println(fixedpoint.Requantize(-1234, m0, shift, 3, 3, 255)) // ReLU clamps at Z_Y
	// Output:
	// 1374389504 -6
	// 500
	// 15
	// 3
}
