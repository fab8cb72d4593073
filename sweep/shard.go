package sweep

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ParseShard parses "INDEX/COUNT" (0 ≤ INDEX < COUNT), the form a batch
// engine's array index takes on the command line (Kubernetes'
// JOB_COMPLETION_INDEX, Slurm's SLURM_ARRAY_TASK_ID).
func ParseShard(s string) (index, count int, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	if ok {
		index, err = strconv.Atoi(a)
		if err == nil {
			count, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || count < 1 || index < 0 || index >= count {
		return 0, 0, fmt.Errorf("%w: shard %q, want INDEX/COUNT with 0 ≤ INDEX < COUNT", ErrOption, s)
	}
	return index, count, nil
}

// Shard returns shard index of count: the distinct points whose position
// in Unique(points) is index modulo count. Dealing round-robin spreads the
// expensive fine-tuned points, which a plan lists together, over the shards.
func Shard(points []Point, index, count int) ([]Point, error) {
	if count < 1 || index < 0 || index >= count {
		return nil, fmt.Errorf("%w: shard %d/%d", ErrOption, index, count)
	}
	var out []Point
	for i, p := range Unique(points) {
		if i%count == index {
			out = append(out, p)
		}
	}
	return out, nil
}

// ErrMissing is returned (wrapped) by Collect when points have no result.
var ErrMissing = errors.New("sweep: points without results")

// Collect reads the results of points from dir (as Runner.Run stores them)
// without computing anything: the merge step after shards ran elsewhere.
// It returns the results by ID and, wrapped in ErrMissing, how many points
// have no valid result (naming a few).
func Collect(dir string, points []Point) (map[string]PointResult, error) {
	uniq := Unique(points)
	res := make(map[string]PointResult, len(uniq))
	var missing []string
	for _, p := range uniq {
		r, err := LoadResult(dir, p.ID)
		switch {
		case err == nil:
			r.Point = p // labels come from the plan
			res[p.ID] = r
		case errors.Is(err, os.ErrNotExist):
			missing = append(missing, p.ID+" ("+describe(p)+")")
		default:
			return nil, err
		}
	}
	if len(missing) > 0 {
		return res, fmt.Errorf("%w: %d of %d, e.g. %s", ErrMissing, len(missing), len(uniq), strings.Join(missing[:min(3, len(missing))], ", "))
	}
	return res, nil
}
