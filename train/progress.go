package train

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Progress reports a running epoch: a redrawn bar on a terminal, plain lines
// at most every Interval otherwise (logs, CI), so long runs show life either way.
type Progress struct {
	w        io.Writer
	terminal bool
	interval time.Duration

	label     string
	total     int
	start     time.Time
	lastPrint time.Time
	drawn     bool
}

// NewProgress writes to w; a nil w gives a Progress that prints nothing.
// Whether w is a terminal is detected for *os.File.
func NewProgress(w io.Writer) *Progress {
	p := &Progress{w: w, interval: 10 * time.Second}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
			p.interval = 200 * time.Millisecond
		}
	}
	return p
}

// Start begins a phase of total images, such as "epoch 2/4".
func (p *Progress) Start(label string, total int) {
	p.label, p.total = label, total
	p.start = time.Now()
	p.lastPrint = p.start
	p.drawn = false
}

// Update reports done images with the running loss and accuracy.
func (p *Progress) Update(done int, loss, acc float64) {
	if p == nil || p.w == nil {
		return
	}
	now := time.Now()
	if now.Sub(p.lastPrint) < p.interval && done < p.total {
		return
	}
	p.lastPrint = now
	el := now.Sub(p.start).Seconds()
	ips := 0.0
	if el > 0 {
		ips = float64(done) / el
	}
	eta := time.Duration(0)
	if ips > 0 {
		eta = time.Duration(float64(p.total-done)/ips) * time.Second
	}
	frac := float64(done) / float64(max(p.total, 1))
	if p.terminal {
		const width = 24
		n := int(frac * width)
		bar := strings.Repeat("=", n) + strings.Repeat(" ", width-n)
		if n > 0 && n < width {
			bar = bar[:n-1] + ">" + bar[n:]
		}
		fmt.Fprintf(p.w, "\r%s [%s] %3.0f%% loss %.4f acc %.2f%% %5.0f img/s eta %s ", p.label, bar, 100*frac, loss, 100*acc, ips, eta.Round(time.Second))
		p.drawn = true
		return
	}
	fmt.Fprintf(p.w, "%s: %d/%d (%.0f%%) loss %.4f acc %.2f%% %.0f img/s\n", p.label, done, p.total, 100*frac, loss, 100*acc, ips)
}

// Done ends the phase with one summary line.
func (p *Progress) Done(summary string) {
	if p == nil || p.w == nil {
		return
	}
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, summary)
}
