package parallel

// pause executes n (≥ 1) PAUSE instructions.
//
//go:noescape
func pause(n int)
