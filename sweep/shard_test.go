package sweep

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestParseShard(t *testing.T) {
	for _, test := range []struct {
		in    string
		i, n  int
		fails bool
	}{
		{"0/1", 0, 1, false}, {"2/3", 2, 3, false}, {" 7/10 ", 7, 10, false},
		{"3/3", 0, 0, true}, {"-1/2", 0, 0, true}, {"1/0", 0, 0, true}, {"1", 0, 0, true}, {"a/b", 0, 0, true},
	} {
		i, n, err := ParseShard(test.in)
		if (err != nil) != test.fails || i != test.i || n != test.n {
			t.Errorf("ParseShard(%q) = %d, %d, %v", test.in, i, n, err)
		}
		if err != nil && !errors.Is(err, ErrOption) {
			t.Errorf("ParseShard(%q): error %v is not ErrOption", test.in, err)
		}
	}
}

// The shards of a plan partition its distinct points, and Collect after
// running every shard finds all of them.
func TestShardPartitionAndCollect(t *testing.T) {
	pts := []Point{{ID: "a"}, {ID: "b"}, {ID: "a"}, {ID: "c"}, {ID: "d"}, {ID: "e"}}
	var got []string
	want := [][]string{{"a", "d"}, {"b", "e"}, {"c"}}
	dir := t.TempDir()
	ev := EvaluatorFunc(func(_ context.Context, p Point) (PointResult, error) {
		return PointResult{Accuracy: float64(p.ID[0]-'a') / 10}, nil
	})
	if _, err := Collect(dir, pts); !errors.Is(err, ErrMissing) {
		t.Fatalf("Collect before any shard: %v, want ErrMissing", err)
	}
	for i := 0; i < 3; i++ {
		sh, err := Shard(pts, i, 3)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, p := range sh {
			ids = append(ids, p.ID)
		}
		if !slices.Equal(ids, want[i]) {
			t.Errorf("shard %d/3 = %v, want %v", i, ids, want[i])
		}
		got = append(got, ids...)
		if _, _, err := (&Runner{Dir: dir, Workers: 1}).Run(context.Background(), sh, ev); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b", "c", "d", "e"}) {
		t.Errorf("shards cover %v", got)
	}
	res, err := Collect(dir, pts)
	if err != nil || len(res) != 5 || res["e"].Accuracy != 0.4 {
		t.Errorf("Collect: %v, %v", res, err)
	}
	if _, err := Shard(pts, 3, 3); !errors.Is(err, ErrOption) {
		t.Errorf("Shard 3/3: %v", err)
	}
}
