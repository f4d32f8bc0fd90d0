package engine

import (
	"errors"
	"fmt"
)

// ErrContextFull is returned when tokens would pass the context length.
var ErrContextFull = errors.New("context length exceeded")

// Session is one conversation's state: its KV cache, position and
// scratch buffers. A session is used by one goroutine at a time; it fans
// out to its own worker threads inside each op and joins before
// returning.
type Session struct {
	m     *Model
	cache KVCache
	pos   int
	e     exec

	// Scratch, sized for the largest batch seen so far ([T][width]).
	x, xn, q, k, v, att, proj, fused, gate, up, logits []float32
	scores                                             [][]float32 // per worker
}

// SessionOptions configure a session; zero values mean defaults.
type SessionOptions struct {
	Context int // KV capacity in positions; default min(trained context, 4096)
	Threads int // math threads; default one per CPU
}

// NewSession allocates a session with its KV cache.
func (m *Model) NewSession(o SessionOptions) (*Session, error) {
	ctx := o.Context
	if ctx <= 0 {
		ctx = min(m.Config.NCtx, 4096)
	}
	if ctx > m.Config.NCtx {
		return nil, fmt.Errorf("context %d exceeds the model's trained context %d", ctx, m.Config.NCtx)
	}
	th := o.Threads
	if th <= 0 {
		th = DefaultThreads()
	}
	s := &Session{m: m, cache: newF32Cache(m.Config, ctx), e: exec{threads: th}}
	s.scores = make([][]float32, th)
	for i := range s.scores {
		s.scores[i] = make([]float32, s.cache.AttendScratch(ctx))
	}
	return s, nil
}

// Model returns the session's model.
func (s *Session) Model() *Model { return s.m }

// Pos is the number of tokens already in the cache.
func (s *Session) Pos() int { return s.pos }

// Capacity is the context length of the session.
func (s *Session) Capacity() int { return s.cache.Capacity() }

// Reset forgets all tokens (the cache is overwritten, not cleared).
func (s *Session) Reset() { s.pos = 0 }

// Rewind drops tokens after position n (speculative rollback).
func (s *Session) Rewind(n int) {
	if n < s.pos && n >= 0 {
		s.pos = n
	}
}

// Eval appends tokens at the current position and returns logits:
// [len(tokens)][vocab] when all is true, else [1][vocab] for the last
// token. The returned slice is reused by the next call.
func (s *Session) Eval(tokens []int32, all bool) ([]float32, error) {
	c := &s.m.Config
	T := len(tokens)
	if T == 0 {
		return nil, errors.New("no tokens to evaluate")
	}
	if s.pos+T > s.cache.Capacity() {
		return nil, fmt.Errorf("%w: %d tokens at position %d need %d positions, context is %d",
			ErrContextFull, T, s.pos, s.pos+T, s.cache.Capacity())
	}
	for _, t := range tokens {
		if t < 0 || int(t) >= c.NVocab {
			return nil, fmt.Errorf("token id %d is outside the vocabulary (0..%d)", t, c.NVocab-1)
		}
	}
	s.ensure(T)
	d := c.NEmbd
	for t, tok := range tokens {
		s.m.tokEmb.DequantRow(int(tok), s.x[t*d:(t+1)*d])
	}
	for li := range s.m.layers {
		s.layer(li, T)
	}
	first := 0
	if !all {
		first = T - 1
	}
	n := T - first
	for t := first; t < T; t++ {
		rmsNorm(s.xn[(t-first)*d:(t-first+1)*d], s.x[t*d:(t+1)*d], s.m.outNorm, c.NormEps)
	}
	out := s.logits[:n*c.NVocab]
	s.e.matmul(out, s.m.output, s.xn, n)
	s.pos += T
	return out, nil
}

func (s *Session) ensure(T int) {
	c := &s.m.Config
	s.x = grow(s.x, T*c.NEmbd)
	s.xn = grow(s.xn, T*c.NEmbd)
	s.q = grow(s.q, T*c.QDim())
	s.k = grow(s.k, T*c.KVDim())
	s.v = grow(s.v, T*c.KVDim())
	s.att = grow(s.att, T*c.QDim())
	s.proj = grow(s.proj, T*c.NEmbd)
	s.fused = grow(s.fused, T*max(c.QDim()+2*c.KVDim(), 2*c.NFF))
	s.gate = grow(s.gate, T*c.NFF)
	s.up = grow(s.up, T*c.NFF)
	s.logits = grow(s.logits, T*c.NVocab)
}

