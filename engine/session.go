package engine

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"asdsl-bench/engine/hugemem"
	"asdsl-bench/engine/pool"
	"asdsl-bench/engine/topology"
	"asdsl-bench/kernels"
	"asdsl-bench/kernels/llamaorder"
)

// mathThreads is this machine's default CPU list, detected once.
var mathThreads = sync.OnceValue(func() []int { return topology.Detect().MathThreads() })

// ErrContextFull is returned when tokens would pass the context length.
var ErrContextFull = errors.New("context length exceeded")

// Session is one conversation's state: its KV cache, position, scratch
// buffers and math threads. Eval runs the whole forward pass on the
// session's worker 0 and returns when it is done; a session serves one
// Eval at a time.
type Session struct {
	m     *Model
	cache KVCache
	pos   int
	e     exec

	// Scratch, sized for the largest batch seen so far ([T][width]).
	x, xn, q, k, v, att, proj, fused, gate, up, logits []float32
	scratch                                            []*attnScratch // per worker
	attn                                               attnTask
	norm                                               normTask
	rope                                               ropeTask
	swiglu                                             swigluTask

	// trace, when set (tests only), receives intermediate tensors by
	// llama.cpp's names; see traceAt.
	trace func(name string, data []float32)

	// bd, when set, receives the forward passes' time per step.
	bd *Breakdown

	features Features

	// The pending Eval, handed to worker 0.
	evTokens []int32
	evAll    bool
	evOut    []float32
	evErr    error
}

// SessionOptions configure a session; zero values mean defaults.
type SessionOptions struct {
	Context int // KV capacity in positions; default min(trained context, 4096)
	// Threads is the number of math threads. Default: one per physical
	// P-core (topology.Detect().MathThreads()).
	Threads int
	// CPUs pins the math threads, one CPU each (len must equal Threads
	// when both are set). Default: the P-core threads when Threads does
	// not exceed their number; otherwise the threads are not pinned.
	CPUs []int
	// Features switch optimisations off, for the phase-by-phase
	// comparisons of the harness (zero value: everything on).
	Features Features
	// Kernels is the session's kernel table (kernels.Select: an ISA and a
	// GEMV prefetch distance). Default: kernels.Active(), the process's.
	// The table must not change while the session runs.
	Kernels *kernels.Ops
	// Tiles is the blocking of batched matmuls. Zero fields take
	// DefaultTiles' values.
	Tiles Tiles
}

// Features are the engine's optimisations that a benchmark can turn off
// to show what each one is worth.
type Features struct {
	// SequentialPrompt evaluates a prompt one token at a time (a loop of
	// GEMVs, reading every weight once per token) instead of one batch.
	SequentialPrompt bool
	// NoGEMM makes batched matmuls call the single-column kernel per
	// token instead of the 4-column GEMM kernel.
	NoGEMM bool
	// NoPin leaves the math threads unpinned.
	NoPin bool
	// NoRepack keeps decode on the GGUF layout instead of Q4_K rows
	// repacked four at a time (kernels.BlockQ4KR4, roadmap phase 6).
	NoRepack bool
	// NoPrefetch skips the prefetch thread that asks the OS to read the
	// mapped weights ahead of first use (phase 6).
	NoPrefetch bool
	// NoFlash keeps keys and values as f32 and attends one query at a
	// time (phases 0-4, and llama.cpp's setup for the golden fixtures
	// without "kvq8fa") instead of the Q8_0 cache with tiled flash
	// attention (phase 5). Models whose head size is not a multiple of
	// 32 always use the f32 cache.
	NoFlash bool
	// MapInPlace reads the matrices of a file written by asdsl-bench
	// repack from the file mapping (4 KiB pages) instead of copying them
	// into 2 MiB pages (Model.copyPackedHuge). The model's first session
	// decides for all of them.
	MapInPlace bool
	// LlamaCppOrder computes in the float order of the llama.cpp build
	// that made the golden fixtures (llamacpp_order.go): its Q4_K
	// rounding per pair of sub-blocks and its attention, on the generic
	// kernels and the GGUF layout (it implies NoRepack and replaces
	// SessionOptions.Kernels). Slow: for checking parity with llama.cpp.
	LlamaCppOrder bool
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
	th, cpus, err := threadPlan(o.Threads, o.CPUs)
	if err != nil {
		return nil, err
	}
	if o.Features.NoPin {
		cpus = nil
	}
	ops := o.Kernels
	if ops == nil {
		ops = kernels.Active()
	}
	if o.Features.LlamaCppOrder {
		ops = llamaorder.Ops(ops.Prefetch) // its prefetch setting, recorded
		o.Features.NoRepack = true
	}
	// A warm repacked file's matrices are copied into 2 MiB pages where
	// the OS gives them (Model.copyPackedHuge); the copy reads the file
	// in order, as the prefetch thread would.
	copied := m.packed && readsPacked(ops, o.Features) && m.copyPackedHuge(!o.Features.MapInPlace && hugemem.Available())
	if !o.Features.NoPrefetch && !copied {
		m.startPrefetch()
	}
	if !o.Features.NoRepack {
		m.repackR4()
	}
	if m.packed && !readsPacked(ops, o.Features) {
		m.unpackAll()
	}
	var cache KVCache
	if o.Features.NoFlash || !flashFits(m.Config) {
		cache = newF32Cache(m.Config, ctx, ops)
	} else {
		cache = newQ8Cache(m.Config, ctx, ops)
	}
	if o.Features.LlamaCppOrder {
		cache = llamaOrderCache(cache)
	}
	e := exec{pool: pool.New(th, cpus), ops: ops, tiles: o.Tiles.orDefault(), noGEMM: o.Features.NoGEMM, noRepack: o.Features.NoRepack}
	s := &Session{m: m, cache: cache, e: e, features: o.Features}
	s.scratch = make([]*attnScratch, th)
	for i := range s.scratch {
		s.scratch[i] = cache.NewScratch()
	}
	s.attn.s = s
	// The pool's threads hold no reference to the session, so an
	// abandoned session is collected and its threads stopped.
	runtime.SetFinalizer(s, func(s *Session) { s.e.pool.Close() })
	return s, nil
}

