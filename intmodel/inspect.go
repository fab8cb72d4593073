package intmodel

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// LayerInfo summarizes one layer for `qatgo inspect`.
type LayerInfo struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	// From lists the tensors the layer reads (0: the model input, j+1:
	// layer j's output); In is the first one's shape.
	From []int `json:"from"`
	In   Shape `json:"in"`
	Out  Shape `json:"out"`
	// Groups is a grouped convolution's group count (0 otherwise).
	Groups int `json:"groups,omitempty"`
	// WeightBits is 0 for layers without weights.
	WeightBits int `json:"weight_bits,omitempty"`
	// PerChannel says the weights have one scale per output channel.
	PerChannel bool `json:"per_channel,omitempty"`
	// ActBits and ActSigned describe the output activation codes.
	ActBits   int  `json:"act_bits"`
	ActSigned bool `json:"act_signed"`
	// ReLU says the clamp has a fused ReLU (QMin ≥ output zero point);
	// ReLU6 that it also stops at the code of real 6 (ClampFor).
	ReLU  bool `json:"relu,omitempty"`
	ReLU6 bool `json:"relu6,omitempty"`
	// Weights and Biases count parameters.
	Weights int `json:"weights"`
	Biases  int `json:"biases"`
	// StoredBytes is what the file spends on the layer's parameters:
	// packed weights, int32 biases, and per channel an int32 M0, a shift
	// (counted as 1 byte) and a float32 weight scale. FP32Bytes is
	// 4·(Weights+Biases), the float model's storage.
	StoredBytes int `json:"stored_bytes"`
	FP32Bytes   int `json:"fp32_bytes"`
	// MACs is the layer's multiply-adds per image: a convolution's weights
	// times its output positions, a linear layer's weights; 0 for adds,
	// pools and the rest, whose cost is a few operations per value.
	MACs int64 `json:"macs"`
}

// Summary is the result of Inspect.
type Summary struct {
	Input       ActQuant    `json:"input"`
	InputShape  Shape       `json:"input_shape"`
	Output      ActQuant    `json:"output"`
	Layers      []LayerInfo `json:"layers"`
	Weights     int         `json:"weights"`
	StoredBytes int         `json:"stored_bytes"`
	FP32Bytes   int         `json:"fp32_bytes"`
	// MACs is the model's multiply-adds per image (the layers' sum).
	MACs int64 `json:"macs"`
}

// Inspect validates m and summarizes it layer by layer.
func Inspect(m *Model) (*Summary, error) {
	shapes, acts, err := m.analyze()
	if err != nil {
		return nil, err
	}
	s := &Summary{Input: m.Input, InputShape: m.InputShape, Output: m.Output}
	for i, l := range m.Layers {
		from := m.LayerInputs(i)
		li := LayerInfo{Index: i, Name: l.LayerName(), Kind: l.Kind().String(), From: append([]int(nil), from...),
			In: shapes[from[0]], Out: shapes[i+1]}
		act := acts[i+1]
		var q *Quantized
		var outC int
		switch l := l.(type) {
		case *Conv2d:
			q, outC = &l.Quantized, l.OutChannels
			if l.NumGroups() > 1 {
				li.Groups = l.NumGroups()
			}
			// Each weight (out channel × in channels per group × kh × kw)
			// multiplies once per output position.
			li.MACs = int64(len(l.Weights)) * int64(li.Out.H) * int64(li.Out.W)
		case *Linear:
			q, outC = &l.Quantized, l.OutFeatures
			li.MACs = int64(len(l.Weights))
		case *Add:
			li.ReLU, li.ReLU6 = fused(l.Out, l.QMin, l.QMax)
		}
		if q != nil {
			li.WeightBits = q.WeightBits
			li.PerChannel = len(q.WeightScale) > 1
			li.ReLU, li.ReLU6 = fused(q.OutAct, q.QMin, q.QMax)
			li.Weights = len(q.Weights)
			if q.Bias != nil {
				li.Biases = len(q.Bias)
			}
			li.StoredBytes = PackedLen(li.Weights, q.WeightBits) + 4*li.Biases + outC*(4+1) + 4*len(q.WeightScale)
			li.FP32Bytes = 4 * (li.Weights + li.Biases)
		}
		li.ActBits, li.ActSigned = act.Bits, act.Signed
		s.Layers = append(s.Layers, li)
		s.Weights += li.Weights
		s.StoredBytes += li.StoredBytes
		s.FP32Bytes += li.FP32Bytes
		s.MACs += li.MACs
	}
	return s, nil
}

// WriteText prints s as an aligned table.
func (s *Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "input %v  %d-bit %s  S=%g Z=%d\n", s.InputShape, s.Input.Bits, signedness(s.Input.Signed), s.Input.Scale, s.Input.ZeroPoint)
	fmt.Fprintln(tw, "#\tname\tkind\tfrom\tin\tout\tw-bits\tact\tweights\tstored B\tfp32 B\tMACs")
	for _, l := range s.Layers {
		wb := "-"
		if l.WeightBits > 0 {
			wb = fmt.Sprint(l.WeightBits)
			if l.PerChannel {
				wb += "/ch"
			}
		}
		act := fmt.Sprintf("%s%d", map[bool]string{true: "i", false: "u"}[l.ActSigned], l.ActBits)
		switch {
		case l.ReLU6:
			act += "+relu6"
		case l.ReLU:
			act += "+relu"
		}
		kind := l.Kind
		if l.Groups > 1 {
			kind += fmt.Sprintf("/g%d", l.Groups)
		}
		from := ""
		for k, t := range l.From {
			if k > 0 {
				from += ","
			}
			from += fmt.Sprintf("t%d", t)
		}
		macs := "-"
		if l.MACs > 0 {
			macs = fmt.Sprint(l.MACs)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%v\t%v\t%s\t%s\t%d\t%d\t%d\t%s\n", l.Index, l.Name, kind, from, l.In, l.Out, wb, act, l.Weights, l.StoredBytes, l.FP32Bytes, macs)
	}
	ratio := 0.0
	if s.StoredBytes > 0 {
		ratio = float64(s.FP32Bytes) / float64(s.StoredBytes)
	}
	fmt.Fprintf(tw, "total\t\t\t\t\t\t\t\t%d\t%d\t%d\t%d\t(%.2fx smaller; %s multiply-adds per image)\n", s.Weights, s.StoredBytes, s.FP32Bytes, s.MACs, ratio, humanCount(s.MACs))
	fmt.Fprintf(tw, "output dequant S=%g Z=%d\n", s.Output.Scale, s.Output.ZeroPoint)
	return tw.Flush()
}

// humanCount writes n with a k, M or G suffix (3 significant digits).
func humanCount(n int64) string {
	switch v := float64(n); {
	case v >= 1e9:
		return fmt.Sprintf("%.3gG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprint(n)
}

func signedness(s bool) string {
	if s {
		return "signed"
	}
	return "unsigned"
}

// fused reports which activation a clamp [qmin, qmax] of out fuses: a ReLU
// (qmin at the zero point, above the range's bottom) and a ReLU6 (qmax at
// ClampFor's bound for ReLU6, below the range's top).
func fused(out ActQuant, qmin, qmax int32) (relu, relu6 bool) {
	lo, hi := out.Range()
	_, hi6 := ClampFor(out, true, true)
	relu6 = qmax == hi6 && hi6 < hi && qmin >= out.ZeroPoint
	relu = qmin >= out.ZeroPoint && (qmin > lo || relu6)
	return relu, relu6
}
