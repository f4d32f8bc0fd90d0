// Package testutil locates the shared fixtures that live beside the
// project root (../shared), which tests read in place and never copy.
package testutil

import (
	"path/filepath"
	"testing"

	"asdsl-bench/internal/shared"
)

// SharedDir returns the shared/ directory. Tests fail (not skip) when it
// is missing: a golden test that silently skips proves nothing.
func SharedDir(t testing.TB) string {
	t.Helper()
	d, err := shared.Dir()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Golden returns the path of a file in fixtures/llamacpp-golden.
func Golden(t testing.TB, name string) string {
	return filepath.Join(SharedDir(t), "fixtures", "llamacpp-golden", name)
}
