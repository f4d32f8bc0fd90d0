// Package suite reads benchmark suites: which models (mock shapes or GGUF
// files), which workloads, thread counts, repetitions and targets a run
// of the harness uses. Suites are YAML, validated strictly: an unknown
// key or a bad value is an error naming the file and line.
package suite

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"asdsl-bench/internal/yamlstrict"
)

// Suite is a benchmark plan.
type Suite struct {
	Name        string      `yaml:"name"`
	Description string      `yaml:"description"`
	Models      []Model     `yaml:"models"`
	Workloads   []Workload  `yaml:"workloads"`
	Threads     []int       `yaml:"threads"`
	Repetitions int         `yaml:"repetitions"`
	Warmup      int         `yaml:"warmup"`
	Phases      []string    `yaml:"phases"`
	Targets     Targets     `yaml:"targets"`
	Regression  Regression  `yaml:"regression"`
	Anchor      *Anchor     `yaml:"anchor"`
	Speculative Speculative `yaml:"speculative"`
	// ColdStarts is how many cold starts phase 6 measures per model and
	// configuration (prefetch thread on and off, repacked and GGUF
	// layout), each a fresh process after the file left the page cache
	// (0: none).
	ColdStarts int `yaml:"cold_starts"`
	// Perplexity, when set, has phase 5 measure the perplexity of every
	// model given by path (a real model; mocks have random weights) on a
	// text file, with the f32 cache and with the Q8_0 cache where the
	// model's heads fit it: the seed's "no perplexity loss at long
	// context".
	Perplexity *Perplexity `yaml:"perplexity"`
	// Profile names the machine profile whose targets the suite is for
	// (the seed suite: the Alder Lake profile); --profile overrides it.
	Profile string `yaml:"profile"`

	loc *locator // where each key is, for errors found after parsing
}

// Model is a mock model the harness creates and caches, or a GGUF file.
type Model struct {
	Name string `yaml:"name"`
	Mock *Mock  `yaml:"mock"`
	Path string `yaml:"path"`
	// Phases restricts the model to some phases (default: all), e.g. to
	// keep a big model out of the naive phase 0.
	Phases []string `yaml:"phases"`
	// Targets, when set, replace the suite's targets for this model: a
	// model that lives in the caches and one that streams from DRAM
	// reach different fractions of the read bandwidth.
	Targets *Targets `yaml:"targets"`
	// Draft is a smaller model with the same vocabulary for phase 7's
	// speculative benchmark (a mock shape or a file).
	Draft *Draft `yaml:"draft"`
}

// Draft is a speculative draft model: a mock or a GGUF file.
type Draft struct {
	Mock *Mock  `yaml:"mock"`
	Path string `yaml:"path"`
}

// Perplexity is llama-perplexity's measurement: chunks of Ctx tokens of
// File (relative paths are relative to the working directory), at most
// Chunks of them (0: all).
type Perplexity struct {
	File   string `yaml:"file"`
	Ctx    int    `yaml:"ctx"`
	Chunks int    `yaml:"chunks"`
}

// Speculative configures phase 7's controlled-acceptance benchmark.
type Speculative struct {
	// K is the draft length; 0 (the default) lets phase 7 choose it
	// from 1..4 on each model and host by Leviathan's formula at the
	// gate's acceptance (0.7), on the verify curve and draft step it
	// measures first: the best length follows the small-batch curve,
	// which differs between hosts (on a Zen 5 host with the TinyLlama
	// mock, k = 2 gave 1.28x plain decode where k = 3 gave 1.19-1.20x,
	// two alternated rounds of run phase7).
	K int `yaml:"k"`

	Alphas []float64 `yaml:"alphas"` // acceptance probabilities (default 0.65, 0.7, 0.8)
	// Generate is the tokens each speculative run decodes (default 256):
	// a chat workload's 8 or 16 are two or three rounds, too few for the
	// acceptance to settle near alpha. At 64 with two repetitions about
	// a hundred proposals were judged per alpha: the acceptance seen
	// drifted ±0.05 from alpha by the draw alone (0.65 at alpha 0.7 on
	// the seed suite), moving the measured speed-up by as much, the
	// size of the gate's margin. At 256 it is ±0.02.
	Generate int `yaml:"generate"`
	// Lookup also measures draft-free speculation (prompt lookup) on
	// each model with a draft (default true).
	Lookup *bool `yaml:"lookup"`
}

