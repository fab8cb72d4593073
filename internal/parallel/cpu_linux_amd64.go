package parallel

func rdtscpAux() uint32
func hasRDTSCP() bool

var haveRDTSCP = hasRDTSCP()

// cpuID returns the number of the CPU the calling thread runs on, or −1
// where it can't tell.
func cpuID() int {
	if !haveRDTSCP {
		return -1
	}
	return int(rdtscpAux() & 0xfff)
}
