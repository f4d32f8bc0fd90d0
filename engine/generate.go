package engine

import (
	"fmt"
	"time"
)

// GenerateStats reports the timing of one generation.
type GenerateStats struct {
	PromptTokens    int
	GeneratedTokens int
	PromptTime      time.Duration // time to first token (prompt evaluation)
	DecodeTime      time.Duration
	StoppedAtEOS    bool
}

// Generate evaluates the prompt, then samples up to n tokens, calling
// emit for each; generation stops early at EOS (when eos >= 0) or when
// emit returns false. The prompt plus n tokens must fit the context: that
// is checked before any work is done.
func Generate(s *Session, prompt []int32, n int, smp *Sampler, eos int32, emit func(id int32) bool) (GenerateStats, error) {
	st := GenerateStats{PromptTokens: len(prompt)}
	if len(prompt) == 0 {
		return st, fmt.Errorf("empty prompt")
	}
	if need := s.Pos() + len(prompt) + n; need > s.Capacity() {
		return st, fmt.Errorf("%w: prompt of %d tokens plus %d to generate needs %d positions, context is %d (raise --ctx or lower -n)",
			ErrContextFull, len(prompt), n, need, s.Capacity())
	}
	t0 := time.Now()
	logits, err := s.Eval(prompt, false)
	if err != nil {
		return st, err
	}
	st.PromptTime = time.Since(t0)
	t1 := time.Now()
	tok := []int32{0}
	for i := 0; i < n; i++ {
		id := smp.Sample(logits)
		if eos >= 0 && id == eos {
			st.StoppedAtEOS = true
			break
		}
		st.GeneratedTokens++
		if !emit(id) {
			break
		}
		if i == n-1 {
			break
		}
		tok[0] = id
		if logits, err = s.Eval(tok, false); err != nil {
			return st, err
		}
	}
	st.DecodeTime = time.Since(t1)
	return st, nil
}
