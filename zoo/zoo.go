// Package zoo holds the model registry: named constructors of float
// models for any input shape and class count, which the command line,
// sweeps and compression look models up in. Built-in models are LeNet-5,
// LeNet-300-100, VGG-small, ResNet-20 and a small MobileNetV2; a program
// registers its own model in a Registry and hands it to the command line
// (package cli) to get train, eval, export, sweep and compress for it.
//
// A Registry is a value (Default returns a new one with the built-ins), so
// two programs, or two tests, never share registrations.
package zoo

import (
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"

	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
)

// ErrUnknownModel is returned (wrapped) for names a Registry does not know.
var ErrUnknownModel = errors.New("zoo: unknown model")

// Spec is the input one sample has and the number of classes.
type Spec struct {
	InputShape [3]int // C, H, W
	Classes    int
}

// MNIST is the spec of MNIST and Fashion-MNIST: 1×28×28, 10 classes.
var MNIST = Spec{InputShape: [3]int{1, 28, 28}, Classes: 10}

func (s Spec) validate() error {
	if s.InputShape[0] < 1 || s.InputShape[1] < 1 || s.InputShape[2] < 1 || s.Classes < 1 {
		return fmt.Errorf("zoo: input shape %v with %d classes: every size must be positive", s.InputShape, s.Classes)
	}
	return nil
}

// Constructor builds a float model for spec, initialised from rng. It
// reports (rather than panics on) a spec it cannot take, e.g. an input too
// small for its pooling.
type Constructor func(spec Spec, rng *rand.Rand) (nn.Module, error)

// Registry maps model names to constructors.
type Registry struct {
	ctors map[string]Constructor
	docs  map[string]string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{ctors: map[string]Constructor{}, docs: map[string]string{}}
}

// Default returns a new registry holding the built-in models.
func Default() *Registry {
	r := NewRegistry()
	for _, b := range builtins {
		if err := r.Register(b.name, b.doc, b.ctor); err != nil {
			panic(err) // the built-in names are distinct: a programming error
		}
	}
	return r
}

// Register adds a model; doc is a one-line description. A name already
// registered, an empty name or a nil constructor is an error.
func (r *Registry) Register(name, doc string, c Constructor) error {
	if name == "" || strings.ContainsAny(name, " \t\n,") {
		return fmt.Errorf("zoo: model name %q must be non-empty without spaces or commas", name)
	}
	if c == nil {
		return fmt.Errorf("zoo: model %q: nil constructor", name)
	}
	if _, ok := r.ctors[name]; ok {
		return fmt.Errorf("zoo: model %q is already registered", name)
	}
	r.ctors[name], r.docs[name] = c, doc
	return nil
}

// Names lists the registered names, sorted.
func (r *Registry) Names() []string {
	ns := make([]string, 0, len(r.ctors))
	for n := range r.ctors {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// Doc returns a model's description.
func (r *Registry) Doc(name string) string { return r.docs[name] }

// Float builds the float model called name for spec.
func (r *Registry) Float(name string, spec Spec, rng *rand.Rand) (nn.Module, error) {
	c, ok := r.ctors[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (have %s)", ErrUnknownModel, name, strings.Join(r.Names(), ", "))
	}
	if rng == nil {
		return nil, errors.New("zoo: a model needs a random generator")
	}
	if err := spec.validate(); err != nil {
		return nil, err
	}
	m, err := c(spec, rng)
	if err != nil {
		return nil, fmt.Errorf("zoo: %s for input %v, %d classes: %w", name, spec.InputShape, spec.Classes, err)
	}
	if m == nil {
		return nil, fmt.Errorf("zoo: %s: the constructor returned no model", name)
	}
	return m, nil
}

// New builds the model called name for spec and prepares it for q
// (qconfig.Prepare): fused, with quantizers attached everywhere.
func (r *Registry) New(name string, spec Spec, q qconfig.Config, rng *rand.Rand) (*nn.Model, error) {
	m, err := r.Float(name, spec, rng)
	if err != nil {
		return nil, err
	}
	pm, err := qconfig.Prepare(m, q)
	if err != nil {
		return nil, err
	}
	pm.ModelName = name
	return pm, nil
}

// New builds a built-in model for MNIST-shaped data (1×28×28, 10 classes),
// prepared for q.
func New(name string, q qconfig.Config, rng *rand.Rand) (*nn.Model, error) {
	return Default().New(name, MNIST, q, rng)
}
