package kernels

// Workspace is scratch that the convolutions of one graph share
// (ConvParams.Workspace): their Winograd paths' per-worker buffers —
// transformed tiles, products, padded planes and chunk tables. One set per
// convolution was a step old whenever its op ran, in memory rather than in
// cache, and its first writes read it back from there (resnet20's weight
// gradients ran 0.2–0.3 ms a layer slower than their benchmark); shared,
// it is the set the previous op just used. A graph's ops run one at a
// time; graphs that may run at the same time need workspaces of their own.
type Workspace struct {
	ww []winoWorker
}

// NewWorkspace returns an empty Workspace; its buffers grow on first use.
func NewWorkspace() *Workspace { return &Workspace{} }

// winoScratch returns the Winograd workers' scratch of this convolution:
// its graph's Workspace's, or its own.
func (s *convState) winoScratch() *[]winoWorker {
	if w := s.p.Workspace; w != nil {
		return &w.ww
	}
	return &s.ww
}
