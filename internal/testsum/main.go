// Command testsum reads `go test -json` on standard input and prints what
// plain `go test` prints (a line per package, the output of failed tests),
// then every skipped test with its reason and how many there were, so that
// CI shows what went unchecked. It exits 1 when a test or package failed.
//
//	go test -json ./... | go run ./internal/testsum
package main

import (
	"fmt"
	"os"
)

func main() {
	s, err := summarize(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(1)
	}
	if s.failed > 0 {
		os.Exit(1)
	}
}
