package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/qatgo/qatgo/cgen"
	"github.com/qatgo/qatgo/intmodel"
)

// runInspect shows an integer model's layers, bit widths, storage and
// multiply-adds.
func runInspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", stderr)
	asJSON := fs.Bool("json", false, "print the summary as JSON (one line)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: qatgo inspect [--json] FILE")
		fs.PrintDefaults()
	}
	// The file may come before or after the flags.
	var file string
	var rest []string
	for _, a := range args {
		if file == "" && !strings.HasPrefix(a, "-") {
			file = a
			continue
		}
		rest = append(rest, a)
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if file == "" {
		fmt.Fprintln(stderr, "qatgo inspect: an integer model file is required")
		return errUsage
	}
	m, err := intmodel.Read(file)
	if err != nil {
		return err
	}
	s, err := intmodel.Inspect(m)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	// Memory of the model as generated C (absent if cgen cannot translate it).
	var c *cgen.Report
	if res, err := cgen.Generate(m, cgen.Options{}); err == nil {
		c = &res.Report
		c.Buffers = nil
	}
	if *asJSON {
		return printJSON(stdout, struct {
			File string `json:"file"`
			*intmodel.Summary
			Compression float64           `json:"compression"`
			C           *cgen.Report      `json:"c,omitempty"`
			Meta        map[string]string `json:"meta,omitempty"`
		}{file, s, ratio(s), c, m.Meta})
	}
	fmt.Fprintf(stdout, "%s\n", file)
	if err := s.WriteText(stdout); err != nil {
		return err
	}
	if c != nil {
		fmt.Fprintf(stdout, "as C (qatgo export --c): RAM %d bytes (arena; %d without reuse), flash %d bytes of constants + code\n",
			c.ArenaBytes, c.NaiveBytes, c.ConstBytes)
	}
	return nil
}
