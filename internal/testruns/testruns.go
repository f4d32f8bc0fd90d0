// Package testruns makes harness run records for the tests of the
// results store and the dashboard: deterministic, small, with the
// fields the real records carry (benches with samples, gates, checks).
package testruns

import (
	"fmt"
	"time"

	"asdsl-bench/harness/measure"
	"asdsl-bench/harness/results"
)

// Machine is a recorded test machine; n tells them apart.
func Machine(n int) results.Machine {
	return results.Machine{CPU: fmt.Sprintf("Test CPU %d", n), Features: []string{"AVX2", "FMA3"}, ISA: "avx2",
		Topology: "2 cores", MemoryBytes: 24 << 30, ReadGBs: map[int]float64{1: 30, 2: 40}}
}

// Run is run i of a history on machine m: commit c<i>, one phase with
// a tiny-model bench whose decode samples are around decode t/s, and a
// decode gate at target (failed when decode is below it).
func Run(i int, m results.Machine, decode, target float64) *results.Run {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
	var samples []measure.Sample
	for k := 0; k < 5; k++ {
		d := decode * (1 + 0.01*float64(k-2))
		samples = append(samples, measure.Sample{TTFTms: 100 + float64(k), PrefillTPS: 500 + float64(k), DecodeTPS: d, P50ms: 1000 / d, P90ms: 1100 / d})
	}
	b := &results.Bench{Model: "tiny", Shape: "tinyllama", Workload: "short", Threads: 2, Prompt: 32, Generate: 16,
		Result: &measure.Result{Samples: samples, WeightBytes: 600 << 20}}
	commit := fmt.Sprintf("c%039d", i)
	g := results.Gate{Name: "tiny/short t=2 decode tok/s", Op: ">=", Target: target, Value: b.Median(results.DecodeTPS)}
	g.Passed = g.Value >= target
	return &results.Run{ID: results.NewID(start, commit), Time: start, Commit: commit, Suite: "default", Machine: m, Passed: g.Passed,
		Phases: []*results.Phase{{Name: "phase3", Title: "Prefill as a tiled GEMM", Implemented: true, Features: "test",
			Checks:  []results.Check{{Name: "a check", Passed: true, Detail: "fine"}},
			Benches: []*results.Bench{b}, Gates: []results.Gate{g}, Passed: g.Passed}}}
}
