package sweep

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeEval returns an accuracy computed from the point alone (its seed and
// settings), as a real evaluator must, and counts its calls.
type fakeEval struct {
	calls  atomic.Int64
	before func(n int64) // called with the call number, before computing
}

func (f *fakeEval) Evaluate(ctx context.Context, p Point) (PointResult, error) {
	n := f.calls.Add(1)
	if f.before != nil {
		f.before(n)
	}
	if err := ctx.Err(); err != nil {
		return PointResult{}, err
	}
	acc := 0.99
	if p.Method != FP32 {
		acc = 0.5 + float64(p.Bits)/40 + float64(p.Seed%1000)/1e6
	}
	return PointResult{Accuracy: acc}, nil
}

func testPlan(t *testing.T) *Plan {
	t.Helper()
	p, err := NewPlan(lenet5Layers, Options{Groups: []string{"conv", "fc"}, Methods: []Method{LinearPC, KMeans, FP16},
		Bits: []int{2, 4, 8}, Epochs: []int{0, 1}, Sensitivity: true, Fingerprint: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func markdown(t *testing.T, p *Plan, res map[string]PointResult) string {
	t.Helper()
	var b bytes.Buffer
	if err := (Report{Plan: p, Results: res}).WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRunnerResume(t *testing.T) {
	p := testPlan(t)
	n := len(Unique(p.Points))

	// An uninterrupted run, then a rerun that must do nothing.
	ref := t.TempDir()
	ev := &fakeEval{}
	res, st, err := (&Runner{Dir: ref, Workers: 3}).Run(context.Background(), p.Points, ev)
	if err != nil || st.Computed != n || st.Reused != 0 || int(ev.calls.Load()) != n || len(res) != n {
		t.Fatalf("first run: %+v, %d calls, %d results, %v; want %d computed", st, ev.calls.Load(), len(res), err, n)
	}
	want := markdown(t, p, res)
	ev2 := &fakeEval{}
	res2, st, err := (&Runner{Dir: ref, Workers: 3}).Run(context.Background(), p.Points, ev2)
	if err != nil || ev2.calls.Load() != 0 || st.Reused != n || st.Computed != 0 {
		t.Fatalf("rerun: %+v, %d calls, %v; want no work", st, ev2.calls.Load(), err)
	}
	if got := markdown(t, p, res2); got != want {
		t.Errorf("rerun tables differ:\n%s\nwant\n%s", got, want)
	}

	// A run cancelled after 5 evaluations, then a rerun with another worker
	// count: only the missing points are computed and the tables match.
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	ev3 := &fakeEval{before: func(c int64) {
		if c == 6 {
			cancel()
		}
	}}
	_, st, err = (&Runner{Dir: dir, Workers: 2}).Run(ctx, p.Points, ev3)
	if !errors.Is(err, context.Canceled) || st.Failed != 0 {
		t.Fatalf("cancelled run: %+v, %v; want context.Canceled and no failures", st, err)
	}
	saved, _ := os.ReadDir(PointPath(dir, "x")[:len(PointPath(dir, "x"))-len("/x.json")])
	if len(saved) != st.Computed || st.Computed < 4 || st.Computed > 5 {
		t.Fatalf("cancelled run saved %d files, computed %d; want 4 or 5", len(saved), st.Computed)
	}
	ev4 := &fakeEval{}
	res4, st4, err := (&Runner{Dir: dir, Workers: 1}).Run(context.Background(), p.Points, ev4)
	if err != nil || int(ev4.calls.Load()) != n-st.Computed || st4.Reused != st.Computed {
		t.Fatalf("resumed run: %+v, %d calls, %v; want %d calls", st4, ev4.calls.Load(), err, n-st.Computed)
	}
	if got := markdown(t, p, res4); got != want {
		t.Errorf("resumed tables differ:\n%s\nwant\n%s", got, want)
	}
}

func TestRunnerCorruptAndFailed(t *testing.T) {
	p, err := NewPlan(lenet5Layers, Options{Groups: []string{"fc"}, Methods: []Method{LinearPT}, Bits: []int{2, 4}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, _, err := (&Runner{Dir: dir}).Run(context.Background(), p.Points, &fakeEval{}); err != nil {
		t.Fatal(err)
	}
	// A truncated file, a file of another point and an impossible accuracy
	// are recomputed with a warning.
	os.WriteFile(PointPath(dir, p.Points[0].ID), []byte(`{"version":1,"point":{"id":"`), 0o644)
	b, _ := os.ReadFile(PointPath(dir, p.Points[2].ID))
	os.WriteFile(PointPath(dir, p.Points[1].ID), b, 0o644)
	os.WriteFile(PointPath(dir, p.Points[2].ID), bytes.Replace(b, []byte(`"test_accuracy": 0.`), []byte(`"test_accuracy": 7.`), 1), 0o644)
	var log bytes.Buffer
	ev := &fakeEval{}
	res, st, err := (&Runner{Dir: dir, Progress: &log}).Run(context.Background(), p.Points, ev)
	if err != nil || ev.calls.Load() != 3 || st.Computed != 3 || len(res) != 3 {
		t.Fatalf("%+v, %d calls, %v; want the 3 bad files recomputed", st, ev.calls.Load(), err)
	}
	if c := strings.Count(log.String(), "warning"); c != 3 {
		t.Errorf("%d warnings, want 3:\n%s", c, log.String())
	}
	if _, _, err := (&Runner{Dir: dir}).Run(context.Background(), p.Points, &fakeEval{}); err != nil {
		t.Fatal(err)
	}

	// A failing point is reported, not saved, and retried by a rerun.
	fail := EvaluatorFunc(func(ctx context.Context, pt Point) (PointResult, error) {
		if pt.Bits == 2 {
			return PointResult{}, errors.New("diverged")
		}
		return PointResult{Accuracy: 0.9}, nil
	})
	dir2 := t.TempDir()
	_, st, err = (&Runner{Dir: dir2}).Run(context.Background(), p.Points, fail)
	if !errors.Is(err, ErrPointsFailed) || !strings.Contains(err.Error(), "diverged") || st.Failed != 1 || st.Computed != 2 {
		t.Fatalf("%+v, %v; want one failure", st, err)
	}
	ev = &fakeEval{}
	if _, _, err := (&Runner{Dir: dir2}).Run(context.Background(), p.Points, ev); err != nil || ev.calls.Load() != 1 {
		t.Fatalf("retry: %d calls, %v; want 1", ev.calls.Load(), err)
	}
}

// A stored result that Runner.Accept rejects (here: one written before the
// test loss was recorded) is recomputed with a warning; an invalid loss in
// a file is an unreadable file; a result whose loss is NaN is not saved.
func TestRunnerAccept(t *testing.T) {
	pts := []Point{{ID: "a"}, {ID: "b"}}
	dir := t.TempDir()
	old := EvaluatorFunc(func(context.Context, Point) (PointResult, error) { return PointResult{Accuracy: 0.5}, nil })
	if _, _, err := (&Runner{Dir: dir, Workers: 1}).Run(context.Background(), pts, old); err != nil {
		t.Fatal(err)
	}
	loss := 0.25
	withLoss := EvaluatorFunc(func(context.Context, Point) (PointResult, error) {
		return PointResult{Accuracy: 0.5, TestLoss: &loss}, nil
	})
	needLoss := func(r PointResult) error {
		if r.TestLoss == nil {
			return errors.New("no test loss")
		}
		return nil
	}
	var log bytes.Buffer
	res, st, err := (&Runner{Dir: dir, Workers: 1, Progress: &log, Accept: needLoss}).Run(context.Background(), pts, withLoss)
	if err != nil || st.Computed != 2 || res["a"].TestLoss == nil || *res["a"].TestLoss != 0.25 {
		t.Fatalf("%+v, %v, %v", st, res, err)
	}
	if !strings.Contains(log.String(), "no test loss; recomputing point a") {
		t.Errorf("no warning:\n%s", log.String())
	}
	if r, err := LoadResult(dir, "b"); err != nil || r.TestLoss == nil || *r.TestLoss != 0.25 {
		t.Errorf("LoadResult: %+v, %v", r, err)
	}
	_, st, err = (&Runner{Dir: dir, Workers: 1, Accept: needLoss}).Run(context.Background(), pts, withLoss)
	if err != nil || st.Reused != 2 {
		t.Errorf("rerun: %+v, %v", st, err)
	}
	b, _ := os.ReadFile(PointPath(dir, "a"))
	os.WriteFile(PointPath(dir, "a"), bytes.Replace(b, []byte(`"test_loss": 0.25`), []byte(`"test_loss": -1`), 1), 0o644)
	if _, err := LoadResult(dir, "a"); err == nil || !strings.Contains(err.Error(), "test loss -1") {
		t.Errorf("negative loss in a file: %v", err)
	}
	nan := math.NaN()
	bad := EvaluatorFunc(func(context.Context, Point) (PointResult, error) {
		return PointResult{Accuracy: 0.5, TestLoss: &nan}, nil
	})
	if _, _, err := (&Runner{Dir: t.TempDir(), Workers: 1}).Run(context.Background(), pts, bad); !errors.Is(err, ErrPointsFailed) {
		t.Errorf("NaN loss: %v, want ErrPointsFailed", err)
	}
}
