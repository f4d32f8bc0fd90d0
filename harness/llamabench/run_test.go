package llamabench

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"

	"asdsl-bench/engine"
	"asdsl-bench/harness/machine"
	"asdsl-bench/internal/testutil"
)

// The JSON says what ran: the KV cache type and flash attention follow
// the features, the batch is the prompt, the thread count is resolved,
// and a pinned run names its CPUs.
func TestRunRecordsWhatRan(t *testing.T) {
	path := testutil.Golden(t, "llama-Q4_K_M.gguf")
	for _, c := range []struct {
		f           engine.Features
		kv          string
		flash       int
		wantPinMask bool
	}{
		{engine.Features{}, "q8_0", 1, true},
		{engine.Features{NoFlash: true, NoPin: true}, "f32", 0, false},
	} {
		rs, err := Run(Config{Model: path, Prompt: []int{8}, Gen: []int{4}, Threads: []int{2}, Reps: 1, Features: c.f})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 2 {
			t.Fatalf("%d results", len(rs))
		}
		for _, r := range rs {
			if r.TypeK != c.kv || r.TypeV != c.kv || r.FlashAttn != c.flash {
				t.Errorf("%+v: %s type_k %s type_v %s flash_attn %d; want %s, %d", c.f, r.Test(), r.TypeK, r.TypeV, r.FlashAttn, c.kv, c.flash)
			}
			if r.NThreads != 2 {
				t.Errorf("%s: n_threads %d", r.Test(), r.NThreads)
			}
			// The share of each repetition the threads waited for a CPU,
			// where the OS keeps it (the gate reads it).
			if runtime.GOOS == "linux" && (len(r.SamplesLost) != 1 || r.SamplesLost[0] < 0 || r.SamplesLost[0] > 1) {
				t.Errorf("%s: samples_lost %v for one repetition", r.Test(), r.SamplesLost)
			}
			if want := max(r.NPrompt, 1); r.NBatch != want || r.NUBatch != want {
				t.Errorf("%s: n_batch %d n_ubatch %d, want %d", r.Test(), r.NBatch, r.NUBatch, want)
			}
			if c.wantPinMask != (r.CPUMask != "0x0") || c.wantPinMask != r.CPUStrict {
				t.Errorf("%+v: %s: cpu_mask %s cpu_strict %v", c.f, r.Test(), r.CPUMask, r.CPUStrict)
			}
		}
	}
}

// -d runs every test again after that much context, as llama-bench does:
// n_depth set, "tg4 @ d32" named, a depth past the context refused.
func TestRunAtDepth(t *testing.T) {
	path := testutil.Golden(t, "llama-Q4_K_M.gguf")
	rs, err := Run(Config{Model: path, Prompt: []int{8}, Gen: []int{4}, Depth: []int{0, 32}, Threads: []int{1}, Reps: 1})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rs {
		names = append(names, r.Test())
		if want := map[bool]int{true: 32}[len(names) > 2]; r.NDepth != want {
			t.Errorf("%s: n_depth %d, want %d", r.Test(), r.NDepth, want)
		}
	}
	if fmt.Sprint(names) != "[pp8 tg4 pp8 @ d32 tg4 @ d32]" {
		t.Errorf("tests %v", names)
	}
	if _, err := Run(Config{Model: path, Gen: []int{4}, Depth: []int{1 << 20}, Threads: []int{1}, Reps: 1}); err == nil {
		t.Error("a depth past the model's context was accepted")
	}
}

