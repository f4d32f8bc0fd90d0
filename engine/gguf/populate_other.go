//go:build !linux

package gguf

// Populate is WillNeed where madvise cannot populate a range.
func Populate(b []byte) error { return WillNeed(b) }
