package nn_test

import (
	"math/rand"

	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
)

func init() {
	nn.SetTestHooks(func(name, spec string, seed int64) (nn.Module, error) {
		q, err := qconfig.Parse(spec)
		if err != nil {
			return nil, err
		}
		return zoo.New(name, q, rand.New(rand.NewSource(seed)))
	}, func(m nn.Module, spec string) (nn.Module, error) {
		q, err := qconfig.Parse(spec)
		if err != nil {
			return nil, err
		}
		return qconfig.Prepare(m, q)
	})
}
