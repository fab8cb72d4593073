package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/qatgo/qatgo/internal/atomicfile"
)

// ErrPointsFailed is returned (wrapped) by Runner.Run when some points
// could not be evaluated; the others are saved.
var ErrPointsFailed = errors.New("sweep: some points failed")

// Evaluator computes one point. It is called concurrently from several
// workers, so it must be safe for concurrent use; each call should run on
// one goroutine (the Runner provides the parallelism) and derive all its
// randomness from p.Seed. It should return ctx.Err() promptly when ctx is
// cancelled.
type Evaluator interface {
	Evaluate(ctx context.Context, p Point) (PointResult, error)
}

// EvaluatorFunc adapts a function to Evaluator.
type EvaluatorFunc func(ctx context.Context, p Point) (PointResult, error)

// Evaluate implements Evaluator.
func (f EvaluatorFunc) Evaluate(ctx context.Context, p Point) (PointResult, error) { return f(ctx, p) }

// resultVersion is the version of the result file format.
const resultVersion = 1

// PointResult is the outcome of one point, stored as DIR/points/<id>.json.
type PointResult struct {
	Version int   `json:"version"`
	Point   Point `json:"point"` // the settings, for people reading the file
	// Accuracy is the top-1 test accuracy in [0, 1].
	Accuracy float64 `json:"test_accuracy"`
	// TestLoss is the mean cross-entropy on the test set. Nil in files
	// written before it was recorded, and from evaluators that do not
	// measure it.
	TestLoss *float64 `json:"test_loss,omitempty"`
	// TrainLoss is the mean loss of the last fine-tuning epoch (0 without).
	TrainLoss float64 `json:"train_loss,omitempty"`
	// Seconds is the wall time of the evaluation; reports leave it out so
	// that tables are reproducible.
	Seconds float64 `json:"seconds"`
	Note    string  `json:"note,omitempty"`
}

// Runner evaluates points in parallel and stores their results under Dir.
type Runner struct {
	// Dir is the sweep directory; results go to Dir/points.
	Dir string
	// Workers is the number of points evaluated at once (default
	// GOMAXPROCS).
	Workers int
	// Progress receives progress lines and warnings (nil: none).
	Progress io.Writer
	// Accept, when set, vets a stored result before it is reused; one it
	// rejects is recomputed, with a warning giving its error (e.g. a file
	// written before a field the caller needs was recorded).
	Accept func(PointResult) error
}

// RunStats counts what a Run did.
type RunStats struct {
	Points   int     `json:"points"`   // distinct points
	Reused   int     `json:"reused"`   // results found on disk
	Computed int     `json:"computed"` // evaluated in this run
	Failed   int     `json:"failed"`
	Seconds  float64 `json:"seconds"`
}

// PointPath returns the result file of point id under dir.
func PointPath(dir, id string) string { return filepath.Join(dir, "points", id+".json") }

// LoadResult reads the result file of point id under dir. It fails for
// files that are missing, do not parse, are of another version or another
// point, or hold an accuracy outside [0, 1].
func LoadResult(dir, id string) (PointResult, error) {
	path := PointPath(dir, id)
	b, err := os.ReadFile(path)
	if err != nil {
		return PointResult{}, err
	}
	var r PointResult
	if err := json.Unmarshal(b, &r); err != nil {
		return PointResult{}, fmt.Errorf("sweep: %s: %w", path, err)
	}
	switch {
	case r.Version != resultVersion:
		return PointResult{}, fmt.Errorf("sweep: %s: version %d, want %d", path, r.Version, resultVersion)
	case r.Point.ID != id:
		return PointResult{}, fmt.Errorf("sweep: %s: holds point %q", path, r.Point.ID)
	case !(r.Accuracy >= 0 && r.Accuracy <= 1):
		return PointResult{}, fmt.Errorf("sweep: %s: accuracy %v not in [0, 1]", path, r.Accuracy)
	case r.TestLoss != nil && !validLoss(*r.TestLoss):
		return PointResult{}, fmt.Errorf("sweep: %s: test loss %v is not a finite number ≥ 0", path, *r.TestLoss)
	}
	return r, nil
}

// validLoss reports whether l can be a mean cross-entropy.
func validLoss(l float64) bool { return l >= 0 && !math.IsInf(l, 1) }

func saveResult(dir string, r PointResult) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("sweep: point %s: %w", r.Point.ID, err)
	}
	return atomicfile.WriteFile(PointPath(dir, r.Point.ID), append(b, '\n'), 0o644)
}

