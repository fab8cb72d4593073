package mixedprec

import (
	"fmt"
	"strconv"
	"strings"
)

// Budget is a size limit in weight bits.
type Budget struct {
	Label string `json:"label"` // as given: "w3", "35%", "120000"
	Bits  int64  `json:"bits"`
}

// ParseBudgets parses a comma-separated list of budgets for layers of the
// given weight counts: "wN" is the size of every weight at N bits, "P%" is
// P percent of the size at 8 bits, and a plain integer is bytes.
func ParseBudgets(s string, counts []int64) ([]Budget, error) {
	var total int64
	for _, n := range counts {
		total += n
	}
	var out []Budget
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		b := Budget{Label: f}
		switch {
		case strings.HasPrefix(f, "w"):
			n, err := strconv.Atoi(f[1:])
			if err != nil || n < 1 || n > 32 {
				return nil, fmt.Errorf("%w: budget %q, want wN with N in 1..32", ErrInput, f)
			}
			b.Bits = total * int64(n)
		case strings.HasSuffix(f, "%"):
			p, err := strconv.ParseFloat(strings.TrimSuffix(f, "%"), 64)
			if err != nil || !(p > 0 && p <= 400) {
				return nil, fmt.Errorf("%w: budget %q, want a percentage of the 8-bit size in (0, 400]", ErrInput, f)
			}
			b.Bits = int64(p / 100 * float64(total*8))
		default:
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%w: budget %q, want wN, P%% or a byte count", ErrInput, f)
			}
			b.Bits = n * 8
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no budgets in %q", ErrInput, s)
	}
	return out, nil
}
