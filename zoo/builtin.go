package zoo

import (
	"fmt"
	"math/rand"

	"github.com/qatgo/qatgo/nn"
)

var builtins = []struct {
	name, doc string
	ctor      Constructor
}{
	{"lenet5", "LeNet-5, Caffe variant (conv5 20, pool, conv5 50, pool, fc 500, fc)", lenet5},
	{"lenet300", "LeNet-300-100 (fc 300, fc 100, fc)", lenet300},
	{"vgg-small", "small VGG: [conv3 16 BN ReLU]×2, pool, [conv3 32 BN ReLU]×2, pool, fc 128, dropout, fc", vggSmall},
	{"resnet20", "CIFAR ResNet-20 (He et al.): 3 stages × 3 basic blocks, widths 16/32/64, GAP, fc", resnet20},
	{"mobilenetv2", "small MobileNetV2: inverted residuals with depthwise 3×3, ReLU6, linear bottlenecks, GAP, fc", mobilenetV2},
}

// out is the output size of a k-window with stride s and padding p.
func out(in, k, s, p int) int { return (in+2*p-k)/s + 1 }

// lenet5 is Caffe's LeNet-5 variant: no ReLU after the convolutions.
func lenet5(sp Spec, rng *rand.Rand) (nn.Module, error) {
	c, h, w := sp.InputShape[0], sp.InputShape[1], sp.InputShape[2]
	h2, w2 := out(out(out(out(h, 5, 1, 0), 2, 2, 0), 5, 1, 0), 2, 2, 0), out(out(out(out(w, 5, 1, 0), 2, 2, 0), 5, 1, 0), 2, 2, 0)
	if h2 < 1 || w2 < 1 {
		return nil, fmt.Errorf("input %dx%d is smaller than LeNet-5's 16x16 minimum", h, w)
	}
	return nn.NewSequential("lenet5",
		nn.NewConv2d("conv1", c, 20, 5, nn.ConvOpts{}, rng),
		&nn.MaxPool2d{LayerName: "pool1", Kernel: 2},
		nn.NewConv2d("conv2", 20, 50, 5, nn.ConvOpts{}, rng),
		&nn.MaxPool2d{LayerName: "pool2", Kernel: 2},
		&nn.Flatten{LayerName: "flatten"},
		nn.NewLinear("fc1", 50*h2*w2, 500, true, rng),
		&nn.ReLU{LayerName: "relu1"},
		nn.NewLinear("fc2", 500, sp.Classes, true, rng),
	), nil
}

func lenet300(sp Spec, rng *rand.Rand) (nn.Module, error) {
	in := sp.InputShape[0] * sp.InputShape[1] * sp.InputShape[2]
	return nn.NewSequential("lenet300",
		&nn.Flatten{LayerName: "flatten"},
		nn.NewLinear("fc1", in, 300, true, rng),
		&nn.ReLU{LayerName: "relu1"},
		nn.NewLinear("fc2", 300, 100, true, rng),
		&nn.ReLU{LayerName: "relu2"},
		nn.NewLinear("fc3", 100, sp.Classes, true, rng),
	), nil
}

// vggSmall is a small VGG with BN-folded convolutions: [conv3×3 16 BN
// ReLU]×2, pool, [conv3×3 32 BN ReLU]×2, pool, fc →128 ReLU, dropout 0.5,
// fc (about 5 MFLOP per 28×28 image, so that bit-width sweeps with
// fine-tuning stay affordable on two cores).
func vggSmall(sp Spec, rng *rand.Rand) (nn.Module, error) {
	c, h, w := sp.InputShape[0], sp.InputShape[1], sp.InputShape[2]
	if h < 4 || w < 4 {
		return nil, fmt.Errorf("input %dx%d is smaller than VGG-small's 4x4 minimum", h, w)
	}
	p1 := nn.ConvOpts{Padding: 1}
	return nn.NewSequential("vgg-small",
		nn.NewConvBn("conv1", c, 16, 3, p1, rng), &nn.ReLU{LayerName: "relu1"},
		nn.NewConvBn("conv2", 16, 16, 3, p1, rng), &nn.ReLU{LayerName: "relu2"},
		&nn.MaxPool2d{LayerName: "pool1", Kernel: 2},
		nn.NewConvBn("conv3", 16, 32, 3, p1, rng), &nn.ReLU{LayerName: "relu3"},
		nn.NewConvBn("conv4", 32, 32, 3, p1, rng), &nn.ReLU{LayerName: "relu4"},
		&nn.MaxPool2d{LayerName: "pool2", Kernel: 2},
		&nn.Flatten{LayerName: "flatten"},
		nn.NewLinear("fc1", 32*(h/4)*(w/4), 128, true, rng), &nn.ReLU{LayerName: "relu5"},
		nn.NewDropout("drop1", 0.5, rng),
		nn.NewLinear("fc2", 128, sp.Classes, true, rng),
	), nil
}

