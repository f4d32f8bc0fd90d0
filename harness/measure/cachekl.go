package measure

import (
	"fmt"
	"math/rand/v2"

	"asdsl-bench/engine"
	"asdsl-bench/internal/numerics"
)

// CacheKL is what phase 5's int8 cache costs in accuracy at depth: the
// same tokens through a session with the f32 cache and plain attention
// and one with the Q8_0 cache and flash attention, compared on the next-
// token distributions of the last Tail positions after Depth tokens.
type CacheKL struct {
	Depth int     `json:"depth"`
	Tail  int     `json:"tail"`
	KL    float64 `json:"kl"`   // mean KL(f32 || q8_0) over the tail
	Top1  float64 `json:"top1"` // share of the tail where the argmax agrees
}

// MeasureCacheKL runs both caches over depth+tail random tokens.
func MeasureCacheKL(m *engine.Model, depth, tail, threads int) (*CacheKL, error) {
	if depth < 0 || tail < 1 || depth+tail > m.Config.NCtx {
		return nil, fmt.Errorf("cache KL at depth %d + %d positions: the model's context is %d", depth, tail, m.Config.NCtx)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	toks := make([]int32, depth+tail)
	for i := range toks {
		toks[i] = int32(rng.IntN(m.Config.NVocab))
	}
	logits := func(f engine.Features) ([]float32, string, error) {
		s, err := m.NewSession(engine.SessionOptions{Context: depth + tail, Threads: threads, Features: f})
		if err != nil {
			return nil, "", err
		}
		defer s.Close()
		if depth > 0 {
			if _, err := s.Eval(toks[:depth], false); err != nil {
				return nil, "", err
			}
		}
		lg, err := s.Eval(toks[depth:], true)
		return append([]float32(nil), lg...), s.CacheType(), err
	}
	ref, refType, err := logits(engine.Features{NoFlash: true})
	if err != nil {
		return nil, err
	}
	got, gotType, err := logits(engine.Features{})
	if err != nil {
		return nil, err
	}
	if refType == gotType {
		return nil, fmt.Errorf("the model's heads do not fit the q8_0 cache: both sessions used %s", gotType)
	}
	kl, top1 := numerics.KL(ref, got, m.Config.NVocab)
	return &CacheKL{Depth: depth, Tail: tail, KL: kl, Top1: top1}, nil
}