// WithLookup reports whether draft-free speculation is measured.
func (s Speculative) WithLookup() bool { return s.Lookup == nil || *s.Lookup }

// UsedIn reports whether the model takes part in a phase.
func (m *Model) UsedIn(phase string) bool { return inPhases(m.Phases, phase) }

// inPhases: an empty list means every phase.
func inPhases(list []string, phase string) bool {
	if len(list) == 0 {
		return true
	}
	for _, p := range list {
		if p == phase || p == "all" {
			return true
		}
	}
	return false
}

// Mock names a built-in shape and format.
type Mock struct {
	Shape string `yaml:"shape"`
	Type  string `yaml:"type"`
	Seed  uint64 `yaml:"seed"`
}

// Workload is one prompt-then-generate job.
type Workload struct {
	Name     string `yaml:"name"`
	Prompt   int    `yaml:"prompt"`
	Generate int    `yaml:"generate"`
	// Depth is context filled before the prompt and not timed, as
	// llama-bench's -d: decode at depth is where attention and the KV
	// cache's format matter (phase 5).
	Depth int `yaml:"depth"`
	// Phases restricts the workload to some phases (default: all).
	Phases []string `yaml:"phases"`
}

// UsedIn reports whether the workload runs in a phase.
func (w *Workload) UsedIn(phase string) bool { return inPhases(w.Phases, phase) }

// Targets are the gates every benchmark of the suite must meet. Zero
// means "no target".
type Targets struct {
	TTFTMsMax        float64 `yaml:"ttft_ms_max"`
	PrefillTPSMin    float64 `yaml:"prefill_tps_min"`
	DecodeTPSMin     float64 `yaml:"decode_tps_min"`
	DecodeBWFraction float64 `yaml:"decode_bw_fraction_min"`
	KLMax            float64 `yaml:"kl_max"`
}

// Regression configures comparisons with a baseline run.
type Regression struct {
	// MaxSlowdown is the largest tolerated drop of a speed metric's
	// median (0.25 = 25%), among changes that are also significant.
	MaxSlowdown float64 `yaml:"max_slowdown"`
	// Alpha is the significance level of the gate's signed-rank test on
	// its ABBA pairs and of run's Mann-Whitney comparisons with a
	// stored baseline.
	Alpha float64 `yaml:"alpha"`
	// Repetitions is the number of samples per side of the gate's A/B
	// comparison with a baseline build (each a fresh process; default:
	// the suite's repetitions). It must be able to reach p < alpha.
	Repetitions int `yaml:"repetitions"`
	// MaxDisturbance is the share of the machine other processes (and
	// the hypervisor's steal) may take during a sample before it counts
	// as disturbed (default 0.15).
	MaxDisturbance float64 `yaml:"max_disturbance"`
	// Models names the suite models the gate compares with a baseline
	// build (default: all).
	Models []string `yaml:"models"`
}

// Anchor is an external engine run on the same model for comparison,
// e.g. a user's llama-bench; its JSON output is parsed. In Command,
// {model}, {prompt}, {generate}, {threads} and {reps} are substituted.
type Anchor struct {
	Name    string   `yaml:"name"`
	Command []string `yaml:"command"`
}

// Phases the harness knows; a suite may name any of them.
var knownPhases = map[string]bool{"phase0": true, "phase1": true, "phase2": true, "phase3": true,
	"phase4": true, "phase5": true, "phase6": true, "phase7": true}

