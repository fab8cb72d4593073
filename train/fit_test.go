package train

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// softmaxModel is a plain-Go multinomial logistic regression: a Model with
// no gorgonia, to test the loop on its own.
type softmaxModel struct {
	batch, in, k int
	w, g         []float32 // (k, in+1), bias last
	observing    bool
	frozenBN     bool
}

func newSoftmax(batch, in, k int) *softmaxModel {
	return &softmaxModel{batch: batch, in: in, k: k, w: make([]float32, k*(in+1)), g: make([]float32, k*(in+1))}
}

func (m *softmaxModel) Batch() int { return m.batch }

func (m *softmaxModel) logits(x []float32, out []float32) {
	for c := 0; c < m.k; c++ {
		row := m.w[c*(m.in+1) : (c+1)*(m.in+1)]
		s := row[m.in]
		for j, v := range x {
			s += row[j] * v
		}
		out[c] = s
	}
}

func (m *softmaxModel) Step(x []float32, labels []int) (float32, int, error) {
	clear(m.g)
	p := make([]float32, m.k)
	var loss float64
	correct := 0
	for i := 0; i < m.batch; i++ {
		xi := x[i*m.in : (i+1)*m.in]
		m.logits(xi, p)
		if Argmax(p) == labels[i] {
			correct++
		}
		mx := p[Argmax(p)]
		var z float64
		for c := range p {
			z += math.Exp(float64(p[c] - mx))
		}
		for c := range p {
			pc := math.Exp(float64(p[c]-mx)) / z
			d := pc
			if c == labels[i] {
				d--
				loss -= math.Log(pc)
			}
			row := m.g[c*(m.in+1) : (c+1)*(m.in+1)]
			for j, v := range xi {
				row[j] += float32(d) * v / float32(m.batch)
			}
			row[m.in] += float32(d) / float32(m.batch)
		}
	}
	return float32(loss / float64(m.batch)), correct, nil
}

