package tune

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"

	"golang.org/x/perf/benchmath"

	"asdsl-bench/engine"
	"asdsl-bench/harness/measure"
	"asdsl-bench/internal/progress"
	"asdsl-bench/internal/stats"
)

// Judge is the measurement a knob moves, and so the one that decides it.
type Judge int

const (
	Decode      Judge = iota // tokens/s generating one token at a time
	Prefill                  // tokens/s evaluating a prompt in one batch
	Speculative              // tokens/s of speculative generation (draft + target)
)

func (j Judge) String() string {
	return [...]string{"decode", "prefill", "speculative"}[j]
}

// Knob is one setting the tuner searches.
type Knob struct {
	Name   string
	Judge  Judge
	Values []int
	get    func(Settings) int
	set    func(*Settings, int)
}

// Knobs are the settings in the order they are searched: what decides
// how the machine is used (threads, layout) first, then what tunes a
// kernel on it. threads are the thread counts to try, draft whether a
// draft model is there to tune the draft length with.
func Knobs(threads []int, draft bool) []Knob {
	ks := []Knob{
		{Name: "threads", Judge: Decode, Values: threads,
			get: func(s Settings) int { return s.Threads }, set: func(s *Settings, v int) { s.Threads = v }},
		{Name: "repack", Judge: Decode, Values: []int{1, 0},
			get: func(s Settings) int { return b2i(s.Repack) }, set: func(s *Settings, v int) { s.Repack = v != 0 }},
		{Name: "prefetch", Judge: Decode, Values: []int{0, 2048, 4096, 6144, 8192, 12288},
			get: func(s Settings) int { return s.PrefetchBytes }, set: func(s *Settings, v int) { s.PrefetchBytes = v }},
		// The AVX-512 repacked GEMVs' call split: whole rows (0) read 20%
		// slower than calls of 4-8 blocks on a Zen 5 core, for a reason not
		// understood, so each host measures its own.
		{Name: "r4-call-blocks", Judge: Decode, Values: []int{0, 4, 8, 16},
			get: func(s Settings) int { return s.R4CallBlocks }, set: func(s *Settings, v int) { s.R4CallBlocks = v }},
		{Name: "tile-rows", Judge: Prefill, Values: []int{8, 16, 32, 64},
			get: func(s Settings) int { return s.TileRows }, set: func(s *Settings, v int) { s.TileRows = v }},
		{Name: "panel-min-tokens", Judge: Prefill, Values: []int{16, 32, 64, 128},
			get: func(s Settings) int { return s.PanelMinTokens }, set: func(s *Settings, v int) { s.PanelMinTokens = v }},
		{Name: "panel-depth", Judge: Prefill, Values: []int{0, 4, 8, 16},
			get: func(s Settings) int { return s.PanelDepth }, set: func(s *Settings, v int) { s.PanelDepth = v }},
	}
	if draft {
		ks = append(ks, Knob{Name: "draft", Judge: Speculative, Values: []int{1, 2, 3, 4, 6, 8},
			get: func(s Settings) int { return s.DraftLength }, set: func(s *Settings, v int) { s.DraftLength = v }})
	}
	return ks
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Options of a search.
type Options struct {
	Model  *engine.Model
	Draft  *engine.Model // nil: the draft length is not searched
	Start  Settings      // the incumbent values (Defaults)
	Knobs  []Knob
	Rounds int     // measurements of each candidate, alternated
	Alpha  float64 // significance a candidate needs to replace the incumbent
	// Workload sizes: decode-judged knobs generate DecodeTokens tokens
	// after an 8-token prompt; prefill-judged ones evaluate PromptTokens
	// in one batch (the panel threshold only matters below it).
	DecodeTokens, PromptTokens int
	Progress                   io.Writer // nil: quiet
}

// MinRounds is the fewest rounds with which a difference can reach
// p < 0.05 at all: Mann-Whitney's smallest two-sided p for 3 against 3
// samples is 0.1.
const MinRounds = 4

// Trial is one candidate value's measurements.
type Trial struct {
	Value            int
	Samples          []float64 // tokens/s
	Median, Min, Max float64   // (with 4-5 rounds a 95% interval of the median is unbounded)
	P                float64   // Mann-Whitney p against the incumbent (1 for itself)
	Incumbent, Best  bool
}

// KnobResult is the search of one knob.
type KnobResult struct {
	Knob   string
	Judge  Judge
	Trials []Trial
	Chosen int
}

// Search tunes the knobs one at a time, each with the others at the
// values chosen so far (coordinate descent). A knob's candidates are
// measured in alternating rounds — one sample of each per round — so
// they share the host's drift, and the fastest replaces the incumbent
// only when it is faster with Mann-Whitney p < Alpha; otherwise the
// incumbent stays (several candidates are compared with the incumbent,
// so the false-positive rate is up to their number times Alpha; a
// false winner is within noise of the incumbent). The process-wide
// settings are left at the chosen values, also when an error stops the
// search.
func Search(o Options) (Settings, []KnobResult, error) {
	if o.Rounds < MinRounds {
		return o.Start, nil, fmt.Errorf("%d rounds: at least %d are needed for any difference to be significant", o.Rounds, MinRounds)
	}
	if o.DecodeTokens < 1 || o.PromptTokens < 1 {
		return o.Start, nil, fmt.Errorf("decode and prompt tokens must be at least 1")
	}
	if err := o.Start.Validate(); err != nil {
		return o.Start, nil, err
	}
	if n := max(8+o.DecodeTokens, o.PromptTokens); n > o.Model.Config.NCtx {
		return o.Start, nil, fmt.Errorf("the workload needs %d positions, the model's context is %d", n, o.Model.Config.NCtx)
	}
	if o.Draft != nil && o.Draft.Config.NVocab != o.Model.Config.NVocab {
		return o.Start, nil, fmt.Errorf("draft vocabulary (%d) differs from the model's (%d)", o.Draft.Config.NVocab, o.Model.Config.NVocab)
	}
	r := &runner{o: o, sessions: map[sessionKey]*engine.Session{}}
	defer r.close()
	cur := o.Start
	var out []KnobResult
	for _, k := range o.Knobs {
		if k.Judge == Speculative && o.Draft == nil {
			continue
		}
		if k.Judge == Speculative && cur.DraftLength == 0 {
			cur.DraftLength = engine.DefaultDraftLength // generate's default
		}
		values := k.Values
		if !slices.Contains(values, k.get(cur)) {
			values = append([]int{k.get(cur)}, values...)
		}
		inc := slices.Index(values, k.get(cur))
		samples := make([][]float64, len(values))
		var bar *progress.Bar
		if o.Progress != nil {
			bar = progress.New(o.Progress, fmt.Sprintf("%-17s %-11s %d values x %d rounds", k.Name, k.Judge, len(values), o.Rounds+1),
				int64((o.Rounds+1)*len(values)), progress.Items)
		}
		for round := 0; round <= o.Rounds; round++ { // round 0 warms each candidate up
			// Each round starts one candidate later, so no candidate
			// always runs right after the same other one (whose session
			// left the caches and the pool threads in its state) or at
			// the same place in the round.
			for _, i := range stats.RoundOrder(len(values), round) {
				v := values[i]
				s := cur
				k.set(&s, v)
				tps, err := r.measure(k.Judge, s)
				if err != nil {
					return cur, out, fmt.Errorf("%s=%d: %w", k.Name, v, err)
				}
				if round > 0 {
					samples[i] = append(samples[i], tps)
				}
				bar.Add(1)
			}
		}
		bar.Done()
		win, trials := choose(values, samples, inc, o.Alpha)
		k.set(&cur, values[win])
		out = append(out, KnobResult{Knob: k.Name, Judge: k.Judge, Trials: trials, Chosen: values[win]})
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "%-17s %-11s chosen: %d\n", k.Name, k.Judge, values[win])
		}
	}
	return cur, out, nil
}