// ErrSuite wraps every suite error.
var ErrSuite = errors.New("suite")

// Load reads and validates a suite file.
func Load(path string) (*Suite, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// Parse decodes and validates suite YAML; name is used in messages.
func Parse(data []byte, name string) (*Suite, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrSuite, cleanYAMLError(err, name))
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%w: %s: empty file", ErrSuite, name)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Suite
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrSuite, cleanYAMLError(err, name))
	}
	if err := yamlstrict.Integers(&root, reflect.TypeOf(s), name); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSuite, err)
	}
	s.loc = &locator{root: root.Content[0], file: name}
	s.defaults()
	if err := s.validate(s.loc); err != nil {
		return nil, err
	}
	return &s, nil
}

var yamlLine = regexp.MustCompile(`^line (\d+): `)

// cleanYAMLError turns yaml.v3's "yaml: line 7: ..." into "file:7: ...".
func cleanYAMLError(err error, file string) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	msg = strings.ReplaceAll(msg, "\n  ", "; ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return file + ":" + m[1] + ": " + msg[len(m[0]):]
	}
	return file + ": " + msg
}

// defaults fills what the file leaves out. Only absent keys get a
// default: a key written as 0 means 0, and validate refuses it where 0
// makes no sense (repetitions: 0 is an error, max_slowdown: 0 flags any
// significant slowdown).
func (s *Suite) defaults() {
	has := func(path ...any) bool { return s.loc.line(path...) > 0 }
	if !has("repetitions") {
		s.Repetitions = 3
	}
	if len(s.Threads) == 0 {
		s.Threads = []int{0} // 0: one per P-core
	}
	if !has("regression", "max_slowdown") {
		s.Regression.MaxSlowdown = 0.25
	}
	if !has("regression", "alpha") {
		s.Regression.Alpha = 0.05
	}
	if !has("regression", "repetitions") {
		s.Regression.Repetitions = s.Repetitions
	}
	if !has("speculative", "generate") {
		s.Speculative.Generate = 256
	}
	if !has("speculative", "alphas") {
		s.Speculative.Alphas = []float64{0.65, 0.7, 0.8}
	}
	if !has("regression", "max_disturbance") {
		s.Regression.MaxDisturbance = 0.15
	}
}

// Has reports whether the file sets a key path.
func (s *Suite) Has(path ...any) bool { return s.loc != nil && s.loc.line(path...) > 0 }

// Where names the file and line of a key path ("file:line"), or the file
// when the key is absent, for errors found after parsing.
func (s *Suite) Where(path ...any) string {
	if s.loc == nil {
		return s.Name
	}
	if ln := s.loc.line(path...); ln > 0 {
		return fmt.Sprintf("%s:%d", s.loc.file, ln)
	}
	return s.loc.file
}

// locator finds the line of a key path in the YAML tree for messages.
type locator struct {
	root *yaml.Node
	file string
}

func (l *locator) line(path ...any) int {
	n := l.root
	for _, p := range path {
		if n == nil {
			return 0
		}
		switch k := p.(type) {
		case string:
			var next *yaml.Node
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
					}
				}
			}
			n = next
		case int:
			if n.Kind != yaml.SequenceNode || k >= len(n.Content) {
				return 0
			}
			n = n.Content[k]
		}
	}
	if n == nil {
		return 0
	}
	return n.Line
}

func (l *locator) errf(path []any, format string, a ...any) error {
	where := l.file
	if ln := l.line(path...); ln > 0 {
		where = fmt.Sprintf("%s:%d", l.file, ln)
	}
	return fmt.Errorf("%w: %s: %s", ErrSuite, where, fmt.Sprintf(format, a...))
}