func (m *softmaxModel) Predict(x []float32, n int, logits []float32) error {
	for i := 0; i < n; i++ {
		m.logits(x[i*m.in:(i+1)*m.in], logits[i*m.k:(i+1)*m.k])
	}
	return nil
}
func (m *softmaxModel) Calibrate(x []float32, n int) error { return nil }
func (m *softmaxModel) Trainable() []Tensor {
	return []Tensor{{Name: "w", Value: m.w, Grad: m.g, Decay: true}}
}
func (m *softmaxModel) SetObserving(on bool) { m.observing = on }
func (m *softmaxModel) FreezeBN(f bool)      { m.frozenBN = f }
func (m *softmaxModel) MarshalState() ([]byte, error) {
	var b []byte
	for _, v := range m.w {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b, nil
}
func (m *softmaxModel) UnmarshalState(b []byte) error {
	if len(b) != 4*len(m.w) {
		return errors.New("size mismatch")
	}
	for i := range m.w {
		m.w[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return nil
}

// blobs: k Gaussian clusters in `in` dimensions.
type blobs struct {
	x     []float32
	y     []int
	in, k int
}

func newBlobs(n, in, k int, seed uint64) *blobs {
	r := rand.New(rand.NewPCG(seed, 1))
	centers := make([]float32, k*in)
	for i := range centers {
		centers[i] = float32(r.NormFloat64() * 2)
	}
	b := &blobs{x: make([]float32, n*in), y: make([]int, n), in: in, k: k}
	for i := 0; i < n; i++ {
		c := r.IntN(k)
		b.y[i] = c
		for j := 0; j < in; j++ {
			b.x[i*in+j] = centers[c*in+j] + float32(r.NormFloat64())*0.7
		}
	}
	return b
}

func (b *blobs) Len() int        { return len(b.y) }
func (b *blobs) SampleSize() int { return b.in }
func (b *blobs) NumClasses() int { return b.k }
func (b *blobs) Fill(x []float32, labels []int, idx []int) {
	for i, j := range idx {
		copy(x[i*b.in:(i+1)*b.in], b.x[j*b.in:(j+1)*b.in])
		labels[i] = b.y[j]
	}
}

func TestFitLearnsAndEvaluates(t *testing.T) {
	tr, te := newBlobs(2000, 8, 4, 1), newBlobs(500, 8, 4, 1)
	te.x, te.y = tr.x[:500*8], tr.y[:500] // same distribution
	m := newSoftmax(32, 8, 4)
	var log strings.Builder
	res, err := Fit(context.Background(), m, tr, te, Config{Epochs: 3, LR: 0.1, Progress: &log})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.History) != 3 || res.TestAcc < 0.9 {
		t.Fatalf("history %d epochs, test acc %.3f (want ≥ 0.9)", len(res.History), res.TestAcc)
	}
	if res.History[2].TrainLoss >= res.History[0].TrainLoss {
		t.Errorf("loss did not fall: %+v", res.History)
	}
	if !strings.Contains(log.String(), "epoch 3/3") {
		t.Errorf("no progress output: %q", log.String())
	}
}

// Resuming after an interrupted run gives bit-identical weights to a run
// that was never interrupted.
func TestResumeMatchesUninterrupted(t *testing.T) {
	tr := newBlobs(640, 8, 4, 2)
	cfg := func(dir string, epochs int) Config {
		sch, _ := ParseSchedule("cosine", 4)
		return Config{Epochs: epochs, LR: 0.05, Seed: 7, Dir: dir, Resume: true, Schedule: sch,
			Optimizer: &SGD{Momentum: 0.9, WeightDecay: 1e-3}}
	}
	full := newSoftmax(32, 8, 4)
	if _, err := Fit(context.Background(), full, tr, nil, cfg(t.TempDir(), 4)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	part := newSoftmax(32, 8, 4)
	if _, err := Fit(context.Background(), part, tr, nil, cfg(dir, 2)); err != nil { // "killed" after 2 epochs
		t.Fatal(err)
	}
	resumed := newSoftmax(32, 8, 4) // a fresh process
	res, err := Fit(context.Background(), resumed, tr, nil, cfg(dir, 4))
	if err != nil {
		t.Fatal(err)
	}
	if res.ResumedFrom != 2 || len(res.History) != 4 {
		t.Fatalf("resumed from %d with %d epochs of history", res.ResumedFrom, len(res.History))
	}
	for i := range full.w {
		if full.w[i] != resumed.w[i] {
			t.Fatalf("weight %d: uninterrupted %v, resumed %v", i, full.w[i], resumed.w[i])
		}
	}
}

func TestCancelKeepsCheckpoint(t *testing.T) {
	tr := newBlobs(640, 8, 4, 3)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancelAt := CallbackFunc(func(e int, m Model) error {
		if e == 1 {
			cancel()
		}
		return nil
	})
	_, err := Fit(ctx, newSoftmax(32, 8, 4), tr, nil, Config{Epochs: 3, Dir: dir, Callbacks: []Callback{cancelAt}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	ck, err := ReadCheckpoint(filepath.Join(dir, CheckpointName))
	if err != nil || ck.Epoch != 1 {
		t.Fatalf("checkpoint after cancel: %v %+v", err, ck)
	}
}

func TestCheckpointCorruption(t *testing.T) {
	c := &Checkpoint{Epoch: 1, History: []EpochStats{{Epoch: 1, TestAcc: -1}}, Model: []byte{1, 2, 3}, Optimizer: []byte{4}}
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecodeCheckpoint(b, "x"); err != nil || got.Epoch != 1 || string(got.Model) != "\x01\x02\x03" {
		t.Fatalf("round trip: %v %+v", err, got)
	}
	flip := append([]byte(nil), b...)
	flip[len(flip)-1] ^= 1
	wrongVer := append([]byte(nil), b...)
	wrongVer[8] = 9
	for name, bad := range map[string][]byte{
		"empty": nil, "magic": append([]byte("NOTQATGO"), b[8:]...), "truncated": b[:len(b)-2],
		"bitflip": flip, "version": wrongVer,
	} {
		_, err := DecodeCheckpoint(bad, "run/checkpoint.qat")
		var ce *CheckpointError
		if !errors.As(err, &ce) || ce.File != "run/checkpoint.qat" {
			t.Errorf("%s: got %v, want a CheckpointError naming the file", name, err)
		}
	}
	// A corrupt checkpoint on disk stops a resume with that error.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, CheckpointName), flip, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Fit(context.Background(), newSoftmax(32, 8, 4), newBlobs(64, 8, 4, 1), nil, Config{Epochs: 1, Dir: dir, Resume: true})
	if !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("resume from corrupt checkpoint: %v", err)
	}
}

func TestFreezeCallbacks(t *testing.T) {
	m := newSoftmax(1, 1, 2)
	FreezeObserversAt(2).OnEpochStart(1, m)
	FreezeBNAt(2).OnEpochStart(1, m)
	if !m.observing || m.frozenBN {
		t.Fatal("epoch 1: should observe, BN live")
	}
	FreezeObserversAt(2).OnEpochStart(2, m)
	FreezeBNAt(2).OnEpochStart(3, m)
	if m.observing || !m.frozenBN {
		t.Fatal("after freeze epoch: observers should be off, BN frozen")
	}
}

func TestPermutationDeterministic(t *testing.T) {
	a, b, c := make([]int, 50), make([]int, 50), make([]int, 50)
	Permutation(a, 1, 3)
	Permutation(b, 1, 3)
	Permutation(c, 1, 4)
	same := true
	seen := make([]bool, 50)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("same (seed, epoch) gave different orders")
		}
		same = same && a[i] == c[i]
		seen[a[i]] = true
	}
	if same {
		t.Fatal("different epochs gave the same order")
	}
	for i, s := range seen {
		if !s {
			t.Fatalf("%d missing from permutation", i)
		}
	}
}

func TestCrossEntropy(t *testing.T) {
	for _, test := range []struct {
		z     []float32
		label int
		want  float64
	}{
		{[]float32{0, 0}, 0, math.Ln2},
		{[]float32{0, 0, 0, 0}, 3, math.Log(4)},
		{[]float32{1000, 0}, 0, 0},    // no overflow
		{[]float32{0, 1000}, 0, 1000}, // −log e^−1000
		{[]float32{1, 2, 3}, 2, math.Log(math.Exp(1)+math.Exp(2)+math.Exp(3)) - 3},
	} {
		if got := crossEntropy(test.z, test.label); math.Abs(got-test.want) > 1e-12 {
			t.Errorf("crossEntropy(%v, %d) = %v, want %v", test.z, test.label, got, test.want)
		}
	}
}

// With all weights zero every logit is 0: the loss is log k and argmax
// picks class 0, so the accuracy is the share of class-0 labels.
func TestEvaluateLoss(t *testing.T) {
	set := newBlobs(300, 8, 4, 3)
	zeros := 0
	for _, y := range set.y {
		if y == 0 {
			zeros++
		}
	}
	acc, loss, err := EvaluateLoss(newSoftmax(32, 8, 4), set)
	if err != nil || math.Abs(loss-math.Log(4)) > 1e-12 || acc != float64(zeros)/300 {
		t.Errorf("EvaluateLoss = %v, %v, %v; want %v, log 4", acc, loss, err, float64(zeros)/300)
	}
	if _, _, err := EvaluateLoss(nil, set); err == nil {
		t.Error("EvaluateLoss(nil model): no error")
	}
}
