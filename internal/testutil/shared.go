// Package testutil finds the fixtures tests read: the shared set beside
// the project root (../shared, or $ASDSL_SHARED) when it is there, else
// the copies in the module's testdata/ (testdata/README.md), so a fresh
// clone passes its tests. A test whose fixture only ../shared holds is
// skipped with one line saying so; .ci/run has ../shared and runs them.
package testutil

import (
	"os"
	"path/filepath"
	"testing"

	"asdsl-bench/internal/shared"
)

// HaveShared reports whether ../shared is present, and why not.
func HaveShared() (string, error) { return shared.Dir() }

// Root is the module's root directory (where go.mod is).
func Root(t testing.TB) string {
	t.Helper()
	root, err := shared.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// Fixture returns the path of a shared fixture, rel being its path
// inside ../shared (e.g. "fixtures/llamacpp-golden/llama-f32.gguf"):
// there when ../shared is present, else local (a path under the module's
// testdata/), else the test is skipped.
func Fixture(t testing.TB, rel, local string) string {
	t.Helper()
	if d, err := shared.Dir(); err == nil {
		return filepath.Join(d, rel)
	}
	if local != "" {
		p := filepath.Join(Root(t), "testdata", local)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	_, why := shared.Dir()
	t.Skipf("%s is in ../shared only, which is not here: not run (%v)", rel, why)
	return ""
}

// Golden returns the path of a file in fixtures/llamacpp-golden (the
// small models, llama.cpp's logits and greedy tokens).
func Golden(t testing.TB, name string) string {
	t.Helper()
	return Fixture(t, filepath.Join("fixtures", "llamacpp-golden", name), filepath.Join("golden", name))
}

// SharedOnly returns ../shared, or skips the test: for fixtures too big
// to copy (intermediates, p512 logits, WikiText-2 whole, binaries).
func SharedOnly(t testing.TB, what string) string {
	t.Helper()
	d, err := shared.Dir()
	if err != nil {
		t.Skipf("%s: in ../shared only, which is not here: not run (%v)", what, err)
	}
	return d
}