func (s *Suite) validate(l *locator) error {
	p := func(a ...any) []any { return a }
	if strings.TrimSpace(s.Name) == "" {
		return l.errf(nil, "name is required")
	}
	if len(s.Models) == 0 {
		return l.errf(p("models"), "at least one model is required")
	}
	seen := map[string]bool{}
	for i, m := range s.Models {
		if m.Name == "" {
			return l.errf(p("models", i), "model %d has no name", i)
		}
		if seen[m.Name] {
			return l.errf(p("models", i, "name"), "model name %q is used twice", m.Name)
		}
		seen[m.Name] = true
		if (m.Mock == nil) == (m.Path == "") {
			return l.errf(p("models", i), "model %q needs exactly one of mock or path", m.Name)
		}
		if m.Phases != nil && len(m.Phases) == 0 {
			return l.errf(p("models", i, "phases"), "model %q: phases is empty; list phases, or leave the key out for all", m.Name)
		}
		for j, ph := range m.Phases {
			if ph != "all" && !knownPhases[ph] {
				return l.errf(p("models", i, "phases", j), "model %q: unknown phase %q", m.Name, ph)
			}
		}
		if d := m.Draft; d != nil {
			if (d.Mock == nil) == (d.Path == "") {
				return l.errf(p("models", i, "draft"), "model %q: draft needs exactly one of mock or path", m.Name)
			}
			if d.Mock != nil && d.Mock.Shape == "" {
				return l.errf(p("models", i, "draft", "mock"), "model %q: draft mock.shape is required", m.Name)
			}
			if d.Mock != nil && d.Mock.Type == "" {
				s.Models[i].Draft.Mock.Type = "q4_k_m"
			}
		}
		if m.Mock != nil {
			if m.Mock.Shape == "" {
				return l.errf(p("models", i, "mock"), "model %q: mock.shape is required", m.Name)
			}
			if m.Mock.Type == "" {
				s.Models[i].Mock.Type = "q4_k_m"
			}
		}
	}
	if len(s.Workloads) == 0 {
		return l.errf(p("workloads"), "at least one workload is required")
	}
	for i, w := range s.Workloads {
		if w.Name == "" {
			return l.errf(p("workloads", i), "workload %d has no name", i)
		}
		if w.Prompt < 1 || w.Prompt > 1<<20 {
			return l.errf(p("workloads", i, "prompt"), "workload %q: prompt must be 1..1048576 tokens, got %d", w.Name, w.Prompt)
		}
		if w.Generate < 0 || w.Generate > 1<<20 {
			return l.errf(p("workloads", i, "generate"), "workload %q: generate must be 0..1048576 tokens, got %d", w.Name, w.Generate)
		}
		if w.Depth < 0 || w.Depth > 1<<20 {
			return l.errf(p("workloads", i, "depth"), "workload %q: depth must be 0..1048576 tokens, got %d", w.Name, w.Depth)
		}
		if w.Phases != nil && len(w.Phases) == 0 {
			return l.errf(p("workloads", i, "phases"), "workload %q: phases is empty; list phases, or leave the key out for all", w.Name)
		}
		for j, ph := range w.Phases {
			if ph != "all" && !knownPhases[ph] {
				return l.errf(p("workloads", i, "phases", j), "workload %q: unknown phase %q", w.Name, ph)
			}
		}
	}
	for i, t := range s.Threads {
		if t < 0 || t > 4096 {
			return l.errf(p("threads", i), "thread count %d out of range (0 = one per P-core)", t)
		}
	}
	if s.Repetitions < 1 || s.Repetitions > 1000 {
		return l.errf(p("repetitions"), "repetitions must be 1..1000, got %d", s.Repetitions)
	}
	if s.Warmup < 0 || s.Warmup > 100 {
		return l.errf(p("warmup"), "warmup must be 0..100, got %d", s.Warmup)
	}
	if s.Phases != nil && len(s.Phases) == 0 {
		return l.errf(p("phases"), "phases is empty; list phases (phase0..phase7), or write [all]")
	}
	for i, ph := range s.Phases {
		if ph != "all" && !knownPhases[ph] {
			return l.errf(p("phases", i), "unknown phase %q (phase0..phase7 or all)", ph)
		}
	}
	if err := s.Targets.validate(l, p("targets")); err != nil {
		return err
	}
	for i, m := range s.Models {
		if m.Targets != nil {
			if err := m.Targets.validate(l, p("models", i, "targets")); err != nil {
				return err
			}
		}
	}
	if s.Regression.MaxSlowdown < 0 || s.Regression.MaxSlowdown >= 1 {
		return l.errf(p("regression", "max_slowdown"), "max_slowdown must be in [0,1)")
	}
	if s.Regression.Alpha <= 0 || s.Regression.Alpha >= 1 {
		return l.errf(p("regression", "alpha"), "alpha must be in (0,1)")
	}
	if r := s.Regression.Repetitions; r < 1 || r > 1000 {
		return l.errf(p("regression", "repetitions"), "regression.repetitions must be 1..1000, got %d", r)
	}
	if d := s.Regression.MaxDisturbance; d <= 0 || d > 1 || d != d {
		return l.errf(p("regression", "max_disturbance"), "max_disturbance is a share of the machine in (0,1], got %v", d)
	}
	for i, name := range s.Regression.Models {
		if !seen[name] {
			return l.errf(p("regression", "models", i), "regression.models: no model named %q in this suite", name)
		}
	}
	if k := s.Speculative.K; k < 0 || k > 16 {
		return l.errf(p("speculative", "k"), "speculative.k (draft length) must be 1..16, or 0 to choose it, got %d", k)
	}
	if pp := s.Perplexity; pp != nil {
		if pp.File == "" {
			return l.errf(p("perplexity"), "perplexity needs a file")
		}
		if pp.Ctx == 0 {
			s.Perplexity.Ctx = 512
		}
		if s.Perplexity.Ctx < 2 || pp.Chunks < 0 {
			return l.errf(p("perplexity"), "perplexity: ctx must be at least 2 and chunks not negative")
		}
	}
	if c := s.ColdStarts; c < 0 || c > 100 {
		return l.errf(p("cold_starts"), "cold_starts must be 0..100, got %d", c)
	}
	if g := s.Speculative.Generate; g < 1 || g > 1<<16 {
		return l.errf(p("speculative", "generate"), "speculative.generate must be 1..65536, got %d", g)
	}
	for i, a := range s.Speculative.Alphas {
		if a < 0 || a >= 1 || a != a {
			return l.errf(p("speculative", "alphas", i), "speculative.alphas are acceptance probabilities in [0,1), got %v", a)
		}
	}
	if s.Anchor != nil && len(s.Anchor.Command) == 0 {
		return l.errf(p("anchor"), "anchor needs a command")
	}
	return nil
}

