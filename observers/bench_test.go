package observers

import (
	"math/rand/v2"
	"testing"

	"github.com/qatgo/qatgo/fakequant"
)

const benchN = 1 << 20

func benchData() []float32 {
	rng := rand.New(rand.NewPCG(9, 10))
	x := make([]float32, benchN)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// BenchmarkObserve times Observe of a 2^20-element batch for every observer
// and reports ns per element. Run: go test ./observers -run '^$' -bench Observe
func BenchmarkObserve(b *testing.B) {
	x := benchData()
	withNaN := append([]float32(nil), x...)
	withNaN[benchN/2] = nan
	mk := func(f func() (fakequant.Observer, error)) fakequant.Observer {
		o, err := f()
		if err != nil {
			b.Fatal(err)
		}
		return o
	}
	for _, test := range []struct {
		name  string
		o     fakequant.Observer
		x     []float32
		shape []int
	}{
		{"minmax", mk(func() (fakequant.Observer, error) { return NewMinMax(u8) }), x, []int{benchN}},
		{"minmax-with-NaN", mk(func() (fakequant.Observer, error) { return NewMinMax(u8) }), withNaN, []int{benchN}},
		{"ema", mk(func() (fakequant.Observer, error) { return NewMovingAverageMinMax(u8, 0.01) }), x, []int{benchN}},
		{"minmax-per-channel-axis0-64ch", mk(func() (fakequant.Observer, error) { return NewPerChannelMinMax(perChannel(i8sym, 0)) }), x, []int{64, benchN / 64}},
		{"ema-per-channel-axis0-64ch", mk(func() (fakequant.Observer, error) {
			return NewPerChannelMovingAverageMinMax(perChannel(i8sym, 0), 0.01)
		}), x, []int{64, benchN / 64}},
		{"minmax-per-channel-axis0-4096ch-x16x16", mk(func() (fakequant.Observer, error) { return NewPerChannelMinMax(perChannel(i8sym, 0)) }), x, []int{4096, 16, 16}},
		{"minmax-per-channel-axis1-64ch-last", mk(func() (fakequant.Observer, error) { return NewPerChannelMinMax(perChannel(i8sym, 1)) }), x, []int{benchN / 64, 64}},
		{"histogram", mk(func() (fakequant.Observer, error) {
			return NewHistogram(u8, DefaultBins, DefaultLowPercentile, DefaultHighPercentile)
		}), x, []int{benchN}},
		{"mse", mk(func() (fakequant.Observer, error) { return NewMSE(u8, DefaultBins, DefaultMSESteps) }), x, []int{benchN}},
		{"entropy", mk(func() (fakequant.Observer, error) { return NewEntropy(i8sym, DefaultBins) }), x, []int{benchN}},
	} {
		b.Run(test.name, func(b *testing.B) {
			b.SetBytes(4 * benchN)
			for b.Loop() {
				if err := test.o.Observe(test.x, test.shape); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchN, "ns/elem")
		})
	}
}

// BenchmarkRange times the search of the histogram-family observers after
// one 2^20-element batch (Range is cached, so it is reset each time).
// Run: go test ./observers -run '^$' -bench Range
func BenchmarkRange(b *testing.B) {
	x := benchData()
	b.Run("histogram", func(b *testing.B) {
		o, _ := NewHistogram(u8, DefaultBins, DefaultLowPercentile, DefaultHighPercentile)
		o.Observe(x, []int{benchN})
		for b.Loop() {
			o.Range()
		}
	})
	for _, s := range []fakequant.QScheme{u8, i8sym} {
		b.Run("mse-"+s.String(), func(b *testing.B) {
			o, _ := NewMSE(s, DefaultBins, DefaultMSESteps)
			o.Observe(x, []int{benchN})
			for b.Loop() {
				o.cached = false
				o.Range()
			}
		})
		b.Run("entropy-"+s.String(), func(b *testing.B) {
			o, _ := NewEntropy(s, DefaultBins)
			o.Observe(x, []int{benchN})
			for b.Loop() {
				o.cached = false
				o.Range()
			}
		})
	}
}
