package nn_test

import (
	"math/rand"
	"runtime"
	"testing"

	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
)

func heapAfterGC() int64 {
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// Closed Nets are collected with their tensors: gorgonia's finalizer on the
// TapeMachine used to keep every closed graph alive (Go never collects a
// cycle that holds a finalizer), so a sweep leaked a whole model per point.
func TestClosedNetsAreCollected(t *testing.T) {
	q, err := qconfig.Parse("w8a8")
	if err != nil {
		t.Fatal(err)
	}
	const batch = 16
	x, labels := make([]float32, batch*784), make([]int, batch)
	base := heapAfterGC()
	var live int64
	for i := range 3 {
		m, err := zoo.New("resnet20", q, rand.New(rand.NewSource(1)))
		if err != nil {
			t.Fatal(err)
		}
		net, err := nn.Compile(m, nn.CompileConfig{Batch: batch, InputShape: [3]int{1, 28, 28}, Classes: 10})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := net.Step(x, labels); err != nil {
			t.Fatal(err)
		}
		if err := net.Predict(x, batch, make([]float32, batch*10)); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			live = heapAfterGC() - base
		}
		if err := net.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if grown := heapAfterGC() - base; grown > live/2 {
		t.Errorf("heap grew %d MB over three closed Nets of %d MB each", grown>>20, live>>20)
	}
	t.Logf("one live Net: %d MB", live>>20)
}
