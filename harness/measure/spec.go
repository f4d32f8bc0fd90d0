package measure

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"asdsl-bench/engine"

	"asdsl-bench/internal/stats"
)

// Speculative decoding's speed on mock models (phase 7). A mock draft
// (random weights) cannot predict a mock target, so its proposals would
// all be rejected and the measurement would say nothing. Acceptance is
// therefore controlled: the draft model really runs each step (its cost
// is real), but whether its proposal matches the target is drawn from a
// seeded Bernoulli(alpha) against the target's own greedy continuation,
// recorded first. The target then really verifies the proposals in one
// batch and really compares its argmax with each: the acceptance rate
// reported is the one measured, close to alpha by construction. The
// result is labelled controlled acceptance with measured costs, and is
// checked against the speed-up Leviathan et al. (2023) predict from the
// same measured costs.

// SpecOptions configure a controlled speculative measurement.
type SpecOptions struct {
	Prompt, Generate int
	// K is the draft length (proposals per round); 0 chooses it from
	// 1..AutoMaxK by Leviathan's formula at ChooseAlpha on costs measured
	// first (ChooseDraftLength).
	K           int
	ChooseAlpha float64   // the acceptance K = 0 chooses for (0: 0.7)
	Alphas      []float64 // controlled acceptance probabilities
	Reps        int
	Seed        uint64
}

// AutoMaxK is the longest draft SpecOptions.K = 0 considers: a 5-token
// verification already costs two 4-column GEMM passes' worth.
const AutoMaxK = 4

// SpecResult is one alpha's measurement.
type SpecResult struct {
	Alpha float64 `json:"alpha"`
	K     int     `json:"k"`
	// Effective decode speed with speculation (tokens emitted per second
	// of draft plus verify), one per repetition.
	TPS []float64 `json:"tps"`
	// PlainTPS is the same target decoding alone, one per repetition,
	// alternated with TPS.
	PlainTPS []float64 `json:"plain_tps"`
	// Disturbance is, per repetition, the share of the machine other
	// processes and the hypervisor took (hostload.Load), the larger of
	// its plain run's and its speculative run's; -1 where it could not
	// be measured. A speed-up missed on such a repetition measured the
	// scheduler.
	Disturbance []float64 `json:"disturbance,omitempty"`
	AcceptRate  float64   `json:"accept_rate"` // measured: kept / proposed
	// AlphaSeen estimates the per-proposal acceptance the target applied:
	// kept / (kept + rejected), the proposals after a rejection never
	// being judged. It should be close to Alpha.
	AlphaSeen     float64 `json:"alpha_seen"`
	TokensPerPass float64 `json:"tokens_per_pass"` // emitted per target verification
	// DraftCost is one draft step's time over one target decode step's
	// (a round's first step takes two tokens after a round that kept
	// every proposal), and VerifyCost one verification's (k+1 tokens in
	// one batch), both measured inside the speculative runs.
	DraftCost  float64 `json:"draft_cost"`
	VerifyCost float64 `json:"verify_cost"`
	// Expected is Leviathan et al.'s speed-up over plain decoding from the
	// measured costs: E[tokens per round] = (1-a^(k+1))/(1-a), over one
	// round's time (k draft steps, one verify of k+1 tokens) in units
	// of a target decode step.
	Expected float64 `json:"expected"`
}

// SpecMeasurement is every alpha plus the verify-batch cost curve.
type SpecMeasurement struct {
	// Curve[i] is the time to evaluate i+1 tokens in one target call,
	// over the time for one: what verifying a batch costs.
	Curve   []float64    `json:"verify_curve"`
	Results []SpecResult `json:"results"`
	// Chosen is how the draft length was chosen (nil: the suite fixed it).
	Chosen *DraftChoice `json:"chosen,omitempty"`
}

// DraftChoice records a draft length chosen from measured costs.
type DraftChoice struct {
	Alpha float64 `json:"alpha"`
	// DraftFirst and DraftNext are a round's first draft decode step and
	// each later one over one target decode step, measured before the
	// speculative runs (0 for prompt lookup). The first is dearer: the
	// target's pass has just evicted the draft's weights from the caches
	// (a 73 MB draft fits this host's L3, a 668 MB target does not) and
	// the draft's pool was resting.
	DraftFirst float64 `json:"draft_first"`
	DraftNext  float64 `json:"draft_next"`
	// Expected[k-1] is Leviathan's speed-up for draft length k on the
	// verify curve, k draft steps costing DraftFirst + (k-1)·DraftNext.
	Expected []float64 `json:"expected"`
	K        int       `json:"k"`
}

