package harness

import (
	"fmt"
	"os"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/harness/suite"
)

// preflight finds the suite's mistakes that would otherwise surface only
// after the bandwidth measurement, or minutes into a run: a mock shape
// or type that does not exist, a model file that is missing or not
// GGUF, a workload longer than its model's context, a perplexity text
// that is not there. Each error names the suite's file and line.
func preflight(o Options) error {
	s := o.Suite
	for i, m := range s.Models {
		ctx, err := modelContext(m.Mock, m.Path)
		if err != nil {
			return fmt.Errorf("%s: model %q: %w", s.Where("models", i), m.Name, err)
		}
		if d := m.Draft; d != nil {
			if _, err := modelContext(d.Mock, d.Path); err != nil {
				return fmt.Errorf("%s: model %q draft: %w", s.Where("models", i, "draft"), m.Name, err)
			}
		}
		for j, w := range s.Workloads {
			if !usedTogether(m, w, o.Phases) {
				continue
			}
			if need := w.Depth + w.Prompt + w.Generate + 1; need > ctx {
				return fmt.Errorf("%s: workload %q needs %d positions (depth %d + prompt %d + generate %d + 1), model %q's context is %d",
					s.Where("workloads", j), w.Name, need, w.Depth, w.Prompt, w.Generate, m.Name, ctx)
			}
		}
	}
	if p := s.Perplexity; p != nil && p.File != "" {
		if _, err := os.Stat(p.File); err != nil {
			return fmt.Errorf("%s: perplexity text: %w", s.Where("perplexity", "file"), err)
		}
	}
	return nil
}

// usedTogether reports whether some requested phase benchmarks model m
// on workload w.
func usedTogether(m suite.Model, w suite.Workload, phases []string) bool {
	for _, ph := range phases {
		if m.UsedIn(ph) && w.UsedIn(ph) {
			return true
		}
	}
	return false
}

// modelContext is a model's trained context: a mock shape's, or the
// context_length a GGUF file declares (read from its header only).
func modelContext(mk *suite.Mock, path string) (int, error) {
	if mk != nil {
		mo, err := mockOptions(mk)
		if err != nil {
			return 0, err
		}
		return mo.Shape.Ctx, nil
	}
	f, err := gguf.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	arch, err := f.Meta.String("general.architecture")
	if err != nil {
		return 0, err
	}
	n, err := f.Meta.Uint(arch + ".context_length")
	if err != nil {
		return 0, err
	}
	return int(n), nil
}
