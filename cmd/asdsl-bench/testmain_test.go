package main

import (
	"os"
	"testing"
)

// TestMain keeps the tests' runs out of the user's results database:
// the default one is created under a temporary data directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "asdsl-bench-data-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_DATA_HOME", dir)
	os.Unsetenv("ASDSL_DB")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