// Run evaluates every distinct point of points that has no valid result
// under r.Dir yet, and returns the results of all of them by ID. A result
// file that exists but cannot be read is recomputed, with a warning. When
// ctx is cancelled, workers start no new points, finished points stay
// saved, and Run returns ctx's error. Points whose evaluation fails are not
// saved (a rerun retries them); Run then returns ErrPointsFailed.
func (r *Runner) Run(ctx context.Context, points []Point, ev Evaluator) (map[string]PointResult, RunStats, error) {
	t0 := time.Now()
	if r.Dir == "" {
		return nil, RunStats{}, errors.New("sweep: Runner.Dir is empty")
	}
	if err := os.MkdirAll(filepath.Join(r.Dir, "points"), 0o755); err != nil {
		return nil, RunStats{}, fmt.Errorf("sweep: %w", err)
	}
	uniq := Unique(points)
	st := RunStats{Points: len(uniq)}
	results := make(map[string]PointResult, len(uniq))
	var todo []Point
	for _, p := range uniq {
		if p.ID == "" {
			return nil, st, fmt.Errorf("sweep: point without ID: %+v", p)
		}
		res, err := LoadResult(r.Dir, p.ID)
		if err == nil && r.Accept != nil {
			if aerr := r.Accept(res); aerr != nil {
				err = fmt.Errorf("sweep: %s: %w", PointPath(r.Dir, p.ID), aerr)
			}
		}
		switch {
		case err == nil:
			res.Point = p // labels come from the plan
			results[p.ID] = res
			st.Reused++
		case errors.Is(err, os.ErrNotExist):
			todo = append(todo, p)
		default:
			r.logf("sweep: warning: %v; recomputing point %s\n", err, p.ID)
			todo = append(todo, p)
		}
	}
	workers := r.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, max(len(todo), 1))
	if len(todo) > 0 {
		r.logf("sweep: %d points, %d already done, %d to compute on %d workers\n", st.Points, st.Reused, len(todo), workers)
	}

	jobs := make(chan Point)
	var mu sync.Mutex
	var errs []error
	var busy time.Duration // summed evaluation time of computed points, for the ETA
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				if ctx.Err() != nil {
					continue // the feeder may hand out a point after cancellation
				}
				t := time.Now()
				res, err := ev.Evaluate(ctx, p)
				d := time.Since(t)
				if err == nil {
					res.Version, res.Point = resultVersion, p
					if res.Seconds == 0 {
						res.Seconds = d.Seconds()
					}
					if !(res.Accuracy >= 0 && res.Accuracy <= 1) || math.IsNaN(res.Accuracy) {
						err = fmt.Errorf("sweep: point %s: accuracy %v not in [0, 1]", p.ID, res.Accuracy)
					} else if res.TestLoss != nil && !validLoss(*res.TestLoss) {
						err = fmt.Errorf("sweep: point %s: test loss %v is not a finite number ≥ 0", p.ID, *res.TestLoss)
					} else {
						err = saveResult(r.Dir, res)
					}
				}
				mu.Lock()
				if err != nil {
					if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
						st.Failed++
						errs = append(errs, fmt.Errorf("point %s (%s): %w", p.ID, describe(p), err))
						r.logf("sweep: point %s (%s) failed: %v\n", p.ID, describe(p), err)
					}
				} else {
					results[p.ID] = res
					st.Computed++
					busy += d
					done := st.Computed + st.Failed
					left := len(todo) - done
					eta := time.Duration(float64(busy) / float64(st.Computed) * float64(left) / float64(workers))
					r.logf("sweep: %d/%d points (%s: %.2f%%) elapsed %s ETA %s\n", st.Reused+done, st.Points,
						describe(p), 100*res.Accuracy, time.Since(t0).Round(time.Second), eta.Round(time.Second))
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, p := range todo {
		select {
		case <-ctx.Done():
			break feed
		case jobs <- p:
		}
	}
	close(jobs)
	wg.Wait()
	st.Seconds = time.Since(t0).Seconds()
	if err := ctx.Err(); err != nil {
		return results, st, fmt.Errorf("sweep: interrupted after %d of %d points (rerun to finish): %w", st.Reused+st.Computed, st.Points, err)
	}
	if len(errs) > 0 {
		return results, st, fmt.Errorf("%w: %w", ErrPointsFailed, errors.Join(errs...))
	}
	return results, st, nil
}

func (r *Runner) logf(format string, args ...any) {
	if r.Progress != nil {
		fmt.Fprintf(r.Progress, format, args...)
	}
}

// describe names a point for progress lines, e.g. "conv linear-pc 4b +2ep".
func describe(p Point) string {
	s := string(p.Method)
	if p.Group != "" {
		s = p.Group + " " + s
	}
	if p.Method != FP32 {
		s += fmt.Sprintf(" %db", p.Bits)
	}
	if p.Epochs > 0 {
		s += fmt.Sprintf(" +%dep", p.Epochs)
	}
	return s
}
