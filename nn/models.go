package nn

import (
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"

	"github.com/qatgo/qatgo/fakequant"
	G "gorgonia.org/gorgonia"
)

// ErrUnknownModel is returned (wrapped) by NewModel for names it does not know.
var ErrUnknownModel = errors.New("nn: unknown model")

// Model is a network with its input quantizer (PyTorch's QuantStub): the
// input is fake-quantized before the first layer, so the integer model
// knows the input's (S, Z).
type Model struct {
	ModelName string
	Body      *Sequential
	// InputQ quantizes the input; nil when activations stay float.
	InputQ fakequant.Quantizer
	Quant  QuantConfig
}

// NewQuantModel wraps body with quantizers from q.
func NewQuantModel(name string, body *Sequential, q QuantConfig) (*Model, error) {
	in, err := q.attach(body)
	if err != nil {
		return nil, err
	}
	return &Model{ModelName: name, Body: body, InputQ: in, Quant: q}, nil
}

func (m *Model) Name() string     { return m.ModelName }
func (m *Model) Params() []*Param { return m.Body.Params() }
func (m *Model) Quantizers() []NamedQuantizer {
	var qs []NamedQuantizer
	if m.InputQ != nil {
		qs = append(qs, NamedQuantizer{"input", m.InputQ})
	}
	return append(qs, m.Body.Quantizers()...)
}

func (m *Model) Build(b *Builder, x *G.Node) (*G.Node, error) {
	x, err := b.Quantize("input", m.InputQ, x)
	if err != nil {
		return nil, err
	}
	b.cur = nq("input", m.InputQ)
	return m.Body.Build(b, x)
}

var models = map[string]func(rng *rand.Rand) *Sequential{
	"lenet5":    lenet5,
	"lenet300":  lenet300,
	"vgg-small": vggSmall,
}

// ModelNames lists the names NewModel knows.
func ModelNames() []string {
	var ns []string
	for n := range models {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// NewModel builds a model by name ("lenet5", "lenet300", "vgg-small") for
// 1×28×28 inputs and 10 classes, initialised from rng, with quantizers from q.
func NewModel(name string, q QuantConfig, rng *rand.Rand) (Module, error) {
	f, ok := models[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (have %s)", ErrUnknownModel, name, strings.Join(ModelNames(), ", "))
	}
	if rng == nil {
		return nil, errors.New("nn: NewModel needs a random generator")
	}
	return NewQuantModel(name, f(rng), q)
}

// lenet5 is Caffe's LeNet-5 variant: no ReLU after the convolutions.
func lenet5(rng *rand.Rand) *Sequential {
	return NewSequential("lenet5",
		NewConv2d("conv1", 1, 20, 5, ConvOpts{}, rng),
		&MaxPool2d{LayerName: "pool1", Kernel: 2},
		NewConv2d("conv2", 20, 50, 5, ConvOpts{}, rng),
		&MaxPool2d{LayerName: "pool2", Kernel: 2},
		&Flatten{LayerName: "flatten"},
		NewLinear("fc1", 800, 500, true, rng),
		&ReLU{LayerName: "relu1"},
		NewLinear("fc2", 500, 10, true, rng),
	)
}

func lenet300(rng *rand.Rand) *Sequential {
	return NewSequential("lenet300",
		&Flatten{LayerName: "flatten"},
		NewLinear("fc1", 784, 300, true, rng),
		&ReLU{LayerName: "relu1"},
		NewLinear("fc2", 300, 100, true, rng),
		&ReLU{LayerName: "relu2"},
		NewLinear("fc3", 100, 10, true, rng),
	)
}

// vggSmall is a small VGG for 28×28 Fashion-MNIST with BN-folded
// convolutions: [conv3×3 16 BN ReLU]×2, pool, [conv3×3 32 BN ReLU]×2, pool,
// fc 1568→128 ReLU, dropout 0.5, fc 128→10 (about 5 MFLOP per image, so that
// bit-width sweeps with fine-tuning stay affordable on two cores).
func vggSmall(rng *rand.Rand) *Sequential {
	p1 := ConvOpts{Padding: 1}
	return NewSequential("vgg-small",
		NewConvBn("conv1", 1, 16, 3, p1, rng), &ReLU{LayerName: "relu1"},
		NewConvBn("conv2", 16, 16, 3, p1, rng), &ReLU{LayerName: "relu2"},
		&MaxPool2d{LayerName: "pool1", Kernel: 2},
		NewConvBn("conv3", 16, 32, 3, p1, rng), &ReLU{LayerName: "relu3"},
		NewConvBn("conv4", 32, 32, 3, p1, rng), &ReLU{LayerName: "relu4"},
		&MaxPool2d{LayerName: "pool2", Kernel: 2},
		&Flatten{LayerName: "flatten"},
		NewLinear("fc1", 1568, 128, true, rng), &ReLU{LayerName: "relu5"},
		NewDropout("drop1", 0.5, rng),
		NewLinear("fc2", 128, 10, true, rng),
	)
}
