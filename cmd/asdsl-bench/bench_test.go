package main

import (
	"strings"
	"testing"

	"asdsl-bench/internal/testutil"
)

// bench --curve prints each size's cost with the machine's balance
// beside it: the weight stream against the read bandwidth, the
// multiply-adds against the int8 peak, and what a flat curve would need.
func TestBenchCurveCommand(t *testing.T) {
	out, err := captureStdout(t, func() error {
		return runBench([]string{"-m", testutil.Golden(t, "llama-Q4_K_M.gguf"), "-t", "1", "-r", "1", "--curve", "1,3"})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"vs first", "weights GB/s", "matmul GMAC/s", "flat needs", "read bandwidth", "1.00x"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// A batch past the model's context is refused before anything runs.
	if err := runBench([]string{"-m", testutil.Golden(t, "llama-Q4_K_M.gguf"), "-t", "1", "--curve", "1,100000"}); err == nil || !strings.Contains(err.Error(), "context") {
		t.Fatalf("curve past the context: %v", err)
	}
}
