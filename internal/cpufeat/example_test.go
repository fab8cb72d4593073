package cpufeat_test

import (
	"fmt"

	"github.com/qatgo/qatgo/internal/cpufeat"
)

// A kernel family picks its implementation from a Features value; a test
// runs every variant the CPU can execute.
func ExampleFeatures_Variants() {
	zen5 := cpufeat.Features{AVX2: true, AVXVNNI: true, AVX512: true, VNNI: true, VBMI: true}
	for _, v := range zen5.Variants() {
		fmt.Println(v.Name, v.Features)
	}
	fmt.Println(zen5.Mask("avxvnni")) // QATGO_CPU=avxvnni
	fmt.Println(zen5.Mask("avx2"))    // QATGO_CPU=avx2
	// Output:
	// host avx512vnni
	// avx512 avx512
	// avxvnni avxvnni
	// avx2 avx2
	// generic generic
	// avxvnni
	// avx2
}
