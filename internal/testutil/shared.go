// Package testutil locates the shared fixtures that live beside the
// project root (../shared), which tests read in place and never copy.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// SharedDir returns the shared/ directory: $ASDSL_SHARED if set, else
// ../shared beside the module root. Tests fail (not skip) when it is
// missing: a golden test that silently skips proves nothing.
func SharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("ASDSL_SHARED"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			s := filepath.Join(dir, "..", "shared")
			if _, err := os.Stat(s); err != nil {
				t.Fatalf("shared fixtures not found at %s (set ASDSL_SHARED): %v", s, err)
			}
			return s
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("module root not found")
		}
		dir = parent
	}
}

// Golden returns the path of a file in fixtures/llamacpp-golden.
func Golden(t testing.TB, name string) string {
	return filepath.Join(SharedDir(t), "fixtures", "llamacpp-golden", name)
}
