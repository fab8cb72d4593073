// Package lenet5infer holds a benchmark of qatgo's float32 inference of
// LeNet-5 (nn, gorgonia evaluation graph) at batch 256, the reference for
// the integer runtime's speed (intruntime's BenchmarkLeNet5):
//
//	GOEXPERIMENT=simd go test -run '^$' -bench . -benchtime 1s -count 3 -cpu 1,2 ./bench/lenet5infer/
package lenet5infer