func (t *Targets) validate(l *locator, at []any) error {
	key := func(k string) []any { return append(append([]any(nil), at...), k) }
	for _, c := range []struct {
		key string
		v   float64
	}{{"ttft_ms_max", t.TTFTMsMax}, {"prefill_tps_min", t.PrefillTPSMin}, {"decode_tps_min", t.DecodeTPSMin}, {"decode_bw_fraction_min", t.DecodeBWFraction}, {"kl_max", t.KLMax}} {
		if c.v < 0 || c.v != c.v {
			return l.errf(key(c.key), "%s must be a non-negative number", c.key)
		}
	}
	if t.DecodeBWFraction > 1 {
		return l.errf(key("decode_bw_fraction_min"), "decode_bw_fraction_min is a fraction of bandwidth (0..1), got %v", t.DecodeBWFraction)
	}
	return nil
}

// TargetsFor are the targets a model's benches meet: its own, else the
// suite's.
func (s *Suite) TargetsFor(model string) Targets {
	for _, m := range s.Models {
		if m.Name == model && m.Targets != nil {
			return *m.Targets
		}
	}
	return s.Targets
}

// WantsPhase reports whether the suite covers a phase (no list: all).
func (s *Suite) WantsPhase(name string) bool { return inPhases(s.Phases, name) }
