//go:build !amd64

package main

import "github.com/qatgo/qatgo/internal/cpufeat"

func kernels(cpufeat.Features) []kernel { return nil }