// convBN is a bias-free convolution followed by a batch norm, PyTorch
// style (qconfig.Prepare folds the pair into a ConvBn).
func convBN(name string, in, outC, k, stride, groups int, rng *rand.Rand) []nn.Module {
	return []nn.Module{
		nn.NewConv2d(name, in, outC, k, nn.ConvOpts{Stride: stride, Padding: k / 2, Groups: groups, NoBias: true}, rng),
		nn.NewBatchNorm2d(name+".bn", outC),
	}
}

func seq(name string, parts ...[]nn.Module) *nn.Sequential {
	var ms []nn.Module
	for _, p := range parts {
		ms = append(ms, p...)
	}
	return nn.NewSequential(name, ms...)
}

func relu(name string) []nn.Module  { return []nn.Module{&nn.ReLU{LayerName: name}} }
func relu6(name string) []nn.Module { return []nn.Module{&nn.ReLU6{LayerName: name}} }

// resnet20 is He et al.'s CIFAR ResNet-20: conv3×3 16, three stages of three
// basic blocks (16, 32, 64 channels; the second and third start with
// stride 2 and a 1×1 projection shortcut), global average pooling, fc.
func resnet20(sp Spec, rng *rand.Rand) (nn.Module, error) {
	c := sp.InputShape[0]
	layers := []nn.Module{seq("stem", convBN("conv1", c, 16, 3, 1, 1, rng), relu("relu"))}
	in := 16
	for s, width := range []int{16, 32, 64} {
		for b := range 3 {
			stride := 1
			if s > 0 && b == 0 {
				stride = 2
			}
			name := fmt.Sprintf("s%d.b%d", s+1, b)
			body := seq(name+".body",
				convBN(name+".conv1", in, width, 3, stride, 1, rng), relu(name+".relu1"),
				convBN(name+".conv2", width, width, 3, 1, 1, rng))
			var short nn.Module
			if stride != 1 || in != width {
				short = seq(name+".short", convBN(name+".proj", in, width, 1, stride, 1, rng))
			}
			layers = append(layers, nn.NewResidual(name, body, short), &nn.ReLU{LayerName: name + ".relu"})
			in = width
		}
	}
	layers = append(layers, &nn.GlobalAvgPool{LayerName: "gap"}, nn.NewLinear("fc", 64, sp.Classes, true, rng))
	return nn.NewSequential("resnet20", layers...), nil
}

// mobilenetV2 is a small MobileNetV2 for 28×28 inputs: a 3×3 stem (stride 1),
// inverted residual blocks (expansion t, 1×1 expand + ReLU6, depthwise 3×3 +
// ReLU6, linear 1×1 projection, residual when the shape is kept), a 1×1
// conv to 256 + ReLU6, global average pooling and fc.
func mobilenetV2(sp Spec, rng *rand.Rand) (nn.Module, error) {
	c := sp.InputShape[0]
	layers := []nn.Module{seq("stem", convBN("stem.conv", c, 16, 3, 1, 1, rng), relu6("stem.relu6"))}
	in := 16
	i := 0
	for _, cfg := range []struct{ t, c, n, s int }{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 2, 2}, {6, 64, 2, 2}, {6, 96, 1, 1}} {
		for r := range cfg.n {
			stride := 1
			if r == 0 {
				stride = cfg.s
			}
			name := fmt.Sprintf("ir%d", i)
			i++
			hidden := in * cfg.t
			var parts [][]nn.Module
			if cfg.t != 1 {
				parts = append(parts, convBN(name+".expand", in, hidden, 1, 1, 1, rng), relu6(name+".relu6a"))
			}
			parts = append(parts, convBN(name+".dw", hidden, hidden, 3, stride, hidden, rng), relu6(name+".relu6b"),
				convBN(name+".project", hidden, cfg.c, 1, 1, 1, rng))
			body := seq(name+".body", parts...)
			if stride == 1 && in == cfg.c {
				layers = append(layers, nn.NewResidual(name, body, nil))
			} else {
				layers = append(layers, body)
			}
			in = cfg.c
		}
	}
	layers = append(layers, seq("head", convBN("head.conv", in, 256, 1, 1, 1, rng), relu6("head.relu6")),
		&nn.GlobalAvgPool{LayerName: "gap"}, nn.NewLinear("fc", 256, sp.Classes, true, rng))
	return nn.NewSequential("mobilenetv2", layers...), nil
}
