package analysis

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromium returns a headless Chromium binary, or "" with the reason.
func chromium() (string, string) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, ""
		}
	}
	return "", "no chromium on PATH (Debian: apt-get install chromium)"
}

// TestHTMLRendersInChromium loads the report in headless Chromium: the page
// must parse to the end (the last element is present in the DOM Chromium
// dumps), hold one SVG per histogram, and log no console errors.
func TestHTMLRendersInChromium(t *testing.T) {
	bin, why := chromium()
	if bin == "" {
		t.Skip(why)
	}
	net, tr, _ := quantLeNet5(t, "w4a8")
	rep, err := Analyze(net, Options{Images: tr.X[:16*tr.SampleSize()]})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	var page bytes.Buffer
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0", "--dump-dom", "file://"+path)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errb.String())
	}
	dom := out.String()
	if !strings.Contains(dom, `<p id="status">rendered</p>`) {
		t.Errorf("the page did not load to its end; DOM:\n%.2000s", dom)
	}
	want := 0
	for _, l := range rep.Layers {
		if l.Weight != nil {
			want++
		}
		if l.Output != nil {
			want++
		}
	}
	if got := strings.Count(dom, "<svg"); got != want {
		t.Errorf("%d SVG histograms in the DOM, want %d", got, want)
	}
	for _, line := range strings.Split(errb.String(), "\n") {
		if strings.Contains(line, "CONSOLE") || strings.Contains(line, "Uncaught") {
			t.Errorf("console: %s", line)
		}
	}
}