// Speedup is the median over repetitions of each speculative run's speed
// over the plain run alternated with it: the pairs share the host's
// state, while repetitions minutes apart need not. (Records with
// unequal counts fall back to the ratio of the medians.)
func (r SpecResult) Speedup() float64 {
	if len(r.TPS) != len(r.PlainTPS) || len(r.TPS) == 0 {
		return stats.Median(r.TPS) / stats.Median(r.PlainTPS)
	}
	return stats.Median(r.Ratios())
}

// Ratios are the repetitions' speed-ups: each speculative run over the
// plain run alternated with it (as many as both have).
func (r SpecResult) Ratios() []float64 {
	out := make([]float64, min(len(r.TPS), len(r.PlainTPS)))
	for i := range out {
		out[i] = r.TPS[i] / r.PlainTPS[i]
	}
	return out
}

// Speculative measures controlled-acceptance speculation for each alpha.
// target and draft must share the vocabulary. A nil draft is draft-free
// speculation: each round's proposals come from engine.PromptLookup
// over the context (its cost is measured; acceptance is controlled the
// same way).
func Speculative(target, draft *engine.Session, o SpecOptions) (*SpecMeasurement, error) {
	tm := target.Model()
	if o.K < 0 || o.Generate < 1 || o.Prompt < 1 || o.Reps < 1 {
		return nil, fmt.Errorf("speculative measurement needs k >= 0 (0: chosen), prompt, generate and reps >= 1")
	}
	need := o.Prompt + o.Generate + max(o.K, AutoMaxK) + 1
	if need > target.Capacity() {
		return nil, fmt.Errorf("speculation needs %d positions; the target's context is %d", need, target.Capacity())
	}
	if draft != nil {
		if dm := draft.Model(); tm.Config.NVocab != dm.Config.NVocab {
			return nil, fmt.Errorf("draft vocabulary (%d) differs from the target's (%d)", dm.Config.NVocab, tm.Config.NVocab)
		}
		if need > draft.Capacity() {
			return nil, fmt.Errorf("speculation needs %d positions; the draft's context is %d", need, draft.Capacity())
		}
	}
	rng := rand.New(rand.NewPCG(o.Seed, 77))
	prompt := make([]int32, o.Prompt)
	for i := range prompt {
		prompt[i] = int32(rng.IntN(tm.Config.NVocab))
	}
	// The target's greedy continuation, the reference every controlled
	// proposal is drawn against.
	ref, err := greedy(target, prompt, o.Generate+max(o.K, AutoMaxK)+1)
	if err != nil {
		return nil, err
	}
	out := &SpecMeasurement{}
	if o.K == 0 {
		if out.Curve, err = verifyCurve(target, prompt, AutoMaxK+1); err != nil {
			return nil, err
		}
		a := o.ChooseAlpha
		if a == 0 {
			a = 0.7
		}
		c := &DraftChoice{Alpha: a}
		if draft != nil {
			if c.DraftFirst, c.DraftNext, err = draftStepCost(target, draft, prompt); err != nil {
				return nil, err
			}
		}
		c.K, c.Expected = ChooseDraftLength(out.Curve, c.DraftFirst, c.DraftNext, a)
		out.Chosen, o.K = c, c.K
	} else if out.Curve, err = verifyCurve(target, prompt, o.K+1); err != nil {
		return nil, err
	}
	for _, alpha := range o.Alphas {
		if alpha < 0 || alpha >= 1 {
			return nil, fmt.Errorf("alpha %v: must be in [0,1)", alpha)
		}
		res := SpecResult{Alpha: alpha, K: o.K}
		var drafted, accepted, passes, emitted, misses int
		var draftTime, plainTime, verifyTime time.Duration
		var plainSteps, draftSteps int
		var disturb runLoad
		for rep := 0; rep < o.Reps; rep++ {
			// Plain decoding of the same tokens, alternated with the
			// speculative run so both see the same machine.
			target.Reset()
			if _, err := target.Eval(prompt, false); err != nil {
				return nil, err
			}
			disturb.start()
			t0 := time.Now()
			tok := []int32{ref[0]}
			for i := 1; i < o.Generate; i++ {
				if _, err := target.Eval(tok, false); err != nil {
					return nil, err
				}
				tok[0] = ref[i]
			}
			d := time.Since(t0)
			plainLoad := disturb.stop()
			plainTime += d
			plainSteps += o.Generate - 1
			res.PlainTPS = append(res.PlainTPS, float64(o.Generate-1)/d.Seconds())

			disturb.start()
			st, err := controlled(target, draft, prompt, ref, o, alpha, rand.New(rand.NewPCG(o.Seed+uint64(rep), uint64(1000*alpha))))
			if err != nil {
				return nil, err
			}
			res.Disturbance = append(res.Disturbance, max(plainLoad, disturb.stop()))
			res.TPS = append(res.TPS, float64(st.emitted)/st.total.Seconds())
			drafted += st.drafted
			accepted += st.accepted
			misses += st.misses
			passes += st.passes
			emitted += st.emitted
			draftTime += st.draftTime
			verifyTime += st.verifyTime
			draftSteps += st.draftSteps
		}
		res.AcceptRate = float64(accepted) / float64(drafted)
		res.AlphaSeen = float64(accepted) / float64(accepted+misses)
		res.TokensPerPass = float64(emitted) / float64(passes)
		tStep := plainTime.Seconds() / float64(plainSteps)
		dStep := draftTime.Seconds() / float64(draftSteps)
		res.DraftCost = dStep / tStep
		res.VerifyCost = verifyTime.Seconds() / float64(passes) / tStep
		res.Expected = leviathan(alpha, o.K, float64(o.K)*res.DraftCost, res.VerifyCost)
		out.Results = append(out.Results, res)
	}
	return out, nil
}

