package kernels

import (
	"fmt"
	"math"
	"slices"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Shared buffers for a training graph's input gradients.
//
// Every op owns its output tensor and writes it again each step, so a
// step's backward writes each activation gradient into memory last touched
// a whole step before: from DRAM, a read for ownership per cache line
// (+90 µs on a 28×28×16 convolution's 3.2 MB at batch 64, 12% of it). Most
// of those tensors die a few ops later, once the ops that read them have
// run. PlanBuffers gives them buffers by their lifetimes in the tape
// machine's order, the one freed last first, so that an op mostly writes
// over a gradient that the op before it has just read, still in cache.

// TransientReader is implemented by ops that read their inputs while their
// Do runs and keep no reference to them that anything reads after the
// inputs' last graph reader has run (nor return one, but through
// OverwritesInput): a buffer that only such ops read may be reused once they
// have run. This package's ops implement it (a batch norm that hands its
// input to the convolution after it keeps it, but its gradient ops read
// that input later anyway); so do nn's and fakequant's.
type TransientReader interface {
	ReadsInputsOnlyWhileRunning()
}

func (o *opBase) ReadsInputsOnlyWhileRunning() {}

// plannedOp is an op whose output PlanBuffers may place in a shared buffer.
type plannedOp interface {
	// planKey is shared by the ops that write one output together (a
	// batch norm's gradient ops: the first of them to run writes dx).
	planKey() any
	// plannedValue reports whether the op's node's value is that output.
	plannedValue() bool
	setPlan(p outPlan)
}

// outPlan is an output's shared buffer; poison: fill it with NaN before
// the op writes it (PlanOptions.Poison).
type outPlan struct {
	buf    []float32
	poison bool
}

// ownPlan is the plan of an op that writes its output alone (PlanBuffers'
// plannedOp, embedded in the op).
type ownPlan struct{ plan outPlan }

func (p *ownPlan) planKey() any       { return p }
func (p *ownPlan) plannedValue() bool { return true }
func (p *ownPlan) setPlan(q outPlan)  { p.plan = q }

func (o *bnGradOp) planKey() any       { return o.st }
func (o *bnGradOp) plannedValue() bool { return o.which == 0 }
func (o *bnGradOp) setPlan(p outPlan)  { o.st.dxPlan = p }

// plannedOut is reuseOut into p's buffer where the plan has one of the
// output's size and dtype: the tensor is a view of it, made once.
func plannedOut(cache **tensor.Dense, p outPlan, dt tensor.Dtype, shape ...int) *tensor.Dense {
	n := tensor.Shape(shape).TotalSize()
	if dt != tensor.Float32 || len(p.buf) != n || n == 0 {
		return reuseOut(cache, dt, shape...)
	}
	c := *cache
	if c == nil || c.Dtype() != dt || !c.Shape().Eq(tensor.Shape(shape)) || &c.Data().([]float32)[0] != &p.buf[0] {
		c = tensor.New(tensor.WithBacking(p.buf), tensor.WithShape(shape...))
		*cache = c
	}
	if p.poison {
		for i := range p.buf {
			p.buf[i] = float32(math.NaN())
		}
	}
	return c
}

// PlanOptions are PlanBuffers' options.
type PlanOptions struct {
	// Keep lists nodes whose values are read after the machine has run
	// (parameter gradients): never placed in a shared buffer.
	Keep G.Nodes
	// Poison fills each shared buffer with NaN before an op writes it
	// there: a test that no op reads what another op left in it.
	Poison bool
}

// PlanStats says what PlanBuffers did.
type PlanStats struct {
	// Outputs is how many op outputs got a shared buffer, Buffers how many
	// buffers they share.
	Outputs, Buffers int
	// Bytes is the outputs' size, SharedBytes the buffers'.
	Bytes, SharedBytes int64
}

// PlanBuffers places the float32 input gradients of g's convolutions,
// batch norms, clamps and pools in buffers shared by outputs whose lifetimes do
// not overlap, in the order gorgonia's tape machine runs g (its
// topological sort, reversed): an output lives from the first of its
// writing ops to the last op that reads it, or reads a tensor that
// overwrites it in place (OverwritesInput). An output is planned only
// where every reader is a TransientReader or one of gorgonia's element-wise
// arithmetic ops, and it is not in opts.Keep. Call it once the graph is
// complete, before the machine is made; the same values come out.
func PlanBuffers(g *G.ExprGraph, opts PlanOptions) (PlanStats, error) {
	sorted, err := G.Sort(g)
	if err != nil {
		return PlanStats{}, fmt.Errorf("kernels: PlanBuffers: %w", err)
	}
	slices.Reverse(sorted)
	pos := make(map[*G.Node]int, len(sorted))
	for i, n := range sorted {
		pos[n] = i
	}
	keep := map[*G.Node]bool{}
	for _, n := range opts.Keep {
		keep[n] = true
	}
	type group struct {
		ops        []plannedOp
		value      *G.Node
		start, end int
		size       int
		bad        bool
	}
	groups := map[any]*group{}
	var order []*group
	for i, n := range sorted {
		op, ok := n.Op().(plannedOp)
		if !ok {
			continue
		}
		k := op.planKey()
		gr := groups[k]
		if gr == nil {
			gr = &group{start: i, end: i}
			groups[k] = gr
			order = append(order, gr)
		}
		gr.ops = append(gr.ops, op)
		gr.end = max(gr.end, i)
		if op.plannedValue() {
			if gr.value != nil || n.Dtype() != tensor.Float32 || keep[n] {
				gr.bad = true
			}
			gr.value, gr.size = n, n.Shape().TotalSize()
		}
	}
	// lastRead returns the position of the last op that reads n or a
	// tensor that overwrites n in place; false where a reader is not known
	// to let go of n when it has run.
	var lastRead func(n *G.Node) (int, bool)
	lastRead = func(n *G.Node) (int, bool) {
		end := -1
		readers := g.To(n.ID())
		if readers.Len() == 0 || keep[n] {
			return 0, false // a graph output: read after the run
		}
		for readers.Next() {
			r := readers.Node().(*G.Node)
			p, ok := pos[r]
			if !ok {
				return 0, false
			}
			end = max(end, p)
			op := r.Op()
			if ow, ok := op.(interface{ OverwritesInput() int }); ok {
				if i := ow.OverwritesInput(); i >= 0 {
					ins := g.From(r.ID())
					for j := 0; ins.Next(); j++ {
						if j == i && ins.Node().(*G.Node) == n {
							// r's output may be n's buffer
							e, ok := lastRead(r)
							if !ok {
								return 0, false
							}
							end = max(end, e)
						}
					}
				}
			}
			if _, ok := op.(TransientReader); ok || isElemArith(op) {
				continue
			}
			return 0, false
		}
		return end, true
	}
	var st PlanStats
	type event struct {
		at   int
		free bool
		gr   *group
	}
	var evs []event
	for _, gr := range order {
		if gr.bad || gr.value == nil || gr.size == 0 {
			continue
		}
		e, ok := lastRead(gr.value)
		if !ok {
			continue
		}
		gr.end = max(gr.end, e)
		evs = append(evs, event{gr.start, false, gr}, event{gr.end, true, gr})
	}
	// At one position the op's output is placed before the buffers its
	// inputs free: an op never writes over what it reads.
	slices.SortStableFunc(evs, func(a, b event) int {
		if a.at != b.at {
			return a.at - b.at
		}
		if a.free == b.free {
			return 0
		}
		if !a.free {
			return -1
		}
		return 1
	})
	free := map[int][][]float32{} // by size, the last freed on top
	bufs := map[*group][]float32{}
	for _, ev := range evs {
		gr := ev.gr
		if ev.free {
			free[gr.size] = append(free[gr.size], bufs[gr])
			continue
		}
		var b []float32
		if l := free[gr.size]; len(l) > 0 {
			b, free[gr.size] = l[len(l)-1], l[:len(l)-1]
		} else {
			b = make([]float32, gr.size)
			st.Buffers++
			st.SharedBytes += 4 * int64(gr.size)
		}
		bufs[gr] = b
		for _, op := range gr.ops {
			op.setPlan(outPlan{buf: b, poison: opts.Poison})
		}
		st.Outputs++
		st.Bytes += 4 * int64(gr.size)
	}
	return st, nil
}

// isElemArith reports whether op is one of gorgonia's element-wise binary
// ops (the gradient sums it makes where a node has several readers): they
// read their operands while they run, writing a tensor of their own or,
// in place, their first operand (OverwritesInput).
func isElemArith(op G.Op) bool {
	return fmt.Sprintf("%T", op) == "gorgonia.elemBinOp"
}
