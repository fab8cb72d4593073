package intruntime

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qatgo/qatgo/internal/cpufeat"
)

// The chunks of a plan whose entries mark some bytes as not mattering
// (planOf's care): those bytes come out zero from the shuffles, the others
// as from the scalar permutation; an entry with no byte that matters has
// no chunk.
func TestShufPlanCare(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	const C, n, hw, k4, G = 2, 3, 90, 3, 2
	src := make([]uint8, C*n*hw+blockSize)
	for i := range src {
		src[i] = uint8(rng.Uint32())
	}
	entries := make([]packEntry, G*k4)
	care := make([]*[blockSize]bool, len(entries))
	for i := range entries {
		e := &entries[i]
		for j := range 2 {
			e.c[j], e.off[j] = int32(rng.IntN(C)), int32(rng.IntN(hw))
		}
		care[i] = new([blockSize]bool)
		for l := range e.idx {
			e.idx[l] = uint8(rng.IntN(2 * blockSize))
			care[i][l] = i > 0 && rng.IntN(3) > 0 // entry 0: nothing matters
		}
	}
	plan := planOf(entries, care, 0)
	if plan.start[1] != 0 {
		t.Fatalf("entry 0 has %d chunks, want 0", plan.start[1])
	}
	for i := range entries {
		for _, ch := range plan.chunks[plan.start[i]:plan.start[i+1]] {
			used := 0
			for _, c := range ch.ctl {
				if c != 0x80 {
					used++
				}
			}
			if used == 0 {
				t.Errorf("entry %d: a chunk with no byte", i)
			}
		}
	}
	want := make([]byte, n*G*k4*blockSize)
	packDirectScalar(want, src, plan, k4, G, hw, n, 0, n)
	for i := range want {
		if e := i / blockSize % (G * k4); !care[e][i%blockSize] {
			want[i] = 0
		}
	}
	if !cpufeat.Host.AVX2 {
		t.Skip("no AVX2: the chunks are AVX2's")
	}
	got := make([]byte, len(want))
	packDirectShuf(got, src, plan, k4, G, hw, n, 0, n)
	if !slices.Equal(got, want) {
		t.Fatal("chunked packing differs")
	}
}

// TestVectorRows: the rows whose whole-vector stores stay inside a buffer
// of total·w values, a first row shorter than a vector included.
func TestVectorRows(t *testing.T) {
	for _, c := range []struct{ total, w, vec, want int }{
		{1, 7, 8, 0}, // one 7-wide row: its 8-value store would pass the end
		{2, 7, 16, 0},
		{3, 7, 8, 2},
		{1, 8, 8, 1},
		{4, 4, 8, 3},
		{5, 14, 16, 4},
		{0, 3, 8, 0},
	} {
		if got := vectorRowsOf(c.total, c.w, c.vec); got != c.want {
			t.Errorf("vectorRowsOf(%d, %d, %d) = %d, want %d", c.total, c.w, c.vec, got, c.want)
		}
	}
}
