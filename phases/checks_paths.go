package phases

import (
	"fmt"

	"asdsl-bench/engine"
)

// promptPathsCheck: the tiled GEMM prefill gives the GEMV loop's logits.
// 203 tokens: past engine.DefaultTiles().PanelMinTokens, so where the ISA
// has the panel kernels the prompt's matmuls take them, with a 3-token
// tail.
var promptPathsCheck = Check{Name: "GEMM prefill logits equal the GEMV loop's", Run: func(env *Env) (string, error) {
	return sameLogits(env, 203, false, engine.Features{NoFlash: true}, engine.Features{NoFlash: true, SequentialPrompt: true})
}}

// flashPathsCheck: with flash attention a batched prompt gives the
// logits of the same prompt fed one token at a time, bit for bit.
var flashPathsCheck = Check{Name: "flash-attention prefill logits equal token-by-token decode's", Run: func(env *Env) (string, error) {
	return sameLogits(env, 0, false, engine.Features{}, engine.Features{SequentialPrompt: true})
}}

// repackCheck: decode on the repacked rows gives the GGUF layout's
// logits bit for bit (golden llama-Q4_K_M, token by token).
var repackCheck = Check{Name: "repacked decode logits equal the GGUF layout's", Run: func(env *Env) (string, error) {
	if err := needGolden(); err != nil {
		return "", err
	}
	return sameLogits(env, 16, true, engine.Features{NoRepack: true, NoPrefetch: true}, engine.Features{})
}}

// sameLogits evaluates the golden llama-Q4_K_M prompt (its first n
// tokens, from the 512-token prompt when n > 64; the 64-token one for
// n = 0) under two engine configurations, as one batch
// or token by token (decode), and reports whether every logit is equal.
func sameLogits(env *Env, n int, tokenByToken bool, a, b engine.Features) (string, error) {
	if err := needGolden(); err != nil {
		return "", err
	}
	m, err := engine.Load(fixture("llama-Q4_K_M.gguf"))
	if err != nil {
		return "", err
	}
	defer m.Close()
	if n <= 0 {
		n = 64
	}
	prompt := fixturePrompt(n)
	eval := func(f engine.Features) ([]float32, error) {
		s, err := m.NewSession(env.session(engine.SessionOptions{Context: len(prompt), Features: f}))
		if err != nil {
			return nil, err
		}
		defer s.Close()
		if !tokenByToken {
			lg, err := s.Eval(prompt, true)
			return append([]float32(nil), lg...), err
		}
		var all []float32
		for _, tok := range prompt {
			lg, err := s.Eval([]int32{tok}, false)
			if err != nil {
				return nil, err
			}
			all = append(all, lg...)
		}
		return all, nil
	}
	ref, err := eval(a)
	if err != nil {
		return "", err
	}
	got, err := eval(b)
	if err != nil {
		return "", err
	}
	for i := range ref {
		if got[i] != ref[i] {
			return "", fmt.Errorf("logit %d of %d differs: %v against %v", i, len(ref), got[i], ref[i])
		}
	}
	path := ""
	if len(prompt) >= engine.DefaultTiles().PanelMinTokens && env.ops().GemmPanelQ8K32x4 != nil {
		path = ", prompt matmuls on panels"
	}
	return fmt.Sprintf("%d positions x %d logits identical (kernels %s%s)", len(prompt), m.Config.NVocab, env.ops().ISA, path), nil
}
