package engine

import (
	"slices"
	"testing"
	"time"

	"asdsl-bench/internal/testutil"
)

// A breakdown changes no result, counts every pass and token, gives the
// matmuls and attention of a decode step some time, and charges each matmul step exactly
// the bytes of the matrices it multiplies; its steps add up to no more
// than the wall time of the passes.
func TestBreakdownAccountsForEveryStep(t *testing.T) {
	m, err := Load(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	prompt, _ := readGreedy(t, testutil.Golden(t, "llama-Q4_K_M.p64.greedy.txt"))
	for _, th := range []int{1, 2} {
		run := func(bd *Breakdown) ([]float32, time.Duration) {
			s, err := m.NewSession(SessionOptions{Context: 80, Threads: th})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Eval(prompt[:8], false); err != nil {
				t.Fatal(err)
			}
			s.SetBreakdown(bd)
			var all []float32
			t0 := time.Now()
			for _, tok := range []int32{3, 9, 27} {
				lg, err := s.Eval([]int32{tok}, false)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, lg...)
			}
			el := time.Since(t0)
			s.SetBreakdown(nil)
			if _, err := s.Eval([]int32{5}, false); err != nil { // not counted
				t.Fatal(err)
			}
			return all, el
		}
		plain, _ := run(nil)
		bd := &Breakdown{}
		got, wall := run(bd)
		if !slices.Equal(plain, got) {
			t.Fatalf("%d threads: the breakdown changed the logits", th)
		}
		if bd.Evals != 3 || bd.Tokens != 3 {
			t.Errorf("%d threads: %d passes, %d tokens; want 3, 3", th, bd.Evals, bd.Tokens)
		}
		var want [NumSteps]int64
		for _, l := range m.layers {
			for _, w := range l.qkv {
				want[StepQKV] += w.Bytes()
			}
			want[StepWo] += l.wo.Bytes()
			for _, w := range l.gateUp {
				want[StepGateUp] += w.Bytes()
			}
			want[StepDown] += l.down.Bytes()
		}
		want[StepOutput] = m.output.Bytes()
		for st := Step(0); st < NumSteps; st++ {
			if got := bd.Bytes[st]; got != 3*want[st] {
				t.Errorf("%d threads: %s read %d weight bytes, want %d", th, st, got, 3*want[st])
			}
			if bd.Time[st] <= 0 && (st.Matmul() || st == StepAttention) {
				t.Errorf("%d threads: %s took no time", th, st)
			}
		}
		if tot := bd.Total(); tot <= 0 || tot > wall {
			t.Errorf("%d threads: steps total %v, passes' wall time %v", th, tot, wall)
		}
		if th == 1 && bd.Wait != 0 {
			t.Errorf("1 thread waited %v for helpers", bd.Wait)
		}
	}
}
