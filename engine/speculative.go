package engine

import (
	"fmt"
	"time"
)

// Speculative decoding (roadmap phase 7): a cheap draft model proposes k
// tokens one at a time; the target scores all of them in one batch (the
// GEMM path, whose cost for a few tokens is close to one decode step's)
// and keeps the longest prefix its own sampling agrees with. The output
// has exactly the target's distribution:
//
//   - greedy: a proposal is kept while it equals the target's argmax; at
//     the first mismatch the target's argmax is emitted instead, so the
//     tokens are those of plain greedy decoding;
//   - sampling (Leviathan et al., Chen et al.): proposal x drawn from the
//     draft's q is kept with probability min(1, p(x)/q(x)); on rejection
//     the token is drawn from max(0, p−q) normalised. p and q are the
//     sampler's filtered distributions (Sampler.Dist), so the result is
//     distributed as Sampler.Sample on the target alone.
//
// The target always holds every emitted token but the last ("pending"),
// which starts the next round's batch; rejected proposals are dropped
// with Session.Rewind. The draft holds the same, except after a round
// that kept every proposal: then it also lacks the last proposal (it
// never needed that token's logits), and takes it in one batch with
// pending at the next round's first step. Evaluating it at once, as this
// loop did, cost a whole draft step per round, and the step was thrown
// away whenever a proposal was rejected.

// SpecStats counts what speculation did.
type SpecStats struct {
	Rounds   int // draft-then-verify rounds
	Drafted  int // tokens the draft proposed
	Accepted int // proposals the target kept
}

// AcceptRate is the fraction of proposals kept.
func (s SpecStats) AcceptRate() float64 {
	if s.Drafted == 0 {
		return 0
	}
	return float64(s.Accepted) / float64(s.Drafted)
}

// DefaultDraftLength is generate's draft length when neither a flag nor
// tune's settings give one: the target verifies up to 4 tokens in one
// pass of the 4-column GEMM. Phase 7 chooses its own from the measured
// costs (harness/measure.ChooseDraftLength); on a Zen 5 host 1 and 2
// did better than 3 there (TinyLlama mock, 2 threads).
const DefaultDraftLength = 3