// leviathan is Leviathan et al.'s expected speed-up over plain decoding:
// E[tokens per round] = (1-a^(k+1))/(1-a) over one round's time, its k
// draft steps (drafts) and one verification, in target decode steps.
func leviathan(alpha float64, k int, drafts, verify float64) float64 {
	eTokens := (1 - math.Pow(alpha, float64(k+1))) / (1 - alpha)
	return eTokens / (drafts + verify)
}

// ChooseDraftLength picks the draft length k in 1..len(curve)-1 with the
// highest expected speed-up at acceptance alpha, given the verify curve
// (curve[i]: i+1 tokens in one call, in decode steps) and a round's
// first and later draft steps' costs; expected[k-1] is each k's. What
// the best k is depends on the host: the curve's steps are where the
// GEMM's column count runs out of compute under the weight stream.
func ChooseDraftLength(curve []float64, draftFirst, draftNext, alpha float64) (k int, expected []float64) {
	for i := 1; i < len(curve); i++ {
		e := leviathan(alpha, i, draftFirst+float64(i-1)*draftNext, curve[i])
		expected = append(expected, e)
		if k == 0 || e > expected[k-1] {
			k = i
		}
	}
	return k, expected
}

// draftStepCost measures a round's first draft step and the later ones,
// each over one target decode step: rounds of four single-token target
// steps then four draft steps after the prompt, each session resting
// while the other works (as in GenerateSpeculative); medians of ten
// rounds after two warm-up rounds. The target's step is its later three
// (plain decoding runs its steps back to back).
func draftStepCost(target, draft *engine.Session, prompt []int32) (first, next float64, err error) {
	sessions := []*engine.Session{target, draft}
	bases := make([]int, 2)
	for i, s := range sessions {
		s.Reset()
		if _, err := s.Eval(prompt, false); err != nil {
			return 0, 0, err
		}
		bases[i] = s.Pos()
	}
	var tgt, dFirst, dNext []float64
	tok := prompt[len(prompt)-1:]
	for r := 0; r < 12; r++ {
		for i, s := range sessions {
			s.Rewind(bases[i])
			for j := 0; j < 4; j++ {
				t0 := time.Now()
				if _, err := s.Eval(tok, false); err != nil {
					return 0, 0, err
				}
				d := time.Since(t0).Seconds()
				switch {
				case r < 2: // warm-up rounds
				case i == 1 && j == 0:
					dFirst = append(dFirst, d)
				case i == 1:
					dNext = append(dNext, d)
				case j > 0:
					tgt = append(tgt, d)
				}
			}
			s.Rest()
		}
	}
	step := stats.Median(tgt)
	return stats.Median(dFirst) / step, stats.Median(dNext) / step, nil
}

type specStats struct {
	emitted, drafted, accepted, passes, draftSteps, misses int
	total, draftTime, verifyTime                           time.Duration
}

