package phases

import (
	"fmt"
	"strings"

	"asdsl-bench/engine"
	"asdsl-bench/internal/golden"
	"asdsl-bench/internal/numerics"
	"asdsl-bench/internal/shared"
)

// goldenCheck: the engine against llama.cpp's logits on the fixture
// models' 64-token prompts (f32 cache, plain attention), held to the
// bounds of golden.Cases, the table the engine's tests use; the suite's
// kl_max, when set, replaces the quantized files' bounds.
var goldenCheck = Check{Name: "logits match llama.cpp (golden fixtures)", Run: func(env *Env) (string, error) {
	if err := needGolden(); err != nil {
		return "", err
	}
	return goldenCases(env, func(c golden.Case) bool { return c.Prompt == "p64" }, true)
}}

// flashGoldenCheck: the Q8_0 cache with flash attention against
// llama.cpp's own q8_0-cache, flash-attention runs (512-token prompts).
var flashGoldenCheck = Check{Name: "q8_0 KV + flash attention logits match llama.cpp's (kvq8fa fixtures)", Run: func(env *Env) (string, error) {
	// The 512-token fixtures are not copied into testdata/.
	if _, err := shared.Dir(); err != nil {
		return fail("needs llama.cpp's 512-token q8_0-cache logits, in ../shared only: " + err.Error())
	}
	return goldenCases(env, golden.Case.FlashQ8, false)
}}

// goldenCases runs the golden cases that pick selects, each twice: with
// the engine's kernels (bound MaxKL; klMax says the suite's kl_max
// replaces the quantized cases' bounds: the 64-token cases, the q8_0
// cache ones keep their own) and in llama.cpp's float order
// (engine.Features.LlamaCppOrder, bound OrderKL), which shows that what
// is left of the KL is rounding order, not a different computation.
func goldenCases(env *Env, pick func(golden.Case) bool, klMax bool) (string, error) {
	ok := true
	var parts []string
	for _, c := range golden.Cases {
		if !pick(c) {
			continue
		}
		bound := c.MaxKL
		if klMax && env.KLMax > 0 && c.Quantized() {
			bound = env.KLMax
		}
		features := engine.Features{NoFlash: !c.FlashQ8()}
		kl, top1, err := goldenKL(env, c.Model, c.Prompt, features)
		if err != nil {
			return "", err
		}
		features.LlamaCppOrder = true
		okl, otop1, err := goldenKL(env, c.Model, c.Prompt, features)
		if err != nil {
			return "", err
		}
		ok = ok && kl <= bound && top1 >= 0.97 && okl <= c.OrderKL && otop1 >= 0.97
		parts = append(parts, fmt.Sprintf("%s KL %.2g (bound %.0e) top-1 %.0f%%, in llama.cpp's order %.2g (bound %.0e) top-1 %.0f%%",
			c.Stem(), kl, bound, 100*top1, okl, c.OrderKL, 100*otop1))
	}
	return verdict(ok, strings.Join(parts, "; "))
}

// goldenKL evaluates a fixture's prompt ("p64", "p512.kvq8fa", ...) with
// the engine configured as features say and returns the mean KL and top-1
// agreement to llama.cpp's logits.
func goldenKL(env *Env, stem, prompt string, features engine.Features) (float64, float64, error) {
	m, err := engine.Load(fixture(stem + ".gguf"))
	if err != nil {
		return 0, 0, err
	}
	defer m.Close()
	tokens, _, err := numerics.ReadGreedy(fixture(stem + "." + prompt + ".greedy.txt"))
	if err != nil {
		return 0, 0, err
	}
	ref, err := numerics.ReadLogits(fixture(stem + "." + prompt + ".logits.f32"))
	if err != nil {
		return 0, 0, err
	}
	s, err := m.NewSession(env.session(engine.SessionOptions{Context: len(tokens), Features: features}))
	if err != nil {
		return 0, 0, err
	}
	defer s.Close()
	got, err := s.Eval(tokens, true)
	if err != nil {
		return 0, 0, err
	}
	kl, top1 := numerics.KL(ref, got, m.Config.NVocab)
	return kl, top1, nil
}
