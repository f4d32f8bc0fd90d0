// Package shared locates the project's shared fixtures directory
// (../shared beside the module root): golden llama.cpp outputs, CPU
// topology dumps, anchors. Tests and the harness read it in place.
package shared

import (
	"fmt"
	"os"
	"path/filepath"
)

// Dir returns $ASDSL_SHARED if set, else ../shared beside the nearest
// directory (from the working directory up) holding a go.mod.
func Dir() (string, error) {
	if d := os.Getenv("ASDSL_SHARED"); d != "" {
		if _, err := os.Stat(d); err != nil {
			return "", fmt.Errorf("shared fixtures not found: ASDSL_SHARED=%s: %v", d, err)
		}
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			s := filepath.Join(dir, "..", "shared")
			if _, err := os.Stat(s); err != nil {
				return "", fmt.Errorf("shared fixtures not found at %s (set ASDSL_SHARED)", s)
			}
			return s, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("shared fixtures not found: no go.mod above the working directory (set ASDSL_SHARED)")
		}
		dir = parent
	}
}

// Golden returns the path of a file in fixtures/llamacpp-golden.
func Golden(name string) (string, error) {
	d, err := Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "fixtures", "llamacpp-golden", name), nil
}
