package cgen

import (
	"cmp"
	"slices"
)

// arenaAlign is the alignment of every buffer in the arena: word loads of
// the DSP kernels, int16 columns.
const arenaAlign = 4

// Buffer is one region of the activation arena: an activation or a layer's
// scratch. First and Last are the steps during which it is live: step 0
// copies the input in, step i+1 runs layer i, step len(Layers)+1 copies the
// output out.
type Buffer struct {
	Name   string `json:"name"`
	Offset int    `json:"offset"`
	Size   int    `json:"size"`
	First  int    `json:"first"`
	Last   int    `json:"last"`
	// leader: the first buffer of a chain of in-place ops; every buffer of
	// a chain starts at the same offset.
	leader *Buffer
}

func overlaps(a, b *Buffer) bool {
	return a.First <= b.Last && b.First <= a.Last
}

// planArena places bufs in one arena and returns its size: chains of
// in-place buffers as one unit, the unit with the largest buffer first, at
// the lowest aligned offset where none of its buffers overlaps, in space and
// time, a placed buffer (the greedy-by-size plan of TFLite Micro, with
// in-place chains).
func planArena(bufs []*Buffer) int {
	var units [][]*Buffer
	index := map[*Buffer]int{}
	for _, b := range bufs {
		l := b.leader
		if l == nil {
			l = b
		}
		i, ok := index[l]
		if !ok {
			i = len(units)
			index[l] = i
			units = append(units, nil)
		}
		units[i] = append(units[i], b)
	}
	largest := func(u []*Buffer) int {
		m := 0
		for _, b := range u {
			m = max(m, b.Size)
		}
		return m
	}
	slices.SortStableFunc(units, func(a, b []*Buffer) int { return cmp.Compare(largest(b), largest(a)) })
	var placed []*Buffer
	total := 0
	for _, u := range units {
		cands := []int{0}
		for _, p := range placed {
			cands = append(cands, alignUp(p.Offset+p.Size))
		}
		slices.Sort(cands)
		off := 0
	search:
		for _, c := range cands {
			for _, b := range u {
				for _, p := range placed {
					if overlaps(b, p) && c < p.Offset+p.Size && p.Offset < c+b.Size {
						continue search
					}
				}
			}
			off = c
			break
		}
		for _, b := range u {
			b.Offset = off
			total = max(total, off+b.Size)
			placed = append(placed, b)
		}
	}
	return alignUp(total)
}

func alignUp(n int) int { return (n + arenaAlign - 1) / arenaAlign * arenaAlign }
