package phases

import (
	"fmt"
	"math"

	"asdsl-bench/engine"
	"asdsl-bench/internal/numerics"
)

// specGreedyCheck: greedy speculative decoding emits the target's own
// greedy tokens. Target: the golden llama-f32 model; draft: its Q4_K_M
// file (they agree often, not always, so both branches of the rule run).
var specGreedyCheck = Check{Name: "speculative greedy output equals plain greedy (f32 target, Q4_K_M draft)", Run: func(env *Env) (string, error) {
	if err := needGolden(); err != nil {
		return "", err
	}
	target, err := engine.Load(fixture("llama-f32.gguf"))
	if err != nil {
		return "", err
	}
	defer target.Close()
	draft, err := engine.Load(fixture("llama-Q4_K_M.gguf"))
	if err != nil {
		return "", err
	}
	defer draft.Close()
	prompt, _, err := numerics.ReadGreedy(fixture("llama-f32.p64.greedy.txt"))
	if err != nil {
		return "", err
	}
	prompt = prompt[:16]
	const n, k = 48, 4
	greedy := engine.SamplerOptions{}
	plain, _ := target.NewSession(env.session(engine.SessionOptions{Context: 128}))
	defer plain.Close()
	var want, got []int32
	if _, err := engine.Generate(plain, prompt, n, engine.NewSampler(greedy), -1, func(id int32) bool { want = append(want, id); return true }); err != nil {
		return "", err
	}
	ts, _ := target.NewSession(env.session(engine.SessionOptions{Context: 128}))
	defer ts.Close()
	ds, _ := draft.NewSession(env.session(engine.SessionOptions{Context: 128}))
	defer ds.Close()
	_, sp, err := engine.GenerateSpeculative(ts, ds, prompt, n, k, engine.NewSampler(greedy), -1, func(id int32) bool { got = append(got, id); return true })
	if err != nil {
		return "", err
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			return "", fmt.Errorf("token %d differs from plain greedy decoding", i)
		}
	}
	return fmt.Sprintf("%d tokens identical; k=%d, %d rounds, %.0f%% of proposals accepted", n, k, sp.Rounds, 100*sp.AcceptRate()), nil
}}

// specDistributionCheck: the acceptance rule turns draft proposals into
// tokens with the target's distribution (Monte Carlo, 200k trials on two
// distributions that disagree).
var specDistributionCheck = Check{Name: "speculative sampling keeps the target's distribution", Run: func(env *Env) (string, error) {
	p := []engine.Candidate{{ID: 0, P: 0.5}, {ID: 1, P: 0.3}, {ID: 2, P: 0.15}, {ID: 4, P: 0.05}}
	q := []engine.Candidate{{ID: 1, P: 0.6}, {ID: 0, P: 0.2}, {ID: 3, P: 0.15}, {ID: 2, P: 0.05}}
	smp := engine.NewSampler(engine.SamplerOptions{Temperature: 1, Seed: 5})
	const trials = 200000
	count := map[int32]int{}
	for i := 0; i < trials; i++ {
		_, y := engine.Verify(smp, p, q, smp.Draw(q))
		count[y]++
	}
	worst := 0.0
	for _, c := range append(p, engine.Candidate{ID: 3}) {
		f := float64(count[c.ID]) / trials
		se := math.Sqrt(c.P*(1-c.P)/trials) + 1e-9
		worst = math.Max(worst, math.Abs(f-c.P)/se)
	}
	return verdict(worst <= 5, fmt.Sprintf("%d trials: token frequencies within %.1f standard errors of the target's probabilities", trials, worst))
}}