// choose returns the index of the winning value and every trial's
// summary: the candidate with the highest median wins if it beats the
// incumbent (index inc) with p < alpha, else the incumbent stays.
func choose(values []int, samples [][]float64, inc int, alpha float64) (int, []Trial) {
	th := benchmath.DefaultThresholds
	th.CompareAlpha = alpha
	a := benchmath.AssumeNothing
	base := benchmath.NewSample(samples[inc], &th)
	trials := make([]Trial, len(values))
	best := inc
	for i, v := range values {
		s := benchmath.NewSample(samples[i], &th)
		t := Trial{Value: v, Samples: samples[i], Median: a.Summary(s, 0.95).Center,
			Min: slices.Min(samples[i]), Max: slices.Max(samples[i]), P: 1, Incumbent: i == inc}
		if i != inc {
			t.P = a.Compare(base, s).P
		}
		trials[i] = t
		if t.Median > trials[best].Median || (i < best && t.Median == trials[best].Median) {
			best = i
		}
	}
	if best != inc && !(trials[best].Median > trials[inc].Median && trials[best].P < alpha) {
		best = inc
	}
	trials[best].Best = true
	return best, trials
}

// sessionKey: what a session is built with (the draft length is not a
// session setting).
type sessionKey struct {
	threads, prefetch, callBlocks, tileRows, panelMin, panelDepth int
	repack, draft                                                 bool
}