// GenerateSpeculative is Generate with a draft session proposing k tokens
// per round. Target and draft must share the vocabulary; both start
// empty or at the same position.
func GenerateSpeculative(target, draft *Session, prompt []int32, n, k int, smp *Sampler, eos int32, emit func(id int32) bool) (GenerateStats, SpecStats, error) {
	st := GenerateStats{PromptTokens: len(prompt)}
	var sp SpecStats
	switch {
	case len(prompt) == 0:
		return st, sp, fmt.Errorf("empty prompt")
	case k < 1:
		return st, sp, fmt.Errorf("draft length %d: must be at least 1", k)
	case target.m.Config.NVocab != draft.m.Config.NVocab:
		return st, sp, fmt.Errorf("draft vocabulary (%d) differs from the target's (%d)", draft.m.Config.NVocab, target.m.Config.NVocab)
	case target.Pos() != draft.Pos():
		return st, sp, fmt.Errorf("draft at position %d, target at %d", draft.Pos(), target.Pos())
	}
	// A round may run k tokens past the last one emitted.
	for _, s := range []*Session{target, draft} {
		if need := s.Pos() + len(prompt) + n + k; need > s.Capacity() {
			return st, sp, fmt.Errorf("%w: prompt of %d tokens plus %d to generate plus %d drafted needs %d positions, context is %d",
				ErrContextFull, len(prompt), n, k, need, s.Capacity())
		}
	}
	t0 := time.Now()
	if len(prompt) > 1 {
		for _, s := range []*Session{target, draft} {
			if _, err := s.Eval(prompt[:len(prompt)-1], false); err != nil {
				return st, sp, err
			}
		}
	}
	pending := prompt[len(prompt)-1]
	batch := make([]int32, 0, k+1)
	first := make([]int32, 0, 2) // the draft's first input: [carried proposal,] pending
	carried := false
	proposals := make([]int32, k)
	qs := make([][]Candidate, k)
	t1 := time.Now()
	// PromptTime covers the prompt but its last token, which starts the
	// first verification batch; every emitted token is in DecodeTime.
	st.PromptTime = t1.Sub(t0)
	for st.GeneratedTokens < n {
		base := target.Pos()
		// Draft: k proposals, each from its own distribution q_i.
		if !carried {
			first = first[:0]
		}
		first = append(first, pending)
		in := first
		for i := 0; i < k; i++ {
			lg, err := draft.Eval(in, false)
			if err != nil {
				return st, sp, err
			}
			qs[i] = append(qs[i][:0], smp.Dist(lg)...)
			proposals[i] = smp.Draw(qs[i])
			in = proposals[i : i+1]
		}
		// Target: the pending token and the proposals in one batch; row i
		// is the target's distribution for proposal i (row k: the token
		// after them all). Each session rests while the other works.
		draft.Rest()
		batch = append(append(batch[:0], pending), proposals...)
		rows, err := target.Eval(batch, true)
		if err != nil {
			return st, sp, err
		}
		target.Rest()
		sp.Rounds++
		sp.Drafted += k
		vocab := target.m.Config.NVocab
		accepted := 0
		var next int32
		for i := 0; i <= k; i++ {
			p := smp.Dist(rows[i*vocab : (i+1)*vocab])
			if i == k { // every proposal kept: a bonus token from the last row
				next = smp.Draw(p)
				break
			}
			keep, y := Verify(smp, p, qs[i], proposals[i])
			if keep {
				accepted++
				continue
			}
			next = y
			break
		}
		sp.Accepted += accepted
		target.Rewind(base + 1 + accepted)
		// The draft evaluated pending and proposals 0..k-2: it rewinds to
		// the same position unless every proposal was kept.
		if carried = accepted == k; carried {
			first = append(first[:0], proposals[k-1])
		} else {
			draft.Rewind(base + 1 + accepted)
		}
		for _, id := range append(proposals[:accepted:accepted], next) {
			if eos >= 0 && id == eos {
				st.StoppedAtEOS = true
				st.DecodeTime = time.Since(t1)
				return st, sp, catchUp(draft, first, carried)
			}
			st.GeneratedTokens++
			if !emit(id) || st.GeneratedTokens == n {
				st.DecodeTime = time.Since(t1)
				return st, sp, catchUp(draft, first, carried)
			}
		}
		pending = next
	}
	st.DecodeTime = time.Since(t1)
	return st, sp, catchUp(draft, first, carried)
}

// catchUp leaves the draft where the target is on return: a carried
// proposal (first[0]) is evaluated, so the sessions can go on together.
func catchUp(draft *Session, first []int32, carried bool) error {
	if !carried {
		return nil
	}
	_, err := draft.Eval(first[:1], false)
	return err
}

// Verify decides a proposal x drawn from q against the target's p: kept
// with probability min(1, p(x)/q(x)); otherwise the replacement is drawn
// from max(0, p − q), normalised. For greedy samplers p and q are point
// masses, so this keeps x exactly when it is the target's argmax.
func Verify(smp *Sampler, p, q []Candidate, x int32) (bool, int32) {
	px, qx := probOfID(p, x), probOfID(q, x)
	if qx > 0 && (px >= qx || smp.Uniform() < px/qx) {
		return true, x
	}
	// Rejected: the residual needs q at every id of p.
	prob := probOf(q)
	var total float64
	for _, c := range p {
		total += max(0, c.P-prob(c.ID))
	}
	if total <= 0 { // p ≤ q everywhere yet x rejected: only by rounding
		return false, smp.Draw(p)
	}
	r := smp.Uniform() * total
	var cum float64
	for _, c := range p {
		cum += max(0, c.P-prob(c.ID))
		if r < cum {
			return false, c.ID
		}
	}
	return false, p[len(p)-1].ID
}

// probOfID is the probability of one id in a distribution (0 when it
// was filtered out).
func probOfID(c []Candidate, id int32) float64 {
	for _, x := range c {
		if x.ID == id {
			return x.P
		}
	}
	return 0
}

// probOf returns the probability lookup of a distribution for many ids: a
// scan for the short lists top-k leaves, a map for whole vocabularies.
func probOf(c []Candidate) func(int32) float64 {
	if len(c) <= 64 {
		return func(id int32) float64 { return probOfID(c, id) }
	}
	m := make(map[int32]float64, len(c))
	for _, x := range c {
		m[x.ID] = x.P
	}
	return func(id int32) float64 { return m[id] }
}
