// Package shared locates the project's shared fixtures directory
// (../shared beside the module root): golden llama.cpp outputs, CPU
// topology dumps, anchors. Tests and the harness read it in place.
package shared

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Dir returns $ASDSL_SHARED if set, else ../shared beside the
// asdsl-bench checkout around the working directory (ModuleRoot).
func Dir() (string, error) {
	if d := os.Getenv("ASDSL_SHARED"); d != "" {
		if _, err := os.Stat(d); err != nil {
			return "", fmt.Errorf("shared fixtures not found: ASDSL_SHARED=%s: %v", d, err)
		}
		return d, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("shared fixtures not found: %v (set ASDSL_SHARED)", err)
	}
	s := filepath.Join(root, "..", "shared")
	if _, err := os.Stat(s); err != nil {
		return "", fmt.Errorf("shared fixtures not found at %s (set ASDSL_SHARED)", s)
	}
	return s, nil
}

// Golden returns the path of a file in fixtures/llamacpp-golden (see
// Fixture for where it is looked for).
func Golden(name string) (string, error) {
	return Fixture(filepath.Join("fixtures", "llamacpp-golden", name), filepath.Join("golden", name))
}

// Fixture finds a shared fixture for the binary's checks: rel inside
// ../shared (or $ASDSL_SHARED) when that is present, else local inside
// the source tree's testdata/ when the working directory is in an
// asdsl-bench checkout (which keeps copies of the small fixtures). The
// error says both places, so an installed binary run elsewhere tells
// the user what to point it at.
func Fixture(rel, local string) (string, error) {
	d, errShared := Dir()
	if errShared == nil {
		p := filepath.Join(d, rel)
		if _, err := os.Stat(p); err != nil {
			return "", err
		}
		return p, nil
	}
	if local != "" {
		if root, err := ModuleRoot(); err == nil {
			p := filepath.Join(root, "testdata", local)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("fixture %s not found: %v; a checkout of asdsl-bench has copies of the small ones in testdata/ (run from inside it), the rest only ../shared has", rel, errShared)
}

// ModuleRoot is the directory of the asdsl-bench go.mod at or above the
// working directory: the checkout the process runs in, if any.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module asdsl-bench\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("not inside an asdsl-bench checkout")
		}
		dir = parent
	}
}
