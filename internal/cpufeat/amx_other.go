//go:build !(linux && amd64)

package cpufeat

// amxGranted: AMX is used on Linux only, where the kernel grants it.
func amxGranted() bool { return false }
