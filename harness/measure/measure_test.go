package measure

import (
	"sort"
	"testing"

	"asdsl-bench/engine"
	"asdsl-bench/internal/testutil"
)

func TestRunRecordsEverything(t *testing.T) {
	m, err := engine.Load(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewSession(engine.SessionOptions{Context: 64, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := Run(s, Options{Prompt: 16, Generate: 8, Reps: 3, Warmup: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Samples) != 3 || r.Samples[0].DecodeTPS <= 0 || r.Samples[0].TTFTms <= 0 || r.Samples[0].P90ms < r.Samples[0].P50ms {
		t.Fatalf("%+v", r.Samples)
	}
	if r.WeightBytes <= 0 || r.PeakRSS <= 0 {
		t.Fatalf("weights %d rss %d", r.WeightBytes, r.PeakRSS)
	}
	if len(r.ThreadCPUs) != 2 || len(r.CoreBusy) == 0 {
		t.Fatalf("threads %v cores %v (%v)", r.ThreadCPUs, r.CoreBusy, r.Unavailable)
	}
	// Pinned threads ran where they were pinned.
	for tid, cpu := range r.Pinned {
		if r.ThreadCPUs[tid] != cpu {
			t.Errorf("thread %d pinned to %d last ran on %d", tid, cpu, r.ThreadCPUs[tid])
		}
	}
	// Either hardware counters or the reason they are missing.
	if r.Counters.HardwareUnavailable == "" && r.Counters.Values["cycles"] == 0 {
		t.Errorf("no hardware counters and no reason: %+v", r.Counters)
	}
	t.Logf("counters %+v", r.Counters)
}

// The test-only slowdown switch doubles the measured decode time. Runs
// alternate, and medians are compared, because this VM's speed drifts
// between runs by more than the factor under test.
func TestSlowdownSwitchSlowsDown(t *testing.T) {
	m, _ := engine.Load(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	defer m.Close()
	s, _ := m.NewSession(engine.SessionOptions{Context: 64, Threads: 1})
	defer s.Close()
	var normal, slowed []float64
	for i := 0; i < 7; i++ {
		a, err := Run(s, Options{Prompt: 8, Generate: 16, Reps: 1})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Run(s, Options{Prompt: 8, Generate: 16, Reps: 1, Slowdown: 2})
		normal = append(normal, a.Samples[0].DecodeTPS)
		slowed = append(slowed, b.Samples[0].DecodeTPS)
	}
	sort.Float64s(normal)
	sort.Float64s(slowed)
	if r := slowed[3] / normal[3]; r > 0.75 {
		t.Fatalf("slowdown 2 gave median %v vs %v t/s (ratio %.2f)", slowed[3], normal[3], r)
	}
}
