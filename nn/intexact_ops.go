package nn

import (
	G "gorgonia.org/gorgonia"
)

// integerExactPool is the integer-exact form of an average pool (AvgPool2d
// or GlobalAvgPool) with an output quantizer.
func (b *Builder) integerExactPool(l describer, inQ NamedQuantizer, x, y *G.Node) (*G.Node, error) {
	return y, nil
}

// integerExactAdd is the integer-exact form of an Add.
func (b *Builder) integerExactAdd(a *Add, q1, q2 NamedQuantizer, x1, x2, y *G.Node) (*G.Node, error) {
	return y, nil
}

// integerExactConcat is the integer-exact form of a Concat.
func (b *Builder) integerExactConcat(c *Concat, qs []NamedQuantizer, xs []*G.Node, y *G.Node) (*G.Node, error) {
	return y, nil
}
