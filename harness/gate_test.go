package harness

import (
	"testing"

	"asdsl-bench/engine"
	"asdsl-bench/harness/measure"
	"asdsl-bench/harness/results"
	"asdsl-bench/internal/testutil"
)

// The regression gate, proven both ways with A/B runs interleaved in one
// session (as the gate compares builds): five comparisons of an
// unchanged engine with itself must not fire, and a deliberate 2x
// slowdown (the test-only switch measure.Options.Slowdown) must.
func TestGateIgnoresNoiseAndCatchesRegressions(t *testing.T) {
	m, err := engine.Load(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	so := engine.SessionOptions{Context: 128, Threads: 1}
	mo := measure.Options{Prompt: 32, Generate: 32, Seed: 1}
	const maxSlowdown, alpha, rounds = 0.25, 0.05, 9
	for trial := 0; trial < 5; trial++ {
		ds, err := ABCompare(m, so, so, mo, mo, rounds, alpha)
		if err != nil {
			t.Fatal(err)
		}
		if r := results.Regressions(ds, maxSlowdown); len(r) > 0 {
			t.Fatalf("trial %d: unchanged engine flagged: %+v", trial, r)
		}
	}
	slow := mo
	slow.Slowdown = 2
	ds, err := ABCompare(m, so, so, mo, slow, rounds, alpha)
	if err != nil {
		t.Fatal(err)
	}
	regs := results.Regressions(ds, maxSlowdown)
	caught := map[string]bool{}
	for _, r := range regs {
		caught[r.Metric] = true
	}
	if !caught["decode-tok/s"] || !caught["ttft-ms"] {
		t.Fatalf("2x slowdown not caught: %+v", ds)
	}
}
