// Command qatgo trains quantization-aware networks and ships them as integer
// models: package cli with the built-in models of package zoo.
//
//	qatgo train   --model resnet20 --data fashion-mnist --epochs 10 --quant fp32 --out runs/fp32
//	qatgo train   --model resnet20 --data fashion-mnist --epochs 2 --quant w8a8 --init runs/fp32 --out runs/w8a8
//	qatgo export  --run runs/w8a8 --out runs/w8a8/model.qint --onnx runs/w8a8/model.onnx
//	qatgo eval    --model runs/w8a8/model.qint --compare-run runs/w8a8
//
// Run qatgo with no arguments for the list of commands.
package main

import (
	"os"

	"github.com/qatgo/qatgo/cli"
	"github.com/qatgo/qatgo/zoo"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr, zoo.Default()))
}
