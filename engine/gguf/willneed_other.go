//go:build !unix && !windows

package gguf

// WillNeed does nothing where models are read into memory, not mapped.
func WillNeed(b []byte) error { return nil }

// DontNeed does nothing where models are read into memory, not mapped.
func DontNeed(b []byte) error { return nil }
