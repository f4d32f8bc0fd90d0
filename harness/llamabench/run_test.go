package llamabench

import (
	"testing"

	"asdsl-bench/engine"
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
			if want := max(r.NPrompt, 1); r.NBatch != want || r.NUBatch != want {
				t.Errorf("%s: n_batch %d n_ubatch %d, want %d", r.Test(), r.NBatch, r.NUBatch, want)
			}
			if c.wantPinMask != (r.CPUMask != "0x0") || c.wantPinMask != r.CPUStrict {
				t.Errorf("%+v: %s: cpu_mask %s cpu_strict %v", c.f, r.Test(), r.CPUMask, r.CPUStrict)
			}
		}
	}
}
