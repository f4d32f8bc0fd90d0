// Package phases defines the roadmap's checkpoints. Phase N runs the
// engine with the optimisations of phases 1..N switched on, so a report
// shows what each step is worth against phase 0 (the naive baseline) and
// against the phase before. Each phase also carries the correctness
// checks of its step. A phase whose engine work has not landed says so
// and never passes.
package phases

import (
	"asdsl-bench/engine"
)

// Phase is one checkpoint.
type Phase struct {
	Name  string
	Title string
	// Missing is empty when the phase is implemented; otherwise it says
	// what has not landed.
	Missing string
	// ISA is the kernel set: "generic" or "" (the best this CPU has).
	ISA      string
	Features engine.Features
	// CompareISA, when the CPU has it, is benchmarked beside the phase's
	// own kernels (phase 2: the seed's float kernel against the integer
	// one), labelled with the ISA.
	CompareISA string
	// SameBenchAs names an earlier phase whose engine configuration this
	// one shares, so its benchmarks are not run twice.
	SameBenchAs string
	// Gated lists the target kinds that apply from this phase on:
	// "decode" (decode speed and bandwidth), "prefill" (TTFT, prefill).
	Gated  []string
	Checks []Check
	// Speculative: the phase also measures speculative decoding with each
	// suite model's draft (controlled acceptance, measure.Speculative).
	Speculative bool
}

// Implemented reports whether the phase's engine work has landed.
func (p *Phase) Implemented() bool { return p.Missing == "" }

// Gates reports whether a kind of target applies to the phase.
func (p *Phase) Gates(kind string) bool {
	for _, g := range p.Gated {
		if g == kind {
			return true
		}
	}
	return false
}

// FeatureString describes the engine configuration for reports.
func (p *Phase) FeatureString() string {
	isa := p.ISA
	if isa == "" {
		isa = "best SIMD"
	}
	s := "kernels " + isa
	if p.Features.SequentialPrompt {
		s += ", prompt as a GEMV loop"
	} else if p.Features.NoGEMM {
		s += ", prompt batched (per-token kernels)"
	} else {
		s += ", prompt as a tiled GEMM"
	}
	if p.Features.NoPin {
		s += ", threads unpinned"
	} else {
		s += ", threads pinned to P-cores"
	}
	if !p.Features.NoRepack {
		s += ", Q4_K rows repacked 4 at a time"
	}
	if !p.Features.NoPrefetch {
		s += ", prefetch thread"
	}
	if p.Features.NoFlash {
		return s + ", plain attention, f32 KV cache"
	}
	return s + ", tiled flash attention, Q8_0 KV cache"
}

// before6 switches off phase 6's work (the repacked decode layout and
// the prefetch thread) for the phases that precede it.
func before6(f engine.Features) engine.Features {
	f.NoRepack, f.NoPrefetch = true, true
	return f
}

// before5 also switches off phase 5's (flash attention, Q8_0 cache).
func before5(f engine.Features) engine.Features {
	f.NoFlash = true
	return before6(f)
}

var naive = before5(engine.Features{SequentialPrompt: true, NoGEMM: true, NoPin: true})

// All returns the checkpoints in order.
func All() []*Phase {
	return []*Phase{
		{Name: "phase0", Title: "naive baseline: scalar kernels, prompt as a GEMV loop, no pinning",
			ISA: "generic", Features: naive, Checks: []Check{goldenCheck}},
		{Name: "phase1", Title: "Q4_K_M super-blocks and the offline quantizer",
			ISA: "generic", Features: naive, SameBenchAs: "phase0", Checks: []Check{quantizerBytesCheck, quantizerKLCheck, quantizerBoundsCheck}},
		{Name: "phase2", Title: "SIMD GEMV kernels (nibbles unpacked in registers), run-time dispatch",
			Features: before5(engine.Features{SequentialPrompt: true, NoPin: true}), Gated: []string{"decode"}, CompareISA: "avx2-float",
			Checks: []Check{kernelTwinCheck, goldenCheck}},
		{Name: "phase3", Title: "prefill as a tiled GEMM",
			Features: before5(engine.Features{NoPin: true}), Gated: []string{"decode", "prefill"}, Checks: []Check{promptPathsCheck}},
		{Name: "phase4", Title: "math threads pinned to physical P-cores",
			Features: before5(engine.Features{}), Gated: []string{"decode", "prefill"}, Checks: []Check{topologyCheck}},
		// The int8 cache is Q8_0 (fp16 scales, llama.cpp's q8_0 cache
		// format, so its golden fixtures check the arithmetic), with keys,
		// queries and values Hadamard-rotated as llama.cpp does.
		{Name: "phase5", Title: "tiled flash attention, int8 (Q8_0) KV cache",
			Features: before6(engine.Features{}), Gated: []string{"decode", "prefill"}, Checks: []Check{flashGoldenCheck, flashPathsCheck}},
		// The repack happens when a model is loaded, not in an offline
		// file: GGUF files stay llama.cpp's, at the cost of a copy of the
		// Q4_K weights in memory and ~1 s per 3 GB.
		{Name: "phase6", Title: "4-row interleaved repack (at load), prefetch thread",
			Features: engine.Features{}, Gated: []string{"decode", "prefill"}, Checks: []Check{repackCheck}},
		// Speculative decoding needs a draft that predicts the target; a
		// mock draft (random weights) cannot, so on mocks acceptance is
		// controlled (measure.Speculative: the draft really runs, whether
		// its proposal matches is a seeded Bernoulli(alpha), the target
		// really verifies) and every cost is measured. Its plain decode is
		// phase 6's engine; its checks prove the output distribution is
		// the target's. `asdsl-bench generate --draft` measures real pairs.
		{Name: "phase7", Title: "speculative decoding (draft proposes, target verifies in one batch)",
			Features: engine.Features{}, SameBenchAs: "phase6", Speculative: true, Gated: []string{"speculative"},
			Checks: []Check{specGreedyCheck, specDistributionCheck}},
	}
}

// ByName finds a phase.
func ByName(name string) *Phase {
	for _, p := range All() {
		if p.Name == name {
			return p
		}
	}
	return nil
}
