package cli

import (
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/train"
)

// Bounds of the numeric flags of train that are not bounded by their meaning.
const (
	maxBatch  = 1 << 16
	maxEpochs = 1 << 20
	// maxIntActBits is the widest integer activation that trains and
	// evaluates: nn's integer-exact evaluation recovers activation codes
	// from float32 values, and 15- and 16-bit grids fail its on-grid check
	// (measured: w8a16 trained an epoch, then failed in evaluation). 9..14
	// bits are simulation only: export holds at most 8 (simNote says so).
	maxIntActBits = 14
	// maxExportBits is the widest weight or activation the integer model
	// (export, intruntime, ONNX) holds.
	maxExportBits = 8
)

// errFlag marks a flag value refused at parse time.
var errFlag = errors.New("invalid flag")

func flagErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errFlag, fmt.Sprintf(format, a...))
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// validate checks every field of a run config before anything is created,
// so that a bad flag gives one line and no run directory.
func (c *RunConfig) validate() error {
	if c.Batch < 1 || c.Batch > maxBatch {
		return flagErr("--batch %d: want 1..%d", c.Batch, maxBatch)
	}
	if !c.PTQ && (c.Epochs < 1 || c.Epochs > maxEpochs) {
		return flagErr("--epochs %d: want 1..%d", c.Epochs, maxEpochs)
	}
	if !finite(c.LR) || c.LR <= 0 || c.LR > math.MaxFloat32 {
		return flagErr("--lr %v: want a finite number > 0", c.LR)
	}
	if !finite(c.Momentum) || c.Momentum < 0 || c.Momentum >= 1 {
		return flagErr("--momentum %v: want a number in [0, 1)", c.Momentum)
	}
	if !finite(c.WeightDecay) || c.WeightDecay < 0 || c.WeightDecay > math.MaxFloat32 {
		return flagErr("--weight-decay %v: want a finite number ≥ 0", c.WeightDecay)
	}
	if _, err := train.NewOptimizer(c.Optimizer, float32(c.Momentum), float32(c.WeightDecay)); err != nil {
		return fmt.Errorf("%w: --optimizer: %v", errFlag, err)
	}
	if _, err := train.ParseSchedule(c.Schedule, max(c.Epochs, 1)); err != nil {
		return fmt.Errorf("%w: --schedule: %v", errFlag, err)
	}
	if c.TrainLimit < 0 || c.TestLimit < 0 {
		return flagErr("--train-limit %d, --test-limit %d: want ≥ 0 (0: all)", c.TrainLimit, c.TestLimit)
	}
	if c.CalibImages < 1 {
		return flagErr("--calib-images %d: want ≥ 1", c.CalibImages)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"freeze-observers-epoch", c.FreezeObservers}, {"freeze-bn-epoch", c.FreezeBN}} {
		if f.v < -1 {
			return flagErr("--%s %d: want an epoch ≥ 0, or -1 for never", f.name, f.v)
		}
	}
	if c.FreezeObservers == 0 && !c.PTQ {
		return flagErr("--freeze-observers-epoch 0 would freeze the quantizers before they observe any range; use 1 or later (or --ptq to calibrate)")
	}
	q, err := qconfig.Parse(c.Quant)
	if err != nil {
		return fmt.Errorf("%w: --quant: %v", errFlag, err)
	}
	if c.QuantFile != "" {
		if err := loadOverrides(&q, c.QuantFile); err != nil {
			return fmt.Errorf("%w: --quant-config: %v", errFlag, err)
		}
	}
	if err := checkActBits(q); err != nil {
		return err
	}
	c.note = simNote(q)
	if c.PTQ && q.Weight == nil && q.Act == nil && len(q.Overrides) == 0 {
		return flagErr("--ptq with --quant fp32 has nothing to calibrate; give a quantized --quant")
	}
	if c.Init != "" {
		if _, err := os.Stat(c.Init); err != nil {
			return fmt.Errorf("%w: --init: %v", errFlag, err)
		}
	}
	return nil
}

// checkActBits refuses integer activations wider than the pipeline carries
// (w8a16 used to train a whole epoch and then fail in evaluation). Float
// formats and 32 (float) are fine.
func checkActBits(q qconfig.Config) error {
	if a := q.Act; a != nil && isIntMethod(a.Method) && a.Scheme.Bits > maxIntActBits {
		return flagErr("--quant %s: %d-bit activations: integer activations take 1..%d bits (8 to export; a32 keeps them float)", q.Spec, a.Scheme.Bits, maxIntActBits)
	}
	for name, o := range q.Overrides {
		if o.ActBits != nil && *o.ActBits > maxIntActBits && *o.ActBits != 32 {
			return flagErr("--quant-config: layer %s: act_bits %d: integer activations take 1..%d bits (8 to export; 32 keeps them float)", name, *o.ActBits, maxIntActBits)
		}
	}
	return nil
}

func isIntMethod(m string) bool { return m == "affine" || m == "lsq" || m == "pot" || m == "" }

// simNote says when a valid config cannot be exported as an integer model
// (wider than maxExportBits), so nobody learns it only at export time.
func simNote(q qconfig.Config) string {
	wide := func(t *qconfig.TensorQuant) bool {
		return t != nil && isIntMethod(t.Method) && t.Scheme.Bits > maxExportBits
	}
	over := false
	for _, o := range q.Overrides {
		for _, b := range []*int{o.WeightBits, o.ActBits} {
			over = over || (b != nil && *b > maxExportBits && *b != 32)
		}
	}
	if wide(q.Weight) || wide(q.Act) || over {
		return fmt.Sprintf("note: --quant %s uses more than %d bits; it trains and evaluates as a simulation, but qatgo export (integer model, ONNX) will refuse it", q.Spec, maxExportBits)
	}
	return ""
}

// maxQuantConfig bounds a --quant-config file (a real one is a few KiB).
const maxQuantConfig = 1 << 20

// loadOverrides reads a --quant-config file into q, refusing a file too
// large to be one before reading it whole.
func loadOverrides(q *qconfig.Config, path string) error {
	b, err := readSmallFile(path, maxQuantConfig)
	if err != nil {
		return err
	}
	m, err := qconfig.ParseOverrides(b)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	q.Overrides = m
	return nil
}

// numCheck is one numeric flag's bound, for the commands other than train.
type numCheck struct {
	name string
	ok   bool
	want string
	v    any
}

// checkNums returns the first failed check as a one-line flag error.
func checkNums(cs ...numCheck) error {
	for _, c := range cs {
		if !c.ok {
			return flagErr("--%s %v: want %s", c.name, c.v, c.want)
		}
	}
	return nil
}

func positiveF(name string, v float64) numCheck {
	return numCheck{name, finite(v) && v > 0 && v <= math.MaxFloat32, "a finite number > 0", v}
}

func nonNegF(name string, v float64) numCheck {
	return numCheck{name, finite(v) && v >= 0 && v <= math.MaxFloat32, "a finite number ≥ 0", v}
}

func unitF(name string, v float64) numCheck {
	return numCheck{name, finite(v) && v >= 0 && v < 1, "a number in [0, 1)", v}
}

func intIn(name string, v, lo, hi int) numCheck {
	return numCheck{name, v >= lo && v <= hi, fmt.Sprintf("%d..%d", lo, hi), v}
}