// controlled runs one speculative generation of o.Generate tokens whose
// proposals match the reference with probability alpha each.
func controlled(target, draft *engine.Session, prompt, ref []int32, o SpecOptions, alpha float64, rng *rand.Rand) (specStats, error) {
	var st specStats
	vocab := int32(target.Model().Config.NVocab)
	sessions := []*engine.Session{target}
	if draft != nil {
		sessions = append(sessions, draft)
	}
	for _, s := range sessions {
		s.Reset()
		if _, err := s.Eval(prompt, false); err != nil {
			return st, err
		}
	}
	history := append(make([]int32, 0, len(prompt)+o.Generate+o.K+1), prompt...)
	// ref[0], the first token, came from the prompt's logits (TTFT, not
	// decode); decode starts with it pending, as plain decoding does.
	pending := ref[0]
	emitted := 1
	proposals := make([]int32, o.K)
	batch := make([]int32, 0, o.K+1)
	first := make([]int32, 0, 2) // the draft's first input, as in GenerateSpeculative
	carried := false
	t0 := time.Now()
	for emitted < o.Generate {
		base := target.Pos()
		td := time.Now()
		history = append(history, pending)
		if draft == nil {
			// The lookup really runs; its proposals (on random tokens,
			// rarely any) give way to the controlled ones below.
			lookupSink = len(engine.PromptLookup(history, 2, o.K))
		}
		if !carried {
			first = first[:0]
		}
		first = append(first, pending)
		in := first
		for i := 0; i < o.K; i++ {
			if draft != nil {
				if _, err := draft.Eval(in, false); err != nil {
					return st, err
				}
			}
			var tok int32
			want := ref[emitted+i] // pending is ref[emitted-1]
			if rng.Float64() < alpha {
				tok = want
			} else {
				tok = (want + 1 + int32(rng.IntN(int(vocab-1)))) % vocab // any other token
			}
			proposals[i] = tok
			in = proposals[i : i+1]
		}
		st.draftTime += time.Since(td)
		st.draftSteps += o.K
		batch = append(append(batch[:0], pending), proposals...)
		if draft != nil {
			draft.Rest() // as GenerateSpeculative: each session rests while the other works
		}
		tv := time.Now()
		rows, err := target.Eval(batch, true)
		st.verifyTime += time.Since(tv)
		if draft != nil {
			target.Rest()
		}
		if err != nil {
			return st, err
		}
		st.passes++
		st.drafted += o.K
		n := int(vocab)
		accepted := 0
		for accepted < o.K && engine.Argmax(rows[accepted*n:(accepted+1)*n]) == proposals[accepted] {
			accepted++
		}
		next := engine.Argmax(rows[accepted*n : (accepted+1)*n])
		st.accepted += accepted
		if accepted < o.K {
			st.misses++
		}
		target.Rewind(base + 1 + accepted)
		// The draft lacks the last proposal when every one was kept
		// (GenerateSpeculative's carried token).
		if carried = accepted == o.K; carried {
			first = append(first[:0], proposals[o.K-1])
		} else if draft != nil {
			draft.Rewind(base + 1 + accepted)
		}
		history = append(history, proposals[:accepted]...)
		emitted += accepted + 1
		if emitted > o.Generate {
			emitted = o.Generate // the last round's surplus is not counted
		}
		pending = next
	}
	st.total = time.Since(t0)
	st.emitted = emitted - 1 // tokens emitted by decode steps (ref[0] came from the prompt)
	return st, nil
}

// greedy returns the target's greedy tokens after the prompt.
func greedy(s *engine.Session, prompt []int32, n int) ([]int32, error) {
	s.Reset()
	lg, err := s.Eval(prompt, false)
	if err != nil {
		return nil, err
	}
	out := []int32{engine.Argmax(lg)}
	for len(out) < n {
		if lg, err = s.Eval(out[len(out)-1:], false); err != nil {
			return nil, err
		}
		out = append(out, engine.Argmax(lg))
	}
	return out, nil
}

// verifyCurve times evaluating T = 1..maxT tokens in one call after the
// prompt, relative to T = 1: the median of 7 rounds after a warm-up
// round, each round taking every T in turn (in a rotating order), so
// that the host's drift (tens of percent within minutes here) falls on
// every T alike.
func verifyCurve(s *engine.Session, prompt []int32, maxT int) ([]float64, error) {
	s.Reset()
	if _, err := s.Eval(prompt, false); err != nil {
		return nil, err
	}
	base := s.Pos()
	toks := make([]int32, maxT)
	copy(toks, prompt)
	ts := make([][]float64, maxT)
	for r := 0; r < 8; r++ {
		for _, i := range stats.RoundOrder(maxT, r) { // no size always right after the largest
			T := 1 + i
			s.Rewind(base)
			t0 := time.Now()
			if _, err := s.Eval(toks[:T], true); err != nil {
				return nil, err
			}
			if r > 0 {
				ts[T-1] = append(ts[T-1], time.Since(t0).Seconds())
			}
		}
	}
	// Each size over the one-token call of its own round, then the
	// median over rounds: a round's calls are milliseconds apart, while
	// the host's speed drifts between rounds.
	curve := make([]float64, maxT)
	for i := range curve {
		r := make([]float64, len(ts[i]))
		for j := range r {
			r[j] = ts[i][j] / ts[0][j]
		}
		curve[i] = stats.Median(r)
	}
	return curve, nil
}

var lookupSink int // keeps the lookup's result alive
