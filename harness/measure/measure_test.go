package measure

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"asdsl-bench/engine"
	"asdsl-bench/harness/hostload"
	"asdsl-bench/internal/testutil"
)

func TestRunRecordsEverything(t *testing.T) {
	s := goldenSession(t)
	// Long enough (~0.1 s) that /proc/stat's 10 ms ticks see the cores
	// busy: per-core usage is a difference of tick counts.
	r, err := Run(s, Options{Prompt: 16, Generate: 47, Reps: 5, Warmup: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Samples) != 5 || r.Samples[0].DecodeTPS <= 0 || r.Samples[0].TTFTms <= 0 || r.Samples[0].P90ms < r.Samples[0].P50ms {
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

// The test-only slowdown switch stretches each step to factor times its
// measured length by keeping the core busy (as a real regression would),
// and reports what it really took, so wall time and reported time agree.
// Checked directly: end to end, the gate tests show it caught.
func TestSlowdownSwitch(t *testing.T) {
	d := 3 * time.Millisecond
	t0 := time.Now()
	got := slow(d, 2)
	waited := time.Since(t0)
	if got < 2*d || got > d+waited {
		t.Fatalf("reported %v for a %v step at factor 2 (waited %v)", got, d, waited)
	}
	if runtime.GOOS == "linux" { // rusage is exact enough for 50 ms
		cpu1 := hostload.SelfCPU()
		Spin(50 * time.Millisecond)
		if used := hostload.SelfCPU() - cpu1; used < 20*time.Millisecond {
			t.Fatalf("a 50 ms Spin used %v of CPU: it must keep the core busy", used)
		}
	}
	if slow(d, 0) != d || slow(d, 1) != d {
		t.Fatal("factors 0 and 1 must not change the duration")
	}
}

// Peak RSS is per bench: a large allocation before a Run (touched, then
// returned to the OS) must not show in its peak, where the OS lets the
// high-water mark be reset. And the CPU shares add up.
func TestPeakRSSIsPerBenchAndSharesAddUp(t *testing.T) {
	s := goldenSession(t)
	big := make([]byte, 256<<20)
	for i := 0; i < len(big); i += 4096 {
		big[i] = 1
	}
	hwm := peakRSS()
	big = nil
	debug.FreeOSMemory()
	// Twelve repetitions: the shares' window must be long beside the
	// 10 ms ticks in which /proc counts CPU time (below).
	r, err := Run(s, Options{Prompt: 16, Generate: 47, Reps: 12})
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "linux" {
		if r.PeakRSS <= 0 || r.PeakRSS > hwm-128<<20 {
			t.Fatalf("peak RSS %d MiB after a 256 MiB buffer was freed (process high-water mark then %d MiB): not reset per bench",
				r.PeakRSS>>20, hwm>>20)
		}
		if r.MathCPUShare <= 0 {
			t.Fatalf("math threads' CPU share %.3f", r.MathCPUShare)
		}
		// The host's CPU time (/proc/stat) and each math thread's
		// (/proc/self/task) are counted in ticks of 10 ms (USER_HZ 100),
		// the process's (rusage) in microseconds: each count may be a
		// tick off. With the 3 repetitions this test once ran, a 2-core
		// host read math 0.667 against own 0.531, and own 1.27.
		var busy float64
		for _, b := range r.ThreadBusy {
			busy += b
		}
		host := busy / r.MathCPUShare // seconds of CPU the host had
		tick := func(n int) float64 { return float64(n) * 0.01 / host }
		cpus := runtime.NumCPU()
		if r.MathCPUShare > r.OwnCPUShare+0.05+tick(len(r.ThreadBusy)+cpus) || r.OwnCPUShare > 1+tick(cpus) ||
			r.OtherCPUShare < 0 || r.OtherCPUShare > 1 {
			t.Fatalf("shares: math %.3f own %.3f other %.3f (a tick per CPU: %.3f)", r.MathCPUShare, r.OwnCPUShare, r.OtherCPUShare, tick(1))
		}
	}
}

// Depth fills the context before each repetition's prompt (untimed), as
// llama-bench's -d; the cache's bytes per position follow its format.
func TestRunAtDepth(t *testing.T) {
	m, err := engine.Load(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, f := range []engine.Features{{}, {NoFlash: true}} {
		s, err := m.NewSession(engine.SessionOptions{Context: 128, Threads: 1, Features: f})
		if err != nil {
			t.Fatal(err)
		}
		r, err := Run(s, Options{Prompt: 8, Generate: 4, Depth: 100, Reps: 1})
		if err != nil {
			t.Fatal(err)
		}
		if s.Pos() != 100+8+4 {
			t.Fatalf("after a run at depth 100: position %d, want 112", s.Pos())
		}
		c := m.Config
		want := int64(2*c.NLayer*c.KVDim()) * 4
		if s.CacheType() == "q8_0" {
			want = int64(2*c.NLayer*c.KVDim()) / 32 * 34
		}
		if r.KVBytesPerToken != want {
			t.Fatalf("%s cache: %d bytes per position, want %d", s.CacheType(), r.KVBytesPerToken, want)
		}
		if _, err := Run(s, Options{Prompt: 8, Generate: 4, Depth: 200, Reps: 1}); err == nil {
			t.Fatal("a depth past the context was accepted")
		}
		s.Close()
	}
}

// goldenSession is a 2-thread session on the golden Q4_K_M fixture,
// closed with the test.
func goldenSession(t *testing.T) *engine.Session {
	t.Helper()
	m, err := engine.Load(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	s, err := m.NewSession(engine.SessionOptions{Context: 64, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// The q8_0 cache's cost at depth: small but not zero on the golden
// fixture, and the argmax mostly agrees.
func TestCacheKL(t *testing.T) {
	m, err := engine.Load(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r, err := MeasureCacheKL(m, 200, 16, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("golden Q4_K_M at depth 200: KL %.3g, top-1 %.1f%%", r.KL, 100*r.Top1)
	if r.KL <= 0 || r.KL > 0.05 || r.Top1 < 0.8 {
		t.Fatalf("%+v", r)
	}
	if _, err := MeasureCacheKL(m, m.Config.NCtx, 16, 1); err == nil {
		t.Fatal("a depth past the context was accepted")
	}
}

// The draft length follows the verify curve: a flat curve favours long
// drafts, a step after three tokens a short one, and a dear draft step
// shortens it further.
func TestChooseDraftLength(t *testing.T) {
	for _, c := range []struct {
		curve []float64
		draft float64
		want  int
	}{
		{[]float64{1, 1.05, 1.1, 1.15, 1.2}, 0.05, 4},
		{[]float64{1, 1.18, 1.47, 1.75, 2.3}, 0.05, 2},
		{[]float64{1, 1.18, 1.47, 1.75, 2.3}, 0.1, 1},
		{[]float64{1, 1.2, 1.4, 1.45, 2.3}, 0, 3},
		{[]float64{1, 1.1, 1.2, 1.3, 1.4}, 0.6, 1},
	} {
		k, ex := ChooseDraftLength(c.curve, c.draft, c.draft, 0.7)
		if k != c.want || len(ex) != len(c.curve)-1 {
			t.Errorf("curve %v, draft %v: k = %d (expected %v), want %d", c.curve, c.draft, k, ex, c.want)
		}
		for i, e := range ex {
			if e > ex[k-1] {
				t.Errorf("k = %d is not the best: k = %d expects %.3f > %.3f", k, i+1, e, ex[k-1])
			}
		}
	}
	// A dear first step (the draft's weights evicted by the target's
	// pass) is paid once per round: cheap later steps make a longer
	// draft worth it where uniformly dear ones do not.
	curve := []float64{1, 1.18, 1.47, 1.75, 2.3}
	if k, ex := ChooseDraftLength(curve, 0.3, 0.05, 0.7); k != 2 {
		t.Errorf("first 0.3, next 0.05: k = %d (expected %v), want 2", k, ex)
	}
	if k, ex := ChooseDraftLength(curve, 0.3, 0.3, 0.7); k != 1 {
		t.Errorf("first and next 0.3: k = %d (expected %v), want 1", k, ex)
	}
}
