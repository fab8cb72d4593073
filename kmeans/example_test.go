package kmeans_test

import (
	"fmt"

	"github.com/qatgo/qatgo/kmeans"
)

func ExampleCluster() {
	// The weights of a tiny layer; 0 marks pruned weights, not clustered.
	w := []float32{2.09, -0.98, 1.48, 0.09, 0.05, -0.14, -1.08, 2.12, -0.91, 1.92, 0, -1.03, 1.87, 0, 1.53, 1.49}
	r, err := kmeans.Cluster(w, kmeans.Options{K: 4, Init: kmeans.Linear, IgnoreZeros: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("centroids %.3f\n", r.Centroids)
	fmt.Println("assign", r.Assign)
	// Output:
	// centroids [-1.000 0.000 1.500 2.000]
	// assign [3 0 2 1 1 1 0 3 0 3 -1 0 3 -1 2 2]
}
