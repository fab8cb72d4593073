// Command custommodel shows a user-defined CNN going through qatgo end to
// end: the model is written with nn's layers and containers (a residual
// block with a depthwise convolution and a standalone batch norm, a
// two-branch block joined by a concat), registered in a zoo.Registry next to
// the built-ins, and handed to the qatgo command line (package cli), which
// trains it, prepares it for QAT, exports it as an integer model and checks
// the integer runtime against the fake-quant model.
//
//	go run ./examples/custommodel train --model tinyres --data fashion-mnist --epochs 1 --quant fp32 --out runs/tiny-fp32
//	go run ./examples/custommodel train --model tinyres --data fashion-mnist --epochs 1 --quant w8a8 --init runs/tiny-fp32 --out runs/tiny-w8a8
//	go run ./examples/custommodel export --run runs/tiny-w8a8 --out runs/tiny-w8a8/model.qint
//	go run ./examples/custommodel eval --model runs/tiny-w8a8/model.qint --compare-run runs/tiny-w8a8
package main

import (
	"fmt"
	"math/rand"
	"os"

	"github.com/qatgo/qatgo/cli"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/zoo"
)

// TinyRes is a small residual CNN for any C×H×W input: a stride-2 stem, a
// MobileNet-style residual block (1×1 expand, depthwise 3×3, 1×1 project,
// each conv followed by a batch norm that qconfig.Prepare folds into it), a
// two-branch block whose outputs are concatenated, global average pooling
// and a classifier.
func TinyRes(spec zoo.Spec, rng *rand.Rand) (nn.Module, error) {
	c := spec.InputShape[0]
	if spec.InputShape[1] < 4 || spec.InputShape[2] < 4 {
		return nil, fmt.Errorf("input %v smaller than 4x4", spec.InputShape)
	}
	conv := func(name string, in, out, k, stride, groups int) []nn.Module {
		return []nn.Module{
			nn.NewConv2d(name, in, out, k, nn.ConvOpts{Stride: stride, Padding: k / 2, Groups: groups, NoBias: true}, rng),
			nn.NewBatchNorm2d(name+".bn", out),
		}
	}
	cat := func(parts ...[]nn.Module) []nn.Module {
		var ms []nn.Module
		for _, p := range parts {
			ms = append(ms, p...)
		}
		return ms
	}
	stem := nn.NewSequential("stem", cat(conv("stem.conv", c, 16, 3, 2, 1), []nn.Module{&nn.ReLU{LayerName: "stem.relu"}})...)
	body := nn.NewSequential("res.body", cat(
		conv("res.expand", 16, 48, 1, 1, 1), []nn.Module{&nn.ReLU6{LayerName: "res.relu6a"}},
		conv("res.dw", 48, 48, 3, 1, 48), []nn.Module{&nn.ReLU6{LayerName: "res.relu6b"}},
		conv("res.project", 48, 16, 1, 1, 1))...)
	branches := nn.NewBranches("mix",
		nn.NewSequential("mix.a", cat(conv("mix.a.conv", 16, 16, 1, 1, 1), []nn.Module{&nn.ReLU{LayerName: "mix.a.relu"}})...),
		nn.NewSequential("mix.b", cat(conv("mix.b.conv", 16, 16, 3, 1, 1), []nn.Module{&nn.ReLU{LayerName: "mix.b.relu"}})...))
	return nn.NewSequential("tinyres",
		stem,
		nn.NewResidual("res", body, nil),
		branches,
		&nn.GlobalAvgPool{LayerName: "gap"},
		nn.NewLinear("fc", 32, spec.Classes, true, rng),
	), nil
}

func main() {
	reg := zoo.Default()
	if err := reg.Register("tinyres", "a small residual CNN defined in examples/custommodel", TinyRes); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr, reg))
}
