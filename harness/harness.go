// Package harness runs roadmap checkpoints: for each phase it switches
// the engine's optimisations on as far as that phase goes, runs the
// phase's correctness checks and the suite's benchmarks, evaluates the
// gates (suite and machine-profile targets, regressions against a
// baseline) and returns a run record for storage and reports.
package harness

import (
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/mock"
	"asdsl-bench/engine/quant"
	"asdsl-bench/harness/measure"
	"asdsl-bench/harness/profile"
	"asdsl-bench/harness/results"
	"asdsl-bench/harness/suite"
	"asdsl-bench/internal/progress"
	"asdsl-bench/internal/shared"
	"asdsl-bench/kernels"
	"asdsl-bench/phases"
)

// Options of a harness run.
type Options struct {
	Suite      *suite.Suite
	Phases     []string // phase names, in order
	Profile    *profile.Profile
	ProfileWhy string
	Baseline   *results.Run
	Log        io.Writer
	// Slowdown is test-only: it makes every timed step take that many
	// times longer (see measure.Options.Slowdown).
	Slowdown float64
	// OutDir is where run records and reports go: changes under it do not
	// make the run "dirty" (a run rewrites the tracked report index, and
	// the next run must not call its own commit modified for that).
	OutDir string
	// BandwidthMiB is the working set of the bandwidth test (default 512).
	BandwidthMiB int
	// Binary is an asdsl-bench executable for measurements that need a
	// fresh process (phase 6's cold starts); empty: not measured, and the
	// report says so.
	Binary string

	// Lookup finds a phase by name (nil: phases.ByName). Tests use it to
	// run a phase that has not landed, which must fail the run.
	Lookup func(name string) *phases.Phase
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// prepareModels creates (once, cached) the suite's mock models and loads
// every model.
func prepareModels(s *suite.Suite, log io.Writer) (map[string]*engine.Model, error) {
	out := map[string]*engine.Model{}
	for _, sm := range s.Models {
		path, err := ModelPath(sm, log)
		if err != nil {
			return nil, err
		}
		m, err := engine.Load(path)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", sm.Name, err)
		}
		bar := progress.New(log, fmt.Sprintf("  model %s: preparing weights for decode (repack, or copy into 2 MiB pages; once per load)", sm.Name), 0, progress.Bytes).Quiet()
		m.RepackProgress = bar.Update
		out[sm.Name] = m
	}
	return out, nil
}

// mockOptions turns a suite's mock (shape, type, seed) into the mock
// writer's options: type is a float type or a quantization recipe.
func mockOptions(mk *suite.Mock) (mock.Options, error) {
	shape, err := mock.Lookup(mk.Shape)
	if err != nil {
		return mock.Options{}, err
	}
	mo := mock.Options{Shape: shape, Type: gguf.TypeF32, Seed: mk.Seed}
	if ft, err := quant.ParseFileType(mk.Type); err == nil {
		mo.Quant = ft
	} else if t, ok := gguf.ParseType(mk.Type); ok {
		mo.Type = t
	} else {
		return mock.Options{}, fmt.Errorf("mock type %q is neither a float type (f32, f16, bf16) nor a quantization recipe (q4_k_m, ...)", mk.Type)
	}
	return mo, nil
}

// ModelPath is a suite model's GGUF file: its path, or its mock, created
// on first use and cached.
func ModelPath(sm suite.Model, log io.Writer) (string, error) {
	if sm.Mock == nil {
		return sm.Path, nil
	}
	mo, err := mockOptions(sm.Mock)
	if err != nil {
		return "", fmt.Errorf("model %s: %w", sm.Name, err)
	}
	fmt.Fprintf(log, "model %s: mock %s %s (created on first use, then cached)\n", sm.Name, mo.Shape.Name, mo.Name())
	var bar *progress.Bar // only when the mock is written, not when it is cached
	mo.Progress = func(done, total int64) {
		if bar == nil {
			bar = progress.New(log, fmt.Sprintf("  writing mock %s %s", mo.Shape.Name, mo.Name()), total, progress.Bytes)
		}
		bar.Update(done, total)
	}
	defer func() { bar.Done() }()
	return mock.Cached(mo)
}

