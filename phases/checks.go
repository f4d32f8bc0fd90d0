package phases

import (
	"errors"

	"asdsl-bench/engine"
	"asdsl-bench/internal/shared"
	"asdsl-bench/kernels"
)

// Check is a correctness check run in a phase. Run returns a one-line

// detail with the figures behind a pass, or an error that says what

// failed (a check that cannot run, for want of fixtures, fails too).

type Check struct {
	Name string
	Run  func(env *Env) (detail string, err error)
}

// Env is what checks may use.

type Env struct {
	// KLMax replaces the quantized golden files' bounds (0: the bounds of
	// golden.Cases).
	KLMax float64
	// Kernels is the phase's kernel table (nil: the process's).
	Kernels *kernels.Ops
}

// session is o with the phase's kernels.

func (env *Env) session(o engine.SessionOptions) engine.SessionOptions {
	if env != nil {
		o.Kernels = env.Kernels
	}
	return o
}

// ops is the phase's kernel table.

func (env *Env) ops() *kernels.Ops {
	if env == nil || env.Kernels == nil {
		return kernels.Active()
	}
	return env.Kernels
}

// fail is a failed check whose detail is already a sentence.

func fail(detail string) (string, error) { return "", errors.New(detail) }

// verdict is a check's result from a condition and its detail.

func verdict(ok bool, detail string) (string, error) {
	if ok {
		return detail, nil
	}
	return fail(detail)
}

// fixture is a golden fixture's path (../shared's, or the checkout's

// testdata/ copy). Checks call needGolden first, whose error says where

// the fixtures were looked for.

func fixture(name string) string {
	if p, err := shared.Golden(name); err == nil {
		return p
	}
	return name
}

// needGolden says why the golden fixtures cannot be read, or nil.

func needGolden() error {
	_, err := shared.Golden("llama-f32.gguf")
	return err
}

// goldenCheck: the engine against llama.cpp's logits on the fixture

// models' 64-token prompts (f32 cache, plain attention), held to the

// bounds of golden.Cases, the table the engine's tests use; the suite's

// kl_max, when set, replaces the quantized files' bounds.

// flashGoldenCheck: the Q8_0 cache with flash attention against

// llama.cpp's own q8_0-cache, flash-attention runs (512-token prompts).

// goldenCases runs the golden cases that pick selects.

// goldenKL evaluates a fixture's prompt ("p64", "p512.kvq8fa", ...) with

// the engine configured as features say and returns the mean KL and top-1

// agreement to llama.cpp's logits.

// quantizerBytesCheck: our Q4_K_M and Q8_0 files are llama-quantize's.

// quantizerKLCheck: our Q4_K_M file is as close to the F32 model as

// llama.cpp's (within 5%).

// quantizerBoundsCheck: encode→decode error bounds on Gaussian and

// heavy-tailed blocks (half a quantization step, plus fp16 rounding).

// worstRatio is the largest |x−y| over a block's bound amax/levels.

// kernelTwinCheck: every SIMD kernel the CPU can run equals its Go twin

// (kernels.VerifyTwins, which the kernels' own tests run too).

// promptPathsCheck: the tiled GEMM prefill gives the GEMV loop's logits.

// 203 tokens: past engine.DefaultTiles().PanelMinTokens, so where the ISA

// has the panel kernels the prompt's matmuls take them, with a 3-token

// tail.

// flashPathsCheck: with flash attention a batched prompt gives the

// logits of the same prompt fed one token at a time, bit for bit.

// topologyCheck: the P-core detection on recorded hybrid dumps, and

// pinning on this machine.

// repackCheck: decode on the repacked rows gives the GGUF layout's

// logits bit for bit (golden llama-Q4_K_M, token by token).

// sameLogits evaluates the golden llama-Q4_K_M prompt (its first n

// tokens, from the 512-token prompt when n > 64; the 64-token one for

// n = 0) under two engine configurations, as one batch

// or token by token (decode), and reports whether every logit is equal.

// specGreedyCheck: greedy speculative decoding emits the target's own

// greedy tokens. Target: the golden llama-f32 model; draft: its Q4_K_M

// file (they agree often, not always, so both branches of the rule run).

// specDistributionCheck: the acceptance rule turns draft proposals into

// tokens with the target's distribution (Monte Carlo, 200k trials on two

// distributions that disagree).

// fixturePrompt is the golden fixtures' prompt of n tokens (their

// README): BOS, then a 32-bit linear congruential sequence mapped onto

// the non-special tokens. Generated, so a check needs no 512-token file.

func fixturePrompt(n int) []int32 {
	out := make([]int32, n)
	out[0] = 1
	s := uint32(12345)
	for i := 1; i < n; i++ {
		s = s*1103515245 + 12345
		out[i] = int32(3 + (s>>8)%1021)
	}
	return out
}
