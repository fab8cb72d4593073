package train

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"
)

// poisoned is a softmaxModel whose step number `at` (1-based, counted over
// the whole run) returns a non-finite gradient entry or loss.
type poisoned struct {
	*softmaxModel
	at, steps int
	what      string // "grad" or "loss"
}

func (p *poisoned) Step(x []float32, labels []int) (float32, int, error) {
	loss, c, err := p.softmaxModel.Step(x, labels)
	p.steps++
	if p.steps == p.at {
		if p.what == "grad" {
			p.g[3], p.g[7] = float32(math.NaN()), float32(math.Inf(1))
		} else {
			loss = float32(math.NaN())
		}
	}
	return loss, c, err
}

// TestFitNonFiniteGuard: the run stops at the poisoned step with an error
// naming the tensor and quantity, the parameters are not updated with the
// bad values, and the checkpoint of the last finished epoch is kept.
func TestFitNonFiniteGuard(t *testing.T) {
	for _, test := range []struct {
		what, quantity string
		count, of      int
		want           string
	}{
		{"grad", "w gradient", 2, 36,
			"train: epoch 2, step 3: w gradient is not finite (2 of 36 values NaN or ±Inf; loss "},
		{"loss", "loss", 1, 1,
			"train: epoch 2, step 3: loss is not finite (1 of 1 values NaN or ±Inf; loss NaN)"},
	} {
		dir := t.TempDir()
		tr := newBlobs(320, 8, 4, 1)
		m := &poisoned{softmaxModel: newSoftmax(32, 8, 4), at: 10 + 3, what: test.what} // 10 steps per epoch
		_, err := Fit(context.Background(), m, tr, nil, Config{Epochs: 3, LR: 0.1, Dir: dir})
		var ne *NonFiniteError
		if !errors.As(err, &ne) || !errors.Is(err, ErrDiverged) {
			t.Fatalf("%s: err = %v, want a *NonFiniteError wrapping ErrDiverged", test.what, err)
		}
		if ne.Epoch != 2 || ne.Step != 3 || ne.Quantity != test.quantity || ne.Count != test.count || ne.Of != test.of {
			t.Errorf("%s: %+v", test.what, ne)
		}
		msg := err.Error()
		if len(msg) < len(test.want) || msg[:len(test.want)] != test.want {
			t.Errorf("%s: message\n%q\nwant prefix\n%q", test.what, msg, test.want)
		}
		ckp := filepath.Join(dir, CheckpointName)
		if ne.Checkpoint != ckp+" (epoch 1)" {
			t.Errorf("%s: checkpoint %q", test.what, ne.Checkpoint)
		}
		ck, err := ReadCheckpoint(ckp)
		if err != nil || ck.Epoch != 1 {
			t.Fatalf("%s: kept checkpoint: epoch %v, %v", test.what, ck, err)
		}
		if n := nonFinite(m.w); n != 0 {
			t.Errorf("%s: %d parameters became non-finite", test.what, n)
		}
	}
}

// TestNonFiniteCount: NaN, +Inf and -Inf are counted, finite extremes not.
func TestNonFiniteCount(t *testing.T) {
	v := []float32{0, float32(math.NaN()), math.MaxFloat32, float32(math.Inf(1)), -math.MaxFloat32, float32(math.Inf(-1)), 1e-45}
	if n := nonFinite(v); n != 3 {
		t.Errorf("nonFinite = %d, want 3", n)
	}
}
