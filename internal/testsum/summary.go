package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

type counts struct {
	passed, failed, skipped int
}

type key struct{ pkg, test string }

// summarize copies the report of the events in r to w and counts the tests.
func summarize(r io.Reader, w io.Writer) (counts, error) {
	var c counts
	testFailed := map[string]bool{} // packages with a failing test
	out := map[key][]string{}
	type skip struct {
		key
		why string
	}
	var skips []skip
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			// go test prints build errors as plain text.
			fmt.Fprintln(w, string(line))
			continue
		}
		k := key{e.Package, e.Test}
		switch e.Action {
		case "build-output": // compiler errors (go 1.24+ reports them as events)
			fmt.Fprint(w, e.Output)
		case "output":
			out[k] = append(out[k], e.Output)
			if e.Test == "" && !strings.HasPrefix(e.Output, "=== ") && !isPackageResult(e.Output) {
				// Package-level text: build failures, panics outside tests.
				if strings.HasPrefix(e.Output, "FAIL") || strings.Contains(e.Output, "[build failed]") || strings.HasPrefix(e.Output, "#") {
					fmt.Fprint(w, e.Output)
				}
			}
		case "pass":
			if e.Test == "" {
				fmt.Fprintf(w, "ok  \t%s\t%.3fs\n", e.Package, e.Elapsed)
			} else {
				c.passed++
			}
			delete(out, k)
		case "fail":
			if e.Test == "" {
				fmt.Fprintf(w, "FAIL\t%s\t%.3fs\n", e.Package, e.Elapsed)
				if !testFailed[e.Package] {
					c.failed++ // failed without a failing test: build, panic, timeout
				}
			} else {
				c.failed++
				testFailed[e.Package] = true
				for _, l := range out[k] {
					fmt.Fprint(w, l)
				}
			}
			delete(out, k)
		case "skip":
			if e.Test == "" {
				fmt.Fprintf(w, "?   \t%s\t[no test files]\n", e.Package)
			} else {
				c.skipped++
				skips = append(skips, skip{k, reason(out[k])})
			}
			delete(out, k)
		}
	}
	if err := sc.Err(); err != nil {
		return c, err
	}
	if len(skips) > 0 {
		fmt.Fprintf(w, "\nskipped tests:\n")
		for _, s := range skips {
			fmt.Fprintf(w, "  %s %s: %s\n", s.pkg, s.test, s.why)
		}
	}
	fmt.Fprintf(w, "\ntests: %d passed, %d failed, %d skipped\n", c.passed, c.failed, c.skipped)
	return c, nil
}

func isPackageResult(s string) bool {
	return strings.HasPrefix(s, "ok ") || strings.HasPrefix(s, "PASS") || strings.HasPrefix(s, "?   ")
}

// reason is the message a skipped test printed: its output without the
// "=== RUN" and "--- SKIP" lines.
func reason(lines []string) string {
	var msg []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		msg = append(msg, t)
	}
	if len(msg) == 0 {
		return "(no reason given)"
	}
	return strings.Join(msg, " ")
}