// split names one destination of a projection and its width per token.
type split struct {
	dst   []float32
	width int
}

// project runs a projection that is either one fused matrix (outputs are
// split by rows into the destinations) or one matrix per destination.
// Destinations come as a fixed array so a decode step allocates nothing.
func (s *Session) project(ws []*Matrix, in []float32, T int, parts [3]split, n int) {
	if len(ws) == n {
		for i, w := range ws {
			s.e.matmul(parts[i].dst, w, in, T)
		}
		return
	}
	total := ws[0].Rows
	s.e.matmul(s.fused, ws[0], in, T)
	for t := 0; t < T; t++ {
		off := t * total
		for _, p := range parts[:n] {
			copy(p.dst[t*p.width:(t+1)*p.width], s.fused[off:off+p.width])
			off += p.width
		}
	}
}

func (s *Session) layer(li, T int) {
	m, c := s.m, &s.m.Config
	l := &m.layers[li]
	d, qd, kvd, hd := c.NEmbd, c.QDim(), c.KVDim(), c.HeadDim
	for t := 0; t < T; t++ {
		rmsNorm(s.xn[t*d:(t+1)*d], s.x[t*d:(t+1)*d], l.attnNorm, c.NormEps)
	}
	s.project(l.qkv, s.xn, T, [3]split{{s.q, qd}, {s.k, kvd}, {s.v, kvd}}, 3)
	for t := 0; t < T; t++ {
		p := s.pos + t
		m.rope.apply(s.q[t*qd:(t+1)*qd], c.NHead, hd, p, c.RopeNeox)
		m.rope.apply(s.k[t*kvd:(t+1)*kvd], c.NHeadKV, hd, p, c.RopeNeox)
		s.cache.Put(li, p, s.k[t*kvd:(t+1)*kvd], s.v[t*kvd:(t+1)*kvd])
	}
	// Causal attention: token t sees positions 0..pos+t. Jobs are
	// (token, head) pairs; each worker has its own score buffer.
	jobs := T * c.NHead
	s.parallelJobs(jobs, (s.pos+T)*hd, func(w, j0, j1 int) {
		for j := j0; j < j1; j++ {
			t, h := j/c.NHead, j%c.NHead
			o := t*qd + h*hd
			s.cache.Attend(li, h, s.q[o:o+hd], s.pos+t+1, s.att[o:o+hd], s.scores[w])
		}
	})
	s.e.matmul(s.proj, l.wo, s.att, T)
	for i := range s.x[:T*d] {
		s.x[i] += s.proj[i]
	}
	for t := 0; t < T; t++ {
		rmsNorm(s.xn[t*d:(t+1)*d], s.x[t*d:(t+1)*d], l.ffnNorm, c.NormEps)
	}
	s.project(l.gateUp, s.xn, T, [3]split{{s.gate, c.NFF}, {s.up, c.NFF}}, 2)
	for i := range s.gate[:T*c.NFF] {
		s.gate[i] = silu(s.gate[i]) * s.up[i]
	}
	s.e.matmul(s.proj, l.down, s.gate, T)
	for i := range s.x[:T*d] {
		s.x[i] += s.proj[i]
	}
}

// parallelJobs splits n independent jobs over the session's threads,
// passing each worker its index for per-worker scratch.
func (s *Session) parallelJobs(n, workPerJob int, f func(worker, j0, j1 int)) {
	th := min(s.e.threads, n)
	if th <= 1 || n*workPerJob < 1<<14 {
		f(0, 0, n)
		return
	}
	chunk := (n + th - 1) / th
	done := make(chan struct{}, th)
	k := 0
	for j0 := 0; j0 < n; j0 += chunk {
		go func(w, j0 int) {
			f(w, j0, min(j0+chunk, n))
			done <- struct{}{}
		}(k, j0)
		k++
	}
	for ; k > 0; k-- {
		<-done
	}
}
