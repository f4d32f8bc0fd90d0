package engine

// The forward pass: a batch of tokens through every layer to the logits.
// It runs on the session's worker 0 (Session.Main); matmuls, norms,
// RoPE and attention fan out to the session's pool and return when all
// workers are done, so each op sees the previous op's results whole
// (threads synchronise at op boundaries only).

import (
	"errors"
	"fmt"
)

// evalSequential feeds tokens one at a time (the GEMV-loop baseline),
// collecting every token's logits when all is set.
func (s *Session) evalSequential(tokens []int32, all bool) ([]float32, error) {
	v := s.m.Config.NVocab
	var seq []float32
	if all {
		seq = make([]float32, len(tokens)*v)
	}
	var last []float32
	for i := range tokens {
		lg, err := s.eval(tokens[i:i+1], false)
		if err != nil {
			return nil, err
		}
		if all {
			copy(seq[i*v:], lg)
		}
		last = lg
	}
	if all {
		return seq, nil
	}
	return last, nil
}

func (s *Session) eval(tokens []int32, all bool) ([]float32, error) {
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
	s.markStart(T)
	d := c.NEmbd
	for t, tok := range tokens {
		s.m.tokEmb.DequantRow(int(tok), s.x[t*d:(t+1)*d])
	}
	s.mark(StepEmbed)
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
	if s.trace != nil {
		s.trace("result_norm", s.xn[:n*d])
	}
	// Logits only for the rows asked for: a 512-token prompt of a
	// 100k-vocabulary model would otherwise hold 200 MB for one row.
	s.logits = grow(s.logits, n*c.NVocab)
	out := s.logits
	s.e.matmul(out, s.m.output, s.xn, n)
	s.mark(StepOutput)
	s.markEnd()
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
		s.e.matmulGroup([3][]float32{parts[0].dst, parts[1].dst, parts[2].dst}, ws, in, T)
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
	s.norm = normTask{out: s.xn, x: s.x, w: l.attnNorm, d: d, eps: c.NormEps}
	s.e.parallelTokens(&s.norm, T, d)
	s.mark(StepNorm)
	s.traceAt("attn_norm", li, s.xn[:T*d])
	s.project(l.qkv, s.xn, T, [3]split{{s.q, qd}, {s.k, kvd}, {s.v, kvd}}, 3)
	s.mark(StepQKV)
	s.traceAt("Qcur", li, s.q[:T*qd])
	s.traceAt("Kcur", li, s.k[:T*kvd])
	s.traceAt("Vcur", li, s.v[:T*kvd])
	s.rope = ropeTask{r: m.rope, q: s.q, k: s.k, qd: qd, kvd: kvd, nh: c.NHead, nkv: c.NHeadKV, hd: hd, pos: s.pos, neox: c.RopeNeox}
	s.e.parallelTokens(&s.rope, T, qd+kvd)
	s.mark(StepRope)
	s.traceAt("Qcur-rope", li, s.q[:T*qd])
	s.traceAt("Kcur-rope", li, s.k[:T*kvd])
	for t := 0; t < T; t++ { // the cache's quantizer has one scratch row: in order
		s.cache.Put(li, s.pos+t, s.k[t*kvd:(t+1)*kvd], s.v[t*kvd:(t+1)*kvd])
	}
	s.mark(StepKVStore)
	// Causal attention: token t sees positions 0..pos+t. Jobs are (KV
	// head, block of flashQueries tokens); each takes a whole group of
	// query heads, so a cache tile read once serves all of them. Later
	// blocks see more keys, so jobs are handed out one at a time.
	s.attn.layer, s.attn.T = li, T
	s.e.parallelChunk(&s.attn, c.NHeadKV*((T+flashQueries-1)/flashQueries), (s.pos+T)*hd*min(T, flashQueries), 1)
	s.mark(StepAttention)
	s.traceAt("kqv_out", li, s.att[:T*qd])
	s.e.matmul(s.proj, l.wo, s.att, T)
	s.mark(StepWo)
	s.traceAt("attn_out", li, s.proj[:T*d])
	s.norm = normTask{out: s.xn, x: s.x, w: l.ffnNorm, add: s.proj, d: d, eps: c.NormEps} // residual, then norm
	s.e.parallelTokens(&s.norm, T, d)
	s.mark(StepNorm)
	s.traceAt("ffn_inp", li, s.x[:T*d])
	s.traceAt("ffn_norm", li, s.xn[:T*d])
	s.project(l.gateUp, s.xn, T, [3]split{{s.gate, c.NFF}, {s.up, c.NFF}}, 2)
	s.mark(StepGateUp)
	s.traceAt("ffn_gate", li, s.gate[:T*c.NFF])
	s.traceAt("ffn_up", li, s.up[:T*c.NFF])
	s.swiglu = swigluTask{f: s.e.ops.SwiGLU, gate: s.gate, up: s.up, n: c.NFF}
	s.e.parallelTokens(&s.swiglu, T, c.NFF) // silu(gate)·up
	s.mark(StepSwiGLU)
	s.traceAt("ffn_swiglu", li, s.gate[:T*c.NFF])
	s.e.matmul(s.proj, l.down, s.gate, T)
	s.mark(StepDown)
	s.traceAt("ffn_out", li, s.proj[:T*d])
	s.norm = normTask{x: s.x, add: s.proj, d: d} // residual only
	s.e.parallelTokens(&s.norm, T, d)
	s.mark(StepNorm)
	s.traceAt("l_out", li, s.x[:T*d])
}

// traceAt hands an intermediate tensor to the session's tracer, if any:
// llama.cpp's tensor names, so a test can compare op by op with the
// tensors llama.cpp computed (fixtures' intermediates/).
func (s *Session) traceAt(name string, layer int, data []float32) {
	if s.trace != nil {
		s.trace(fmt.Sprintf("%s-%d", name, layer), data)
	}
}

// attnTask is the attention loop over (token, head) pairs.
type attnTask struct {
	s        *Session
	layer, T int
}

func (a *attnTask) Run(w, j0, j1 int) {
	s, c := a.s, &a.s.m.Config
	qd := c.QDim()
	for j := j0; j < j1; j++ {
		kvh, t0 := j%c.NHeadKV, (j/c.NHeadKV)*flashQueries
		n := min(flashQueries, a.T-t0)
		s.cache.Attend(a.layer, kvh, s.pos+t0, n, s.q[t0*qd:], s.att[t0*qd:], qd, s.scratch[w])
	}
}

// swigluTask replaces the gate by silu(gate)·up for tokens [t0, t1)
// (n wide each).
type swigluTask struct {
	f        func(gate, up []float32)
	gate, up []float32
	n        int
}

func (t *swigluTask) Run(_, t0, t1 int) {
	t.f(t.gate[t0*t.n:t1*t.n], t.up[t0*t.n:t1*t.n])
}