type runner struct {
	o        Options
	sessions map[sessionKey]*engine.Session
	order    []sessionKey // oldest first
	rng      *rand.Rand
}

// keepSessions bounds the open sessions: a knob's candidates alternate,
// so one knob's values (and the draft) stay open while older ones, each
// with its KV cache (170 MB at 7B), are closed.
const keepSessions = 10

func (r *runner) session(m *engine.Model, s Settings, draft bool) (*engine.Session, error) {
	k := sessionKey{threads: s.Threads, prefetch: s.PrefetchBytes, callBlocks: s.R4CallBlocks, tileRows: s.TileRows, panelMin: s.PanelMinTokens,
		panelDepth: s.PanelDepth, repack: s.Repack, draft: draft}
	if sess := r.sessions[k]; sess != nil {
		// Most recently used last, so the eviction below never closes a
		// session the caller still holds (a target, then its draft).
		i := slices.Index(r.order, k)
		r.order = append(slices.Delete(r.order, i, i+1), k)
		return sess, nil
	}
	ctx := max(8+r.o.DecodeTokens, r.o.PromptTokens) + 16
	sess, err := m.NewSession(s.SessionOptions(min(ctx, m.Config.NCtx)))
	if err != nil {
		return nil, err
	}
	r.sessions[k] = sess
	r.order = append(r.order, k)
	if len(r.order) > keepSessions {
		old := r.order[0]
		r.order = r.order[1:]
		r.sessions[old].Close()
		delete(r.sessions, old)
	}
	return sess, nil
}

func (r *runner) close() {
	for _, s := range r.sessions {
		s.Close()
	}
}

// measure runs one sample of the judge's workload with settings s.
func (r *runner) measure(j Judge, s Settings) (float64, error) {
	target, err := r.session(r.o.Model, s, false)
	if err != nil {
		return 0, err
	}
	switch j {
	case Decode, Prefill:
		o := measure.Options{Prompt: 8, Generate: r.o.DecodeTokens, Reps: 1, Seed: 1}
		if j == Prefill {
			o = measure.Options{Prompt: r.o.PromptTokens, Reps: 1, Seed: 1}
		}
		res, err := measure.Run(target, o)
		if err != nil {
			return 0, err
		}
		if j == Prefill {
			return res.Samples[0].PrefillTPS, nil
		}
		return res.Samples[0].DecodeTPS, nil
	}
	draft, err := r.session(r.o.Draft, s, true)
	if err != nil {
		return 0, err
	}
	if r.rng == nil {
		r.rng = rand.New(rand.NewPCG(1, 3))
	}
	prompt := make([]int32, 8)
	for i := range prompt {
		prompt[i] = int32(r.rng.IntN(r.o.Model.Config.NVocab))
	}
	target.Reset()
	draft.Reset()
	smp := engine.NewSampler(engine.SamplerOptions{Temperature: 0})
	st, _, err := engine.GenerateSpeculative(target, draft, prompt, r.o.DecodeTokens, s.DraftLength, smp, -1,
		func(int32) bool { return true })
	if err != nil {
		return 0, err
	}
	if st.DecodeTime <= 0 {
		return 0, fmt.Errorf("no decode time measured")
	}
	return float64(st.GeneratedTokens) / st.DecodeTime.Seconds(), nil
}