func bench(m *engine.Model, sm suite.Model, w suite.Workload, threads int, ph *phases.Phase, ops *kernels.Ops, o Options) (*results.Bench, error) {
	need := w.Depth + w.Prompt + w.Generate + 1
	if need > m.Config.NCtx {
		return nil, fmt.Errorf("workload needs %d positions, the model's context is %d", need, m.Config.NCtx)
	}
	s, err := m.NewSession(engine.SessionOptions{Context: need, Threads: threads, Features: ph.Features, Kernels: ops})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	bar := progress.New(logOf(o), fmt.Sprintf("  bench %s/%s t=%d (%s) repetitions", sm.Name, w.Name, threads, ph.Name), 0, progress.Items).Quiet()
	r, err := measure.Run(s, measure.Options{Prompt: w.Prompt, Generate: w.Generate, Depth: w.Depth, Reps: o.Suite.Repetitions,
		Warmup: o.Suite.Warmup, Seed: 1, Slowdown: o.Slowdown, Progress: bar.Update})
	bar.Done()
	if err != nil {
		return nil, err
	}
	shape := ""
	if sm.Mock != nil {
		shape = sm.Mock.Shape
	}
	return &results.Bench{Model: sm.Name, Shape: shape, Workload: w.Name, Threads: threads, Prompt: w.Prompt, Generate: w.Generate, Depth: w.Depth, Result: r, MatmulMACs: m.MatmulMACs(),
		Identity: Identify(m, shape)}, nil
}

// Identify says what a model is, from its GGUF metadata, for profiles.
func Identify(m *engine.Model, shape string) profile.Identity {
	ft, _ := m.File.Meta.UintOr("general.file_type", 0)
	name := quant.FileType(ft).String()
	if name == "" {
		name = map[uint64]string{0: "f32", 1: "f16", 32: "bf16"}[ft]
	}
	return profile.Identity{Shape: shape, Arch: m.Config.Arch, Layers: m.Config.NLayer, Embd: m.Config.NEmbd, Params: m.Params(), FileType: name}
}

func logBench(log io.Writer, b *results.Bench) {
	ms := b.Metrics()
	decode := " (no tokens generated)"
	if b.Generate > 0 {
		decode = fmt.Sprintf(", decode %.2f t/s (%.2f GB/s)", results.Median(ms[results.DecodeTPS.Key]), results.Median(ms[results.DecodeGBs.Key]))
	}
	fmt.Fprintf(log, "  bench %s/%s t=%d: TTFT %.1f ms, prefill %.1f t/s%s\n", b.Model, b.Workload, b.Threads,
		results.Median(ms[results.TTFT.Key]), results.Median(ms[results.PrefillTPS.Key]), decode)
}

// cacheKL compares phase 5's Q8_0 cache with the f32 cache at the
// deepest context a phase-5 workload reaches (none without depth).
func cacheKL(ph *phases.Phase, models map[string]*engine.Model, o Options, log io.Writer) ([]*results.CacheKLBench, error) {
	depth := 0
	for _, w := range o.Suite.Workloads {
		if w.UsedIn(ph.Name) {
			depth = max(depth, w.Depth)
		}
	}
	if depth == 0 {
		return nil, nil
	}
	var out []*results.CacheKLBench
	for _, sm := range o.Suite.Models {
		m := models[sm.Name]
		if !sm.UsedIn(ph.Name) || !m.Config.FlashFits() {
			continue
		}
		tail := 64
		d := min(depth, m.Config.NCtx-tail)
		r, err := measure.MeasureCacheKL(m, d, tail, 0)
		if err != nil {
			return nil, fmt.Errorf("%s %s cache KL: %w", ph.Name, sm.Name, err)
		}
		fmt.Fprintf(log, "  cache KL %s: Q8_0 + flash against f32 + plain attention over %d positions after %d: KL %.3g, top-1 %.1f%%\n", sm.Name, r.Tail, r.Depth, r.KL, 100*r.Top1)
		out = append(out, &results.CacheKLBench{Model: sm.Name, Result: r})
	}
	return out, nil
}

// sameBench finds, in an earlier phase, the bench of the same model,
// workload and thread count (nil when that phase did not run it).
func sameBench(p *results.Phase, b *results.Bench) *results.Bench {
	if p == nil {
		return nil
	}
	for _, x := range p.Benches {
		if x.Model == b.Model && x.Workload == b.Workload && x.Threads == b.Threads {
			return x
		}
	}
	return nil
}

