// Package cli is the qatgo command line: train, eval, export, inspect,
// compress, sweep, analyze and autobits, over the models of a zoo.Registry. Command qatgo is
// Main with the built-in models; a program that registers its own model
// calls Main with its registry and gets every command for it:
//
//	reg := zoo.Default()
//	reg.Register("mynet", "my CNN", myConstructor)
//	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr, reg))
//
// The commands, as command qatgo runs them:
//
//	qatgo train   --model lenet5 --data mnist --epochs 4 --quant fp32 --out runs/fp32
//	qatgo train   --model lenet5 --data mnist --epochs 2 --quant w8a8 --init runs/fp32 --out runs/w8a8
//	qatgo eval    --run runs/w8a8
//	qatgo export  --run runs/w8a8 --out runs/w8a8/model.qint
//	qatgo inspect runs/w8a8/model.qint
//	qatgo analyze --run runs/w8a8
//	qatgo autobits --run runs/fp32 --budgets w3,35%
//
// Every command takes --json and then prints one JSON object as the last line
// of standard output.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"

	"github.com/qatgo/qatgo/zoo"
)

// command is one subcommand: it parses its own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"train":    {"train (or fine-tune with QAT, or calibrate with --ptq) a model", runTrain},
		"eval":     {"evaluate a run's model (or an exported integer model) on its test set", runEval},
		"export":   {"export a trained QAT run as a true-integer model (and ONNX)", runExport},
		"inspect":  {"show an integer model's layers, bits, storage and multiply-adds", runInspect},
		"compress": {"Deep Compression: prune, share weights by k-means, Huffman-code", runCompress},
		"sweep":    {"bit-width study: accuracy vs bits for conv and FC layers", runSweep},
		"analyze":  {"per-layer comparison of a quantized run with its float twin (table, JSON, HTML)", runAnalyze},
		"autobits": {"choose weight bits per layer under a size budget (sensitivities + knapsack), QAT fine-tune, Pareto curve", runAutobits},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: qatgo <command> [flags]\n\ncommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'qatgo <command> -h' for a command's flags.")
}

// Main runs the command line args (without the program name) with the
// models of reg and returns the process exit code: 0 on success, 1 when a
// command fails, 2 for a usage error. Interrupts (Ctrl-C) cancel a command
// cleanly (a training run keeps its last checkpoint).
func Main(args []string, stdout, stderr io.Writer, reg *zoo.Registry) int {
	if reg == nil {
		reg = zoo.Default()
	}
	return runWith(args, stdout, stderr, reg)
}

// run is Main with the built-in models.
func run(args []string, stdout, stderr io.Writer) int {
	return runWith(args, stdout, stderr, zoo.Default())
}

func runWith(args []string, stdout, stderr io.Writer, reg *zoo.Registry) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "qatgo: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx = withModels(ctx, reg)
	if err := cmd.run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if errors.Is(err, errUsage) {
			return 2
		}
		fmt.Fprintf(stderr, "qatgo %s: %v\n", args[0], err)
		if errors.Is(err, errFlag) {
			return 2
		}
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

type modelsKey struct{}

// withModels hands the model registry to the commands.
func withModels(ctx context.Context, r *zoo.Registry) context.Context {
	return context.WithValue(ctx, modelsKey{}, r)
}

// modelsFrom returns the registry the commands look models up in.
func modelsFrom(ctx context.Context) *zoo.Registry {
	if r, ok := ctx.Value(modelsKey{}).(*zoo.Registry); ok {
		return r
	}
	return zoo.Default()
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("qatgo "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected arguments: %s\n", fs.Name(), strings.Join(fs.Args(), " "))
		return errUsage
	}
	return nil
}

// printJSON writes v as one line: the last line of stdout for --json.
func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
