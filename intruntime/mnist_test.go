package intruntime

import (
	"errors"
	"hash/fnv"
	"math"
	"testing"

	"github.com/qatgo/qatgo/datasets"
)

// mnistLogitsHash is the FNV-64a hash of the float32 bits of the logits of
// TestMNISTLogitsSameEverywhere's model on the first 1,000 MNIST test
// images, as computed on amd64 (every kernel variant gives it). Every
// architecture and kernel must reproduce it bit for bit: scripts/test.sh
// runs this test with each forced CPU level and on arm64 under qemu-user.
const mnistLogitsHash = 0x31c173a7ab528196

// TestMNISTLogitsSameEverywhere runs a LeNet-5-shaped integer model (random
// 8-bit weights) on 1,000 real MNIST test images with whatever kernels this
// CPU selects and compares the logits' hash with amd64's.
func TestMNISTLogitsSameEverywhere(t *testing.T) {
	_, test, err := datasets.LoadMNIST("", datasets.WithNorm(datasets.Norm{Mean: 0, Std: 1}))
	if errors.Is(err, datasets.ErrNotFound) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	const n, batch = 1000, 250
	r, err := NewRunner(leNet5(t, 21, 8), batch, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	in, out := r.InputSize(), r.OutputSize()
	logits := make([]float32, n*out)
	for b := 0; b < n; b += batch {
		if err := r.Run(test.X[b*in:(b+batch)*in], batch, logits[b*out:(b+batch)*out]); err != nil {
			t.Fatal(err)
		}
	}
	h := fnv.New64a()
	var buf [4]byte
	distinct := map[float32]bool{}
	for _, v := range logits {
		u := math.Float32bits(v)
		buf = [4]byte{byte(u), byte(u >> 8), byte(u >> 16), byte(u >> 24)}
		h.Write(buf[:])
		distinct[v] = true
	}
	if len(distinct) < 20 {
		t.Fatalf("only %d distinct logits: the model saturates, the test would prove little", len(distinct))
	}
	if got := h.Sum64(); got != mnistLogitsHash {
		t.Errorf("logits hash %#x (kernels %v), want amd64's %#x", got, host.kern, uint64(mnistLogitsHash))
	}
}
