package engine

import (
	"math"
	"testing"

	"asdsl-bench/internal/testutil"
)

// Greedy speculative decoding emits exactly the target's greedy tokens,
// whatever the draft and the draft length: with a draft that mostly
// agrees (the Q4_K_M file of the same model), with the target as its own
// draft (everything accepted), and at k = 1..5.
func TestSpeculativeGreedyEqualsPlain(t *testing.T) {
	target, err := Load(testutil.Golden(t, "llama-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	q4, err := Load(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer q4.Close()
	prompt, _ := readGreedy(t, testutil.Golden(t, "llama-f32.p64.greedy.txt"))
	prompt = prompt[:20]
	const n = 40
	greedy := SamplerOptions{}
	ts, _ := target.NewSession(SessionOptions{Context: 128, Threads: 2})
	var want []int32
	if _, err := Generate(ts, prompt, n, NewSampler(greedy), -1, func(id int32) bool { want = append(want, id); return true }); err != nil {
		t.Fatal(err)
	}
	for _, draftModel := range []*Model{q4, target} {
		for k := 1; k <= 5; k++ {
			tgt, _ := target.NewSession(SessionOptions{Context: 128, Threads: 2})
			dr, _ := draftModel.NewSession(SessionOptions{Context: 128, Threads: 1})
			var got []int32
			_, sp, err := GenerateSpeculative(tgt, dr, prompt, n, k, NewSampler(greedy), -1, func(id int32) bool { got = append(got, id); return true })
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != n {
				t.Fatalf("k=%d: %d tokens, want %d", k, len(got), n)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("draft %p k=%d: token %d is %d, plain greedy %d", draftModel, k, i, got[i], want[i])
				}
			}
			if tgt.Pos() != dr.Pos() {
				t.Fatalf("k=%d: the draft ends at %d, the target at %d", k, dr.Pos(), tgt.Pos())
			}
			if draftModel == target && sp.Accepted != sp.Drafted {
				t.Fatalf("k=%d: the target as its own draft had %d of %d proposals rejected", k, sp.Drafted-sp.Accepted, sp.Drafted)
			}
			t.Logf("draft %s k=%d: %d rounds, %.0f%% of %d proposals accepted", map[bool]string{true: "self", false: "Q4_K_M"}[draftModel == target], k, sp.Rounds, 100*sp.AcceptRate(), sp.Drafted)
			tgt.Close()
			dr.Close()
		}
	}
}

// The acceptance rule turns proposals drawn from q into tokens drawn
// from p: 400k trials on distributions that disagree (q puts mass where
// p has none and misses a token p has), each token's frequency within 5
// standard errors of p.
func TestVerifyRuleHasTheTargetDistribution(t *testing.T) {
	p := []Candidate{{0, 0.5}, {1, 0.3}, {2, 0.15}, {4, 0.05}}
	q := []Candidate{{1, 0.6}, {0, 0.2}, {3, 0.15}, {2, 0.05}}
	smp := NewSampler(SamplerOptions{Temperature: 1, Seed: 3})
	const trials = 400000
	count := map[int32]int{}
	for i := 0; i < trials; i++ {
		x := smp.Draw(q)
		_, y := Verify(smp, p, q, x)
		count[y]++
	}
	want := map[int32]float64{0: 0.5, 1: 0.3, 2: 0.15, 4: 0.05}
	for id := int32(0); id < 5; id++ {
		got := float64(count[id]) / trials
		se := math.Sqrt(want[id]*(1-want[id])/trials) + 1e-9
		if math.Abs(got-want[id]) > 5*se {
			t.Errorf("token %d: frequency %.4f, target probability %.4f", id, got, want[id])
		}
	}
	if count[3] != 0 {
		t.Errorf("token 3 (absent from p) emitted %d times", count[3])
	}
}

// Bad arguments are errors, not panics.
func TestSpeculativeRefusesBadArguments(t *testing.T) {
	m, err := Load(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, _ := m.NewSession(SessionOptions{Context: 16})
	b, _ := m.NewSession(SessionOptions{Context: 16})
	smp := NewSampler(SamplerOptions{})
	emit := func(int32) bool { return true }
	if _, _, err := GenerateSpeculative(a, b, []int32{1, 2}, 4, 0, smp, -1, emit); err == nil {
		t.Error("k = 0 accepted")
	}
	if _, _, err := GenerateSpeculative(a, b, nil, 4, 2, smp, -1, emit); err == nil {
		t.Error("empty prompt accepted")
	}
	if _, _, err := GenerateSpeculative(a, b, []int32{1, 2}, 12, 4, smp, -1, emit); err == nil {
		t.Error("prompt + n + k past the context accepted")
	}
}
