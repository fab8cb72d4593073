package main

import (
	"errors"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/qatgo/qatgo/internal/cpufeat"
)

func supported() error {
	if !cpufeat.Detect("").AVX2 {
		return errors.New("needs AVX2")
	}
	if runtime.NumCPU() < 2 {
		return errors.New("needs 2 CPUs")
	}
	return nil
}

func pin(cpu int) error {
	var s unix.CPUSet
	s.Set(cpu)
	return unix.SchedSetaffinity(0, &s)
}

//go:noescape
func sumY(p *float32, n int) float32

//go:noescape
func fillY(p *float32, n int, v float32)

// sum and fill read and write b (its length a multiple of 32) by 32-byte
// vectors, four at a time.
func sum(b []float32)             { sumY(&b[0], len(b)) }
func fill(b []float32, v float32) { fillY(&b[0], len(b), v) }
