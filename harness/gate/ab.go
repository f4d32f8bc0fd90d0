package gate

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"asdsl-bench/harness/hostload"
	"asdsl-bench/harness/llamabench"
	"asdsl-bench/internal/stats"
)

// Binary is one side of a comparison: an asdsl-bench executable (or any
// program that takes its bench flags and writes llama-bench JSON).
type Binary struct {
	Name string   // what reports call it: a commit, "candidate"
	Path string   // the executable
	Env  []string // extra environment (tests use it for the slowdown hook)
}

// Case is one benchmark both binaries run: a model file, a prompt, a
// number of generated tokens, a thread count (0: the binary's default,
// one per P-core).
type Case struct {
	Label            string
	Model            string
	Prompt, Generate int
	Threads          int
}

// Config is an A/B comparison.
type Config struct {
	Baseline, Candidate Binary
	Cases               []Case
	Reps                int // samples per side and case, each a fresh process
	Rules               Rules
	Log                 io.Writer
	// AfterSample, if set, is called after each sample with the number
	// taken so far and the total (tests start a CPU hog halfway).
	AfterSample func(done, total int)
}

// CaseResult is one case's judgements: TTFT and decode speed.
type CaseResult struct {
	Case       Case        `json:"case"`
	Judgements []Judgement `json:"judgements"`
}

// Result is a whole comparison.
type Result struct {
	Baseline  string       `json:"baseline"`
	Candidate string       `json:"candidate"`
	Reps      int          `json:"reps"`
	Rules     Rules        `json:"rules"`
	Cases     []CaseResult `json:"cases"`
	Verdict   Verdict      `json:"verdict"`
}

// Metrics the gate judges, and their direction. TTFT is the prompt's
// time (pp), decode the generation rate (tg), as llama-bench measures
// them from an empty cache.
const (
	MetricTTFT   = "ttft-ms"
	MetricDecode = "decode-tok/s"
)

// Check refuses a configuration that cannot reach a verdict.
func (c *Config) Check() error {
	if len(c.Cases) == 0 {
		return fmt.Errorf("gate: nothing to compare")
	}
	if p := stats.MinSignedRankP(c.Reps); p >= c.Rules.Alpha {
		return fmt.Errorf("gate: %d rounds cannot reach p < %g (the smallest signed-rank p of %d pairs is %.3g); use at least %d",
			c.Reps, c.Rules.Alpha, c.Reps, p, PairsFor(c.Rules.Alpha))
	}
	for _, b := range []Binary{c.Baseline, c.Candidate} {
		if _, err := os.Stat(b.Path); err != nil {
			return fmt.Errorf("gate: %s binary: %w", b.Name, err)
		}
	}
	return nil
}

// Run takes the samples in ABBA order (baseline, candidate, candidate,
// baseline, ...), so a drift of the host's speed during the run falls
// on both sides alike, each sample in a fresh process, and judges them.
func Run(c Config) (*Result, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	log := c.Log
	if log == nil {
		log = io.Discard
	}
	tty := isTerminal(log) // a progress line redrawn in place; a log file gets lines
	res := &Result{Baseline: c.Baseline.Name, Candidate: c.Candidate.Name, Reps: c.Reps, Rules: c.Rules}
	total, done := 2*c.Reps*len(c.Cases), 0
	for _, cs := range c.Cases {
		var obs [2]map[string][]Obs // side → metric → samples
		obs[0], obs[1] = map[string][]Obs{}, map[string][]Obs{}
		for round := 0; round < c.Reps; round++ {
			for _, side := range ABBA(round) {
				bin := c.Baseline
				if side == 1 {
					bin = c.Candidate
				}
				s, err := sample(bin, cs)
				if err != nil {
					return nil, fmt.Errorf("%s, %s: %w", cs.Label, bin.Name, err)
				}
				for k, v := range s {
					obs[side][k] = append(obs[side][k], v)
				}
				done++
				switch {
				case tty:
					fmt.Fprintf(log, "\rgate: %s: sample %d/%d", cs.Label, done, total)
				case done%4 == 0 || done == total:
					fmt.Fprintf(log, "gate: %s: sample %d/%d\n", cs.Label, done, total)
				}
				if c.AfterSample != nil {
					c.AfterSample(done, total)
				}
			}
		}
		if tty {
			fmt.Fprintln(log)
		}
		cr := CaseResult{Case: cs}
		for _, m := range []struct {
			name   string
			higher bool
		}{{MetricTTFT, false}, {MetricDecode, true}} {
			if len(obs[0][m.name]) == 0 {
				continue
			}
			j := Judge(m.name, m.higher, obs[0][m.name], obs[1][m.name], c.Rules)
			cr.Judgements = append(cr.Judgements, j)
			res.Verdict = Worst(res.Verdict, j.Verdict)
		}
		res.Cases = append(res.Cases, cr)
	}
	return res, nil
}

// ABBA is the order of the two sides (0 baseline, 1 candidate) in a
// round: A B, then B A, so a steady drift of the host's speed costs both
// sides alike over every pair of rounds.
func ABBA(round int) [2]int {
	if round%2 == 1 {
		return [2]int{1, 0}
	}
	return [2]int{0, 1}
}

// sample runs one fresh process of a binary's bench and returns TTFT and
// decode speed, each with the host's load during the process.
func sample(b Binary, cs Case) (map[string]Obs, error) {
	args := []string{"bench", "-m", cs.Model, "-p", strconv.Itoa(cs.Prompt), "-n", strconv.Itoa(cs.Generate), "-r", "1", "-o", "json"}
	if cs.Threads > 0 {
		args = append(args, "-t", strconv.Itoa(cs.Threads))
	}
	cmd := exec.Command(b.Path, args...)
	cmd.Env = append(os.Environ(), b.Env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	before, errLoad := hostload.Take()
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %v: %s", b.Path, strings.Join(args, " "), err, lastLine(errb.String()))
	}
	dist := -1.0
	if errLoad == nil {
		if after, err := hostload.Take(); err == nil {
			own := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			if l, err := hostload.Between(before, after, own); err == nil {
				dist = l.Disturbance()
			}
		}
	}
	rs, err := llamabench.Parse(out.Bytes())
	if err != nil {
		return nil, err
	}
	got := map[string]Obs{}
	for _, r := range rs {
		if len(r.SamplesNs) == 0 {
			continue
		}
		// The process's share of the machine is read in 10 ms ticks over
		// the whole process (loading included); the test's own lost share
		// is read in nanoseconds over the timed repetition: a
		// preemption that costs a short prefill a third of its time can
		// hide in the first and not in the second.
		d := dist
		if len(r.SamplesLost) > 0 {
			d = max(d, r.SamplesLost[0])
		}
		switch {
		case r.NPrompt > 0 && r.NGen == 0:
			got[MetricTTFT] = Obs{Value: float64(r.SamplesNs[0]) / 1e6, Disturbance: d}
		case r.NPrompt == 0 && r.NGen > 0:
			got[MetricDecode] = Obs{Value: r.SamplesTs[0], Disturbance: d}
		}
	}
	if len(got) == 0 {
		return nil, fmt.Errorf("%s bench wrote no pp or tg result", b.Path)
	}
	return got, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