// With Breakdown and a log, each tg test is followed by its steps, the
// matmuls' stream rate beside the read bandwidth measured for the run,
// and the waiting at op ends; a pp test gets none.
func TestRunLogsBreakdown(t *testing.T) {
	var log strings.Builder
	_, err := Run(Config{Model: testutil.Golden(t, "llama-Q4_K_M.gguf"), Prompt: []int{8}, Gen: []int{4}, Threads: []int{1},
		Reps: 1, Log: &log, Int8Peak: true, Breakdown: true})
	if err != nil {
		t.Fatal(err)
	}
	out := log.String()
	if n := strings.Count(out, "where a token's"); n != 1 {
		t.Fatalf("%d breakdowns in the log, want 1 (tg only):\n%s", n, out)
	}
	// The tg test's fraction is of the bandwidth read between its
	// repetitions, with the figure from before the tests beside it.
	for _, want := range []string{"gate-up", "attention", "matmuls", "% of ", "waiting at op ends", "of the read bandwidth", "read between the repetitions;", "before the tests)"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// The batch curve with a breakdown: every point records its timed calls
// step by step, and the table sets the batch sizes side by side.
func TestBatchCurveBreakdown(t *testing.T) {
	cv, err := BatchCurve(CurveConfig{Model: testutil.Golden(t, "llama-Q4_K_M.gguf"), Batches: []int{1, 2}, Threads: 1, Reps: 2, Breakdown: true})
	if err != nil {
		t.Fatal(err)
	}
	pts := cv.Points
	for _, p := range pts {
		if p.Steps.Evals != 2 || p.Steps.Tokens != 2*p.Tokens || p.Steps.Time[engine.StepGateUp] <= 0 {
			t.Fatalf("T=%d: breakdown of %d calls, %d tokens, gate-up %v; want 2 calls of %d tokens", p.Tokens, p.Steps.Evals, p.Steps.Tokens, p.Steps.Time[engine.StepGateUp], p.Tokens)
		}
		// The ratio to the first size is taken within rounds: the first
		// point's is 1 in every round, the others' median lies in their
		// range.
		if p.Ms <= 0 || p.RatioLo > p.Ratio || p.Ratio > p.RatioHi || p.RatioLo <= 0 {
			t.Fatalf("T=%d: %v ms, ratio %v in [%v, %v]", p.Tokens, p.Ms, p.Ratio, p.RatioLo, p.RatioHi)
		}
	}
	if pts[0].Ratio != 1 || pts[0].RatioLo != 1 || pts[0].RatioHi != 1 {
		t.Fatalf("the first size's ratio to itself: %v [%v, %v]", pts[0].Ratio, pts[0].RatioLo, pts[0].RatioHi)
	}
	var out strings.Builder
	WriteCurveBreakdown(&out, pts)
	for _, want := range []string{"T=1", "T=2/T=1", "gate-up", "attention", "waiting"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	// Without a breakdown nothing is recorded and nothing printed.
	cv, err = BatchCurve(CurveConfig{Model: testutil.Golden(t, "llama-Q4_K_M.gguf"), Batches: []int{1}, Threads: 1, Reps: 1})
	if err != nil {
		t.Fatal(err)
	}
	pts = cv.Points
	out.Reset()
	if WriteCurveBreakdown(&out, pts); pts[0].Steps.Evals != 0 || out.Len() != 0 {
		t.Fatalf("breakdown off: %d calls recorded, printed %q", pts[0].Steps.Evals, out.String())
	}
}

// With Balance the curve measures the machine beside it, and each
// point's rates follow from its time; what a flat curve needs (the
// first size's time) grows with T.
func TestBatchCurveBalance(t *testing.T) {
	cv, err := BatchCurve(CurveConfig{Model: testutil.Golden(t, "llama-Q4_K_M.gguf"), Batches: []int{1, 4}, Threads: 1, Reps: 1, Balance: true})
	if err != nil {
		t.Fatal(err)
	}
	if cv.Threads != 1 || cv.ReadGBs <= 0 || cv.MACs <= 0 || cv.WeightBytes <= 0 {
		t.Fatalf("threads %d, read %v GB/s, %d MACs, %d bytes", cv.Threads, cv.ReadGBs, cv.MACs, cv.WeightBytes)
	}
	if cv.Peak.Instr != "" && cv.Peak.GMACs <= 0 {
		t.Fatalf("peak %+v", cv.Peak)
	}
	// The arithmetic, on figures chosen by hand: 1e9 MACs per token,
	// 5e8 bytes, a 1000 GMAC/s peak; T = 1 in 10 ms, T = 4 in 20 ms.
	c := Curve{MACs: 1e9, WeightBytes: 5e8, Peak: machine.Int8Peak{GMACs: 1000}, Points: []CurvePoint{{Tokens: 1, Ms: 10, Ratio: 1}, {Tokens: 4, Ms: 20, Ratio: 2}}}
	for _, k := range []struct{ got, want float64 }{
		{c.GMACs(0), 100}, {c.GMACs(1), 200},
		{c.WeightGBs(0), 50}, {c.WeightGBs(1), 25},
		{c.FlatShare(1), 0.4}, {c.FlatShare(0), 0.1},
	} {
		if math.Abs(k.got-k.want) > 1e-9*k.want {
			t.Errorf("got %v, want %v", k.got, k.want)
		}
	}
	c.Peak = machine.Int8Peak{}
	if c.FlatShare(1) != 0 {
		t.Error("a share of no peak")
	}
}
