//go:build !unix && !windows

package gguf

// WillNeed does nothing where models are read into memory, not mapped.
func WillNeed(b []byte) error { return nil }

// dontNeed does nothing where models are read into memory, not mapped.
func dontNeed(b []byte) error { return nil }

// mapsFiles says whether Open maps files (rather than reading them).
const mapsFiles = false