// coldStarts measures phase 6's cold starts for every model phase 6
// uses, when the run includes phase 6 and the suite asks for them.
func coldStarts(o Options, log io.Writer) []*results.ColdBench {
	if o.Suite.ColdStarts == 0 || !slices.Contains(o.Phases, "phase6") {
		return nil
	}
	prompt := o.Suite.Workloads[0].Prompt
	var out []*results.ColdBench
	for _, sm := range o.Suite.Models {
		if !sm.UsedIn("phase6") {
			continue
		}
		cb := &results.ColdBench{Model: sm.Name, Prompt: prompt}
		out = append(out, cb)
		if o.Binary == "" {
			cb.Error = "no asdsl-bench binary to start fresh processes from"
			continue
		}
		path, err := ModelPath(sm, log)
		if err == nil {
			fmt.Fprintf(log, "cold starts of %s: %d per configuration, the file evicted from the page cache before each\n", sm.Name, o.Suite.ColdStarts)
			cb.Samples, err = measure.ColdStarts(o.Binary, path, prompt, 0, o.Suite.ColdStarts)
		}
		if err != nil {
			cb.Error = err.Error()
			fmt.Fprintf(log, "cold starts of %s: not measured: %v\n", sm.Name, err)
		}
	}
	return out
}

// busyWhy says why a bench's samples cannot fail a target: some were
// taken while other processes took more of the machine than the suite
// allows (the timing then measures the scheduler). Empty when none were.
func busyWhy(b *results.Bench, maxDisturbance float64) string {
	if b.Result == nil || maxDisturbance <= 0 {
		return ""
	}
	ds := make([]float64, len(b.Result.Samples))
	for i, s := range b.Result.Samples {
		ds[i] = max(s.TTFTDisturbance(), s.DecodeDisturbance())
	}
	return overLimit(ds, maxDisturbance, "samples")
}

// overLimit says how many of the disturbances ds (one per sample or
// repetition, named by what) exceed the limit and by how much at worst;
// empty when none does or the limit is off.
func overLimit(ds []float64, limit float64, what string) string {
	if limit <= 0 {
		return ""
	}
	n, worst := 0, 0.0
	for _, d := range ds {
		if d > limit {
			n++
			worst = max(worst, d)
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d %s lost up to %.0f%% of the machine to other processes (limit %.0f%%)", n, len(ds), what, 100*worst, 100*limit)
}

// gitCommit returns the commit of the code being measured and whether
// it had uncommitted changes. A binary built from a checkout carries
// both (go build stamps vcs.revision and vcs.modified), so an installed
// binary run anywhere names its own commit, not the current directory's
// repository. Without them (go run, go test) it asks git in the
// asdsl-bench checkout around the working directory, counting changes
// outside the output directory only (results are not code); outside a
// checkout it is "unknown".
func gitCommit(outDir string) (string, bool) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev string
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if rev != "" {
			return rev, modified
		}
	}
	root, err := shared.ModuleRoot()
	if err != nil {
		return "unknown", false
	}
	git := func(args ...string) ([]byte, error) {
		return exec.Command("git", append([]string{"-C", root}, args...)...).Output()
	}
	out, err := git("rev-parse", "HEAD")
	if err != nil {
		return "unknown", false
	}
	st, _ := git("status", "--porcelain", "--untracked-files=no")
	skip := "" // the output directory, relative to the repository's root as porcelain paths are
	if top, err := git("rev-parse", "--show-toplevel"); err == nil && outDir != "" {
		if abs, err := filepath.Abs(outDir); err == nil {
			if rel, err := filepath.Rel(strings.TrimSpace(string(top)), abs); err == nil && !strings.HasPrefix(rel, "..") {
				skip = filepath.ToSlash(rel) + "/"
			}
		}
	}
	dirty := false
	for _, line := range strings.Split(string(st), "\n") {
		if len(line) < 4 {
			continue
		}
		if path := strings.Trim(line[3:], `"`); skip == "" || !strings.HasPrefix(path, skip) {
			dirty = true
		}
	}
	return strings.TrimSpace(string(out)), dirty
}

// logOf is the run's log (stderr's stand-in in tests).
func logOf(o Options) io.Writer {
	if o.Log == nil {
		return io.Discard
	}
	return o.Log
}
