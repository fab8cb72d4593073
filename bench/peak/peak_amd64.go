package main

import "github.com/qatgo/qatgo/internal/cpufeat"

func fmaZ(n int)
func fmaY(n int)
func dpbusdZ(n int)

func kernels(f cpufeat.Features) []kernel {
	return []kernel{
		// A float32 FMA is 2 FLOPs per lane.
		{"VFMADD231PS zmm (float32)", "GFLOP/s", 32, f.AVX512, fmaZ},
		{"VFMADD231PS ymm (float32)", "GFLOP/s", 16, f.AVX2, fmaY},
		// VPDPBUSD: 4 u8·s8 products into each of 16 int32 lanes.
		{"VPDPBUSD zmm (int8)", "G MAC/s", 64, f.VNNI, dpbusdZ},
	}
}
