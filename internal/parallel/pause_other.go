//go:build !amd64

package parallel

// pause is a no-op where there is no spin-wait hint in assembly here.
func pause(n int) {}