// CacheType names the KV cache as llama-bench's type_k/type_v do:
// "q8_0" (with flash attention) or "f32" (plain attention).
func (s *Session) CacheType() string {
	switch s.cache.(type) {
	case *q8Cache, llamaOrderQ8:
		return "q8_0"
	}
	return "f32"
}

// KVBytesPerToken is what one position of context costs in the cache,
// keys and values over every layer: 4 bytes per value in the f32 cache,
// 34 per 32 (Q8_0 blocks: fp16 scale and 32 int8) in the q8_0 cache.
func (s *Session) KVBytesPerToken() int64 {
	vals := int64(2 * s.m.Config.NLayer * s.m.Config.KVDim())
	if s.CacheType() == "q8_0" {
		return vals / 32 * 34
	}
	return vals * 4
}

// Close stops the session's threads.
func (s *Session) Close() { s.e.pool.Close() }

// Rest lets the session's idle threads sleep now rather than wait for
// its next evaluation: call it before turning to another session whose
// threads share the CPUs (speculative decoding's draft and target).
func (s *Session) Rest() { s.e.pool.Rest() }

// Workers reports the session's math threads and the CPUs they are
// pinned to.
func (s *Session) Workers() []pool.WorkerInfo { return s.e.pool.Workers() }

// ThreadIDs are the OS thread ids of the session's math threads, where
// the OS gives them (Linux; none elsewhere): what per-thread accounting
// such as the scheduler's run-queue wait is read for.
func (s *Session) ThreadIDs() []int {
	var tids []int
	for _, w := range s.Workers() {
		if w.TID != 0 {
			tids = append(tids, w.TID)
		}
	}
	return tids
}

// MathCPUs is the CPU list a session of threads math threads pins them
// to (nil when they run unpinned: more threads than P-cores, or no
// topology), so a measurement can run where the math will.
func MathCPUs(threads int) []int {
	_, cpus, err := threadPlan(threads, nil)
	if err != nil {
		return nil
	}
	return cpus
}

// SessionThreads is the number of math threads a session asked for
// threads (0: one per P-core) runs.
func SessionThreads(threads int) int {
	th, _, err := threadPlan(threads, nil)
	if err != nil || th < 1 {
		return 1
	}
	return th
}

// threadPlan turns the options into a thread count and CPU list.
func threadPlan(threads int, cpus []int) (int, []int, error) {
	if len(cpus) > 0 {
		if threads > 0 && threads != len(cpus) {
			return 0, nil, fmt.Errorf("%d threads but %d CPUs to pin them to", threads, len(cpus))
		}
		return len(cpus), cpus, nil
	}
	math := mathThreads()
	if threads <= 0 {
		threads = len(math)
	}
	if threads <= len(math) {
		return threads, math[:threads], nil
	}
	return threads, nil, nil
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
	s.evTokens, s.evAll = tokens, all
	s.e.pool.Exec(s)
	out, err := s.evOut, s.evErr
	s.evTokens, s.evOut, s.evErr = nil, nil, nil
	return out, err
}

// Main runs the pending Eval on worker 0 (pool.Mainer).
func (s *Session) Main() {
	if s.features.SequentialPrompt && len(s.evTokens) > 1 {
		s.evOut, s.evErr = s.evalSequential(s.evTokens, s.evAll)
		return
	}
	s.evOut, s.evErr = s.eval(s.evTokens, s.evAll)
}
