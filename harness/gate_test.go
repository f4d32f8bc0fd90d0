package harness

import (
	"testing"

	"asdsl-bench/engine"
	"asdsl-bench/harness/gate"
	"asdsl-bench/harness/measure"
	"asdsl-bench/internal/testmodel"
)

// The gate's judgement on in-process A/B runs (harness/gate proves it
// on fresh processes of two builds): five comparisons of an unchanged
// engine with itself are never a regression, and a deliberate 2x
// slowdown (the test-only switch measure.Options.Slowdown) is.
//
// The model is the small mock (milliseconds per token): with the tiny
// golden fixtures a step takes 0.4 ms, and when other test packages share
// the two cores the scheduler, not the engine, sets the timings. That
// load is what gate.Judge sees in each sample's disturbance: under it an
// unchanged engine may be inconclusive, never a regression.
func TestGateIgnoresNoiseAndCatchesRegressions(t *testing.T) {
	m := testmodel.SmallQ4KM(t)
	so := engine.SessionOptions{Context: 64, Threads: 1}
	mo := measure.Options{Prompt: 16, Generate: 16, Seed: 1}
	rules := gate.Rules{Alpha: 0.01, MaxSlowdown: 0.25, MaxDisturbance: 0.15}
	const rounds = 12
	for trial := 0; trial < 5; trial++ {
		js, err := ABCompare(m, so, so, mo, mo, rounds, rules)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range js {
			if j.Verdict == gate.Regression {
				t.Fatalf("trial %d: unchanged engine called a regression: %s %s", trial, j.Metric, j.Why)
			}
		}
	}
	// Under go test ./... other packages load the two cores; a comparison
	// the load leaves inconclusive is not a miss and is repeated (up to
	// 10 times). A 2x slowdown must never pass.
	slow := mo
	slow.Slowdown = 2
	for attempt := 1; attempt <= 10; attempt++ {
		js, err := ABCompare(m, so, so, mo, slow, rounds, rules)
		if err != nil {
			t.Fatal(err)
		}
		caught := 0
		for _, j := range js {
			switch j.Verdict {
			case gate.Pass:
				t.Fatalf("attempt %d: a 2x slowdown passed on %s: %s", attempt, j.Metric, j.Why)
			case gate.Regression:
				caught++
			}
			t.Logf("attempt %d: %s %s: %s", attempt, j.Metric, j.Verdict, j.Why)
		}
		if caught == len(js) {
			return
		}
	}
	t.Fatal("the host stayed too busy to decide in 10 attempts")
}
