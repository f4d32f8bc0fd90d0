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
	// KLMax replaces the bounds of the quantized golden files' 64-token
	// cases (0: the bounds of golden.Cases).
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
