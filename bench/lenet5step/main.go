// Command lenet5step measures LeNet-5 (Caffe variant) training throughput at
// batch 64 on synthetic MNIST-shaped data, with stock gorgonia ops or with
// package kernels' ops, in one graph built once and run with one tape
// machine (G.Let per batch, Reset between steps, plain SGD written inline).
//
//	go run ./bench/lenet5step -ops kernels -steps 200
//	GOEXPERIMENT=simd go run ./bench/lenet5step -ops kernels -steps 200 -cpuprofile k.prof
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"time"

	"github.com/qatgo/qatgo/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

const batch = 64

type net struct {
	g      *G.ExprGraph
	x, y   *G.Node
	loss   *G.Node
	params []*G.Node
	grads  G.Nodes
}

func param(g *G.ExprGraph, r *rand.Rand, name string, fanIn int, shape ...int) *G.Node {
	n := tensor.Shape(shape).TotalSize()
	d := make([]float32, n)
	lim := 1 / float32(fanIn)
	for i := range d {
		d[i] = (float32(r.Float64())*2 - 1) * lim * 3
	}
	t := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
	return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t))
}

func build(ops string, workers int, r *rand.Rand) (*net, error) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(batch, 1, 28, 28), G.WithName("x"))
	y := G.NewMatrix(g, tensor.Float32, G.WithShape(batch, 10), G.WithName("y"))
	w1 := param(g, r, "w1", 25, 20, 1, 5, 5)
	b1 := param(g, r, "b1", 25, 20)
	w2 := param(g, r, "w2", 500, 50, 20, 5, 5)
	b2 := param(g, r, "b2", 500, 50)
	var w3, w4 *G.Node
	if ops == "stock" {
		w3 = param(g, r, "w3", 800, 800, 500)
		w4 = param(g, r, "w4", 500, 500, 10)
	} else {
		w3 = param(g, r, "w3", 800, 500, 800) // (out, in) as PyTorch
		w4 = param(g, r, "w4", 500, 10, 500)
	}
	b3 := param(g, r, "b3", 800, 500)
	b4 := param(g, r, "b4", 500, 10)
	var logits *G.Node
	var err error
	switch ops {
	case "stock":
		convBias := func(in, w, b *G.Node, o int) *G.Node {
			c := G.Must(G.Conv2d(in, w, tensor.Shape{5, 5}, []int{0, 0}, []int{1, 1}, []int{1, 1}))
			br := G.Must(G.Reshape(b, tensor.Shape{1, o, 1, 1}))
			return G.Must(G.BroadcastAdd(c, br, nil, []byte{0, 2, 3}))
		}
		p1 := G.Must(G.MaxPool2D(convBias(x, w1, b1, 20), tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2}))
		p2 := G.Must(G.MaxPool2D(convBias(p1, w2, b2, 50), tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2}))
		f := G.Must(G.Reshape(p2, tensor.Shape{batch, 800}))
		h := G.Must(G.BroadcastAdd(G.Must(G.Mul(f, w3)), G.Must(G.Reshape(b3, tensor.Shape{1, 500})), nil, []byte{0}))
		h = G.Must(G.Rectify(h))
		logits = G.Must(G.BroadcastAdd(G.Must(G.Mul(h, w4)), G.Must(G.Reshape(b4, tensor.Shape{1, 10})), nil, []byte{0}))
	case "kernels":
		c1, err := kernels.Conv2d(x, w1, b1, kernels.ConvParams{NoInputGrad: true, Workers: workers})
		if err != nil {
			return nil, err
		}
		p1, err := kernels.MaxPool2d(c1, [2]int{2, 2}, [2]int{2, 2}, [2]int{})
		if err != nil {
			return nil, err
		}
		c2, err := kernels.Conv2d(p1, w2, b2, kernels.ConvParams{Workers: workers})
		if err != nil {
			return nil, err
		}
		p2, err := kernels.MaxPool2d(c2, [2]int{2, 2}, [2]int{2, 2}, [2]int{})
		if err != nil {
			return nil, err
		}
		f := G.Must(G.Reshape(p2, tensor.Shape{batch, 800}))
		h, err := kernels.Linear(f, w3, b3)
		if err != nil {
			return nil, err
		}
		h = G.Must(G.Rectify(h))
		if logits, err = kernels.Linear(h, w4, b4); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown -ops %q", ops)
	}
	logp := G.Must(G.LogSoftMax(logits))
	// mean over the batch of −Σ_k y_k log p_k
	loss := G.Must(G.Mul(G.Must(G.Mean(G.Must(G.HadamardProd(logp, y)))), G.NewConstant(float32(-10))))
	params := []*G.Node{w1, b1, w2, b2, w3, b3, w4, b4}
	grads, err := G.Grad(loss, params...)
	if err != nil {
		return nil, err
	}
	return &net{g: g, x: x, y: y, loss: loss, params: params, grads: grads}, nil
}

func main() {
	ops := flag.String("ops", "kernels", "stock or kernels")
	steps := flag.Int("steps", 100, "timed training steps")
	workers := flag.Int("workers", 0, "kernels.ConvParams.Workers (0: up to 2)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the timed steps")
	flag.Parse()
	r := rand.New(rand.NewPCG(1, 1))
	n, err := build(*ops, *workers, r)
	if err != nil {
		log.Fatal(err)
	}
	xs := make([]float32, batch*28*28)
	for i := range xs {
		xs[i] = float32(r.Float64())
	}
	ys := make([]float32, batch*10)
	for i := 0; i < batch; i++ {
		ys[i*10+r.IntN(10)] = 1
	}
	xt := tensor.New(tensor.WithShape(batch, 1, 28, 28), tensor.WithBacking(xs))
	yt := tensor.New(tensor.WithShape(batch, 10), tensor.WithBacking(ys))
	vm := G.NewTapeMachine(n.g)
	defer vm.Close()
	const lr = 0.01
	step := func() float32 {
		vm.Reset()
		if err := G.Let(n.x, xt); err != nil {
			log.Fatal(err)
		}
		if err := G.Let(n.y, yt); err != nil {
			log.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			log.Fatal(err)
		}
		for i, p := range n.params {
			w := p.Value().Data().([]float32)
			gr := n.grads[i].Value().Data().([]float32)
			for j, gv := range gr {
				w[j] -= lr * gv
			}
		}
		return n.loss.Value().Data().(float32)
	}
	first := step()
	for range 4 {
		step()
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	t0 := time.Now()
	var last float32
	for range *steps {
		last = step()
	}
	el := time.Since(t0)
	fmt.Printf("ops=%s workers=%d steps=%d: %.0f img/s, %.2f ms/step, loss %.4f -> %.4f\n",
		*ops, *workers, *steps, float64(*steps*batch)/el.Seconds(), el.Seconds()*1e3/float64(*steps), first, last)
}
