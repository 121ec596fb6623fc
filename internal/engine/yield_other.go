//go:build !linux

package engine

// osYield: elsewhere only the Go scheduler yields (runtime.Gosched).
func osYield() {}
