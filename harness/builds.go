package harness

import (
	"fmt"
	"io"
	"slices"

	"asdsl-bench/harness/gate"
	"asdsl-bench/harness/suite"
	"asdsl-bench/internal/stats"
)

// BuildComparison is the gate's A/B of two builds of asdsl-bench on a
// suite: every model the suite's regression.models names (default all),
// at every workload and thread count, each sample a fresh process of
// one build's bench, alternated ABBA.
type BuildComparison struct {
	Suite               *suite.Suite
	Baseline, Candidate gate.Binary
	Log                 io.Writer
	AfterSample         func(done, total int) // tests start a CPU hog with it
}

// Rules are a suite's regression thresholds as the gate applies them.
func Rules(s *suite.Suite) gate.Rules {
	return gate.Rules{Alpha: s.Regression.Alpha, MaxSlowdown: s.Regression.MaxSlowdown, MaxDisturbance: s.Regression.MaxDisturbance}
}

// CheckReps refuses a suite whose A/B repetitions cannot reach its
// alpha, naming the file and line to change.
func CheckReps(s *suite.Suite) error {
	r := s.Regression
	if p := stats.MinSignedRankP(r.Repetitions); p >= r.Alpha {
		where := s.Where("repetitions") // regression.repetitions defaults to it
		if s.Has("regression", "repetitions") {
			where = s.Where("regression", "repetitions")
		}
		return fmt.Errorf("%s: %d repetitions per side cannot reach p < %g: the gate tests ABBA pairs, and the smallest signed-rank p of %d pairs is %.3g; use at least %d",
			where, r.Repetitions, r.Alpha, r.Repetitions, p, gate.PairsFor(r.Alpha))
	}
	return nil
}

// CompareBuilds runs the comparison.
func CompareBuilds(c BuildComparison) (*gate.Result, error) {
	log := c.Log
	if log == nil {
		log = io.Discard
	}
	if err := CheckReps(c.Suite); err != nil {
		return nil, err
	}
	var cases []gate.Case
	for _, sm := range c.Suite.Models {
		if len(c.Suite.Regression.Models) > 0 && !slices.Contains(c.Suite.Regression.Models, sm.Name) {
			continue
		}
		path, err := ModelPath(sm, log)
		if err != nil {
			return nil, err
		}
		for _, w := range c.Suite.Workloads {
			if w.Depth > 0 {
				continue // bench of older builds has no depth; A/B from an empty context
			}
			for _, t := range c.Suite.Threads {
				th := fmt.Sprint(t)
				if t == 0 {
					th = "P-cores"
				}
				cases = append(cases, gate.Case{Label: fmt.Sprintf("%s/%s t=%s", sm.Name, w.Name, th), Model: path,
					Prompt: w.Prompt, Generate: w.Generate, Threads: t})
			}
		}
	}
	return gate.Run(gate.Config{Baseline: c.Baseline, Candidate: c.Candidate, Cases: cases,
		Reps: c.Suite.Regression.Repetitions, Rules: Rules(c.Suite), Log: log, AfterSample: c.AfterSample})
}
