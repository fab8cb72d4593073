package prune_test

import (
	"fmt"

	"github.com/qatgo/qatgo/prune"
)

func ExamplePrune() {
	w := []float32{0.5, -0.1, 3, 0.2, -0.7, 0.05}
	m, _ := prune.Prune(w, 0.5)
	fmt.Println(w, m.Kept())
	sched := prune.Cubic{Final: 0.9, End: 1000}
	fmt.Printf("%.4f %.4f %.4f\n", sched.At(0), sched.At(500), sched.At(1000))
	// Output:
	// [0.5 0 3 0 -0.7 0] 3
	// 0.0000 0.7875 0.9000
}
