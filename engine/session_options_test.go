package engine

import (
	"sync"
	"testing"

	"asdsl-bench/internal/testutil"
	"asdsl-bench/kernels"
)

// Two sessions of one model with different kernel tables, prefetch
// distances and tiles run at the same time in one process: each gives
// the logits it gives alone (every ISA's kernels equal their Go twins, so
// all of them agree), and the process's default table is untouched.
func TestSessionsWithOwnSettingsSideBySide(t *testing.T) {
	m, err := Load(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	prompt, _ := readGreedy(t, testutil.Golden(t, "llama-Q4_K_M.p64.greedy.txt"))
	generic, err := kernels.Select("generic", 0)
	if err != nil {
		t.Fatal(err)
	}
	best, err := kernels.Select("", 1024)
	if err != nil {
		t.Fatal(err)
	}
	if best.FloatQ4K {
		// ASDSL_ISA=avx2-float: the seed's float Q4_K kernel rounds
		// differently from the integer dots by design.
		t.Skipf("the %s table's float Q4_K kernel is not bit-identical to the generic one", best.ISA)
	}
	if best.Prefetch != 1024 || generic.ISA != "generic" {
		t.Fatalf("Select: %s prefetch %d, %s", best.ISA, best.Prefetch, generic.ISA)
	}
	if _, err := kernels.Select("no-such-isa", -1); err == nil {
		t.Fatal("an unknown ISA was accepted")
	}
	before := *kernels.Active()
	opts := []SessionOptions{
		{Context: 80, Threads: 2, Kernels: best, Tiles: Tiles{Rows: 16, PanelMinTokens: 1}},
		{Context: 80, Threads: 1, Kernels: generic, Tiles: Tiles{Rows: 32, Tokens: 8}, Features: Features{NoRepack: true}},
	}
	run := func(o SessionOptions) []float32 {
		s, err := m.NewSession(o)
		if err != nil {
			t.Error(err)
			return nil
		}
		defer s.Close()
		var all []float32
		for range 3 { // prompt, then two decode steps, twice over
			s.Reset()
			lg, err := s.Eval(prompt, true)
			if err != nil {
				t.Error(err)
				return nil
			}
			all = append(all[:0], lg...)
			for _, tok := range []int32{Argmax(lg[len(lg)-m.Config.NVocab:]), 7} {
				lg, err := s.Eval([]int32{tok}, false)
				if err != nil {
					t.Error(err)
					return nil
				}
				all = append(all, lg...)
			}
		}
		return all
	}
	alone := [][]float32{run(opts[0]), run(opts[1])}
	together := make([][]float32, 2)
	var wg sync.WaitGroup
	for i, o := range opts {
		wg.Go(func() { together[i] = run(o) })
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i := range opts {
		if len(together[i]) != len(alone[i]) || len(alone[i]) != len(alone[0]) {
			t.Fatalf("session %d: %d logits side by side, %d alone", i, len(together[i]), len(alone[i]))
		}
		for j := range alone[i] {
			if together[i][j] != alone[i][j] || alone[i][j] != alone[0][j] {
				t.Fatalf("session %d (%s): logit %d is %v side by side, %v alone, %v with %s",
					i, opts[i].Kernels.ISA, j, together[i][j], alone[i][j], alone[0][j], opts[0].Kernels.ISA)
			}
		}
	}
	if a := kernels.Active(); a.ISA != before.ISA || a.Prefetch != before.Prefetch {
		t.Fatalf("the process's table changed: %s/%d, was %s/%d", a.ISA, a.Prefetch, before.ISA, before.Prefetch)
	}
}
