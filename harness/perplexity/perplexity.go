// Package perplexity measures a model's perplexity on a text as
// llama.cpp's llama-perplexity does, so the two figures compare: the
// tokens are cut into chunks of the context length, each chunk starts
// with BOS (where the vocabulary adds one), and only the second half of
// each chunk is scored, so every scored token has at least half a
// context before it.
package perplexity

import (
	"fmt"
	"math"

	"asdsl-bench/engine"
	"asdsl-bench/internal/numerics"
)

// Options of a perplexity run.
type Options struct {
	Ctx      int   // tokens per chunk (llama-perplexity -c)
	Chunks   int   // at most this many chunks (0: all)
	BOS      int32 // replaces each chunk's first token; -1: none
	Threads  int
	Features engine.Features
	// Progress, if set, gets each chunk's running perplexity.
	Progress func(chunk int, ppl float64)
}

// Result is the perplexity with llama.cpp's uncertainty and the running
// value after each chunk.
type Result struct {
	PPL     float64   `json:"ppl"`
	PPLErr  float64   `json:"ppl_err"`
	Running []float64 `json:"running"`
	Scored  int       `json:"scored"` // tokens scored
}

// Run scores tokens (the whole text, tokenized once).
func Run(m *engine.Model, tokens []int32, o Options) (*Result, error) {
	if o.Ctx < 2 || o.Ctx > m.Config.NCtx {
		return nil, fmt.Errorf("context %d: must be 2..%d (the model's)", o.Ctx, m.Config.NCtx)
	}
	n := len(tokens) / o.Ctx
	if o.Chunks > 0 {
		n = min(n, o.Chunks)
	}
	if n == 0 {
		return nil, fmt.Errorf("%d tokens are fewer than one chunk of %d", len(tokens), o.Ctx)
	}
	s, err := m.NewSession(engine.SessionOptions{Context: o.Ctx, Threads: o.Threads, Features: o.Features})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	vocab := m.Config.NVocab
	first := o.Ctx / 2
	batch := make([]int32, o.Ctx)
	res := &Result{}
	var nll, nll2 float64
	for c := 0; c < n; c++ {
		start := c * o.Ctx
		copy(batch, tokens[start:start+o.Ctx])
		if o.BOS >= 0 {
			batch[0] = o.BOS
		}
		s.Reset()
		lg, err := s.Eval(batch, true)
		if err != nil {
			return nil, err
		}
		for j := first; j < o.Ctx-1; j++ {
			v := -numerics.LogProb(lg[j*vocab:(j+1)*vocab], tokens[start+j+1])
			nll += v
			nll2 += v * v
			res.Scored++
		}
		ppl := math.Exp(nll / float64(res.Scored))
		res.Running = append(res.Running, ppl)
		if o.Progress != nil {
			o.Progress(c+1, ppl)
		}
	}
	mean := nll / float64(res.Scored)
	res.PPL = math.Exp(mean)
	if res.Scored > 1 {
		// llama.cpp's uncertainty: the standard error of the mean NLL,
		// carried to the perplexity to first order.
		v := nll2/float64(res.Scored) - mean*mean
		res.PPLErr = res.PPL * math.Sqrt(math.Max(v, 0)/float64(res.Scored-1))
	}
	return res, nil
}
