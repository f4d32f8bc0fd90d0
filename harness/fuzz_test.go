package harness

import (
	"os"
	"path/filepath"
	"testing"

	"asdsl-bench/harness/profile"
	"asdsl-bench/harness/suite"
	"asdsl-bench/harness/tune"
)

// FuzzLoaders feeds the same bytes to the three YAML loaders a user
// writes for (suites, machine profiles, tuned settings): none panics,
// and what one accepts satisfies its own checks.
func FuzzLoaders(f *testing.F) {
	for _, glob := range []string{"../suites/*.yaml", "../configs/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("threads: 2\nrepack: true\nprefetch_bytes: 6144\ntile_rows: 16\npanel_min_tokens: 64\n"))
	f.Add([]byte("name: x\nmodels: [{name: a, mock: {shape: tiny}}]\nworkloads: [{name: w, prompt: 8.5}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, err := suite.Parse(data, "fuzz.yaml"); err == nil {
			if s.Repetitions < 1 || len(s.Workloads) == 0 || len(s.Models) == 0 {
				t.Fatalf("suite accepted with %d repetitions, %d workloads, %d models", s.Repetitions, len(s.Workloads), len(s.Models))
			}
			for _, w := range s.Workloads {
				if w.Prompt < 1 || w.Generate < 0 || w.Depth < 0 {
					t.Fatalf("workload %+v accepted", w)
				}
			}
		}
		if p, err := profile.Parse(data, "fuzz.yaml"); err == nil && (p.Name == "" || len(p.Targets) == 0) {
			t.Fatalf("profile accepted without a name or targets: %+v", p)
		}
		if f, err := tune.Parse(data); err == nil {
			if err := f.Validate(); err != nil {
				t.Fatalf("tuned settings accepted but invalid: %v", err)
			}
		}
	})
}
