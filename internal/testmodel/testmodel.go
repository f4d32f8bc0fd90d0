// Package testmodel gives tests the models they share: generated mocks
// loaded into the engine, cached in the test's temporary directory.
package testmodel

import (
	"testing"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/mock"
	"asdsl-bench/engine/quant"
)

// SmallQ4KM loads the "small" mock shape (4 layers, 1024 wide) quantized
// as Q4_K_M: milliseconds per token, so timing tests measure the engine
// rather than the scheduler. It is closed when the test ends.
func SmallQ4KM(t testing.TB) *engine.Model {
	t.Helper()
	m, err := engine.Load(SmallQ4KMPath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// SmallQ4KMPath writes the same model into the test's temporary
// directory (ASDSL_CACHE) and returns its path, for tests that run it in
// another process.
func SmallQ4KMPath(t testing.TB) string {
	t.Helper()
	t.Setenv("ASDSL_CACHE", t.TempDir())
	shape, err := mock.Lookup("small")
	if err != nil {
		t.Fatal(err)
	}
	path, err := mock.Cached(mock.Options{Shape: shape, Type: gguf.TypeF32, Quant: quant.FileQ4_KM, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return path
}
