// Package harness runs roadmap checkpoints: for each phase it switches
// the engine's optimisations on as far as that phase goes, runs the
// phase's correctness checks and the suite's benchmarks, evaluates the
// gates (suite and machine-profile targets, regressions against a
// baseline) and returns a run record for storage and reports.
package harness

import (
	"fmt"
	"io"
	"maps"
	"math"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/mock"
	"asdsl-bench/engine/quant"
	"asdsl-bench/engine/topology"
	"asdsl-bench/harness/machine"
	"asdsl-bench/harness/measure"
	"asdsl-bench/harness/profile"
	"asdsl-bench/harness/results"
	"asdsl-bench/harness/suite"
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
	peaks  map[int]float64 // int8 peak per thread count, set by Execute

	// Lookup finds a phase by name (nil: phases.ByName). Tests use it to
	// run a phase that has not landed, which must fail the run.
	Lookup func(name string) *phases.Phase
}

// Execute runs the phases and evaluates every gate.
func Execute(o Options) (*results.Run, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	if err := preflight(o); err != nil {
		return nil, err
	}
	start := time.Now()
	run := &results.Run{Time: start.UTC(), Suite: o.Suite.Name, Passed: true}
	run.Commit, run.Dirty = gitCommit(o.OutDir)
	run.ID = results.NewID(start, run.Commit)
	if o.Profile != nil {
		run.Profile, run.ProfileWhy = o.Profile.Name, o.ProfileWhy
	}
	cpu := machine.DetectCPU()
	topo := topology.Detect()
	// The kernels the process chose: the best this CPU runs, or the one
	// ASDSL_ISA names (phases that pin an ISA, like phase 1, override it).
	best := kernels.Active().ISA
	run.Machine = results.Machine{CPU: cpu.Brand, Features: cpu.Features, ISA: best, Topology: topo.Summary(), Hybrid: topo.Hybrid(), ReadGBs: map[int]float64{}}
	fmt.Fprintf(log, "machine: %s; %s; kernels %s\n", cpu.Brand, topo.Summary(), best)

	// Thread counts: 0 means one per P-core.
	threads := map[int]bool{}
	for _, t := range o.Suite.Threads {
		if t == 0 {
			t = len(topo.MathThreads())
		}
		threads[t] = true
	}
	bwMiB := o.BandwidthMiB
	if bwMiB <= 0 {
		bwMiB = 512
	}
	for t := range threads {
		bw := machine.MeasureBandwidth(t, int64(bwMiB)<<20, 5)
		run.Machine.ReadGBs[t] = bw.ReadGBs
		fmt.Fprintf(log, "read bandwidth, %d thread(s): %.1f GB/s\n", t, bw.ReadGBs)
		if pk := machine.MeasureInt8Peak(t, 100*time.Millisecond, 3); pk.GMACs > 0 {
			if run.Machine.Int8GMACs == nil {
				run.Machine.Int8GMACs = map[int]float64{}
			}
			run.Machine.Int8GMACs[t], run.Machine.Int8Instr = pk.GMACs, pk.Instr
			fmt.Fprintf(log, "int8 multiply-accumulate peak, %d thread(s): %.0f GMAC/s (%s)\n", t, pk.GMACs, pk.Instr)
		}
	}

	// Cold starts first: they evict the model files from the page cache,
	// which cannot drop pages this process has mapped.
	cold := coldStarts(o, log)
	o.peaks = run.Machine.Int8GMACs
	models, err := prepareModels(o.Suite, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, m := range models {
			m.Close()
		}
	}()
	defer kernels.Use(best) // phases switch kernels; restore the choice

	done := map[string]*results.Phase{}
	env := &phases.Env{KLMax: o.Suite.Targets.KLMax}
	lookup := o.Lookup
	if lookup == nil {
		lookup = phases.ByName
	}
	for _, name := range o.Phases {
		ph := lookup(name)
		if ph == nil {
			return nil, fmt.Errorf("unknown phase %q", name)
		}
		rp := &results.Phase{Name: ph.Name, Title: ph.Title, Implemented: ph.Implemented(), Missing: ph.Missing, Features: ph.FeatureString()}
		run.Phases = append(run.Phases, rp)
		done[ph.Name] = rp
		if !ph.Implemented() {
			fmt.Fprintf(log, "%s: not implemented (%s)\n", ph.Name, ph.Missing)
			run.Passed = false
			continue
		}
		isa := ph.ISA
		if isa == "" {
			isa = best
		}
		if err := kernels.Use(isa); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "%s: %s [%s]\n", ph.Name, ph.Title, ph.FeatureString())
		rp.Passed = true
		for _, c := range ph.Checks {
			ok, detail := c.Run(env)
			rp.Checks = append(rp.Checks, results.Check{Name: c.Name, Passed: ok, Detail: detail})
			rp.Passed = rp.Passed && ok
			fmt.Fprintf(log, "  check %-50s %s  %s\n", c.Name, passFail(ok), detail)
		}
		if ph.SameBenchAs != "" && done[ph.SameBenchAs] != nil {
			rp.Benches = done[ph.SameBenchAs].Benches
			fmt.Fprintf(log, "  benchmarks: same engine configuration as %s\n", ph.SameBenchAs)
		} else {
			for _, sm := range o.Suite.Models {
				if !sm.UsedIn(ph.Name) {
					continue
				}
				for _, w := range o.Suite.Workloads {
					if !w.UsedIn(ph.Name) {
						continue
					}
					for _, t := range slices.Sorted(maps.Keys(threads)) {
						b, err := bench(models[sm.Name], sm, w, t, ph, o)
						if err != nil {
							return nil, fmt.Errorf("%s %s %s: %w", ph.Name, sm.Name, w.Name, err)
						}
						if o.Suite.Anchor != nil {
							b.Anchor = runAnchor(o.Suite.Anchor, models[sm.Name].Path, w, t, o.Suite.Repetitions, log)
						}
						rp.Benches = append(rp.Benches, b)
						logBench(log, b)
						if alt := ph.CompareISA; alt != "" && kernels.Use(alt) == nil {
							cb, err := bench(models[sm.Name], sm, w, t, ph, o)
							kernels.Use(isa)
							if err != nil {
								return nil, fmt.Errorf("%s %s %s [%s]: %w", ph.Name, sm.Name, w.Name, alt, err)
							}
							cb.Model += "@" + alt
							rp.Benches = append(rp.Benches, cb)
							logBench(log, cb)
						}
					}
				}
			}
		}
		if ph.Speculative {
			if rp.Spec, err = benchSpeculative(ph, models, threads, o, log); err != nil {
				return nil, err
			}
		}
		if ph.Name == "phase6" {
			rp.ColdStart = cold
		}
		if ph.Name == "phase1" {
			if rp.Formats, err = compareFormats(ph.Name, o, best, log); err != nil {
				return nil, err
			}
		}
		if ph.Name == "phase5" {
			if rp.CacheKL, err = cacheKL(ph, models, o, log); err != nil {
				return nil, err
			}
			if rp.Perplexity, err = measurePerplexity(ph, models, o, log); err != nil {
				return nil, err
			}
		}
		rp.Gates = append(gates(ph, rp.Benches, o, run.Machine.ReadGBs, done), specGates(ph, rp.Spec, o)...)
		for _, g := range rp.Gates {
			v := passFail(g.Passed)
			if g.Inconclusive {
				v = "INCONCLUSIVE"
				run.Inconclusive = true
			}
			rp.Passed = rp.Passed && (g.Passed || g.Inconclusive)
			fmt.Fprintf(log, "  gate  %-50s %s  %.4g %s %.4g", g.Name, v, g.Value, g.Op, g.Target)
			if g.Why != "" {
				fmt.Fprintf(log, " (%s)", g.Why)
			}
			fmt.Fprintln(log)
		}
		run.Passed = run.Passed && rp.Passed
	}
	if o.Baseline != nil {
		run.Baseline = o.Baseline.ID
		run.Deltas = results.Compare(o.Baseline, run, o.Suite.Regression.Alpha)
		for _, d := range results.Regressions(run.Deltas, o.Suite.Regression.MaxSlowdown) {
			run.Passed = false
			fmt.Fprintf(log, "REGRESSION %s %s: %.4g -> %.4g (%.0f%% worse, p=%.3f)\n", d.Key, d.Metric, d.Old, d.New, 100*d.Worse, d.P)
		}
	}
	fmt.Fprintf(log, "done in %v: %s\n", time.Since(start).Round(time.Second), passFail(run.Passed))
	return run, nil
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
	return mock.Cached(mo)
}

func bench(m *engine.Model, sm suite.Model, w suite.Workload, threads int, ph *phases.Phase, o Options) (*results.Bench, error) {
	need := w.Depth + w.Prompt + w.Generate + 1
	if need > m.Config.NCtx {
		return nil, fmt.Errorf("workload needs %d positions, the model's context is %d", need, m.Config.NCtx)
	}
	s, err := m.NewSession(engine.SessionOptions{Context: need, Threads: threads, Features: ph.Features})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	r, err := measure.Run(s, measure.Options{Prompt: w.Prompt, Generate: w.Generate, Depth: w.Depth, Reps: o.Suite.Repetitions,
		Warmup: o.Suite.Warmup, Seed: 1, Slowdown: o.Slowdown})
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
		decode = fmt.Sprintf(", decode %.2f t/s (%.2f GB/s)", results.Median(ms["decode-tok/s"]), results.Median(ms["decode-GB/s"]))
	}
	fmt.Fprintf(log, "  bench %s/%s t=%d: TTFT %.1f ms, prefill %.1f t/s%s\n", b.Model, b.Workload, b.Threads,
		results.Median(ms["ttft-ms"]), results.Median(ms["prefill-tok/s"]), decode)
}

// gates evaluates the targets that apply to the phase on every bench.
func gates(ph *phases.Phase, benches []*results.Bench, o Options, bw map[int]float64, done map[string]*results.Phase) []results.Gate {
	var out []results.Gate
	var busy string // why the current bench's samples cannot fail a target
	add := func(name, op string, target, value float64) {
		out = append(out, newGate(name, op, target, value, busy))
	}
	for _, b := range benches {
		if strings.Contains(b.Model, "@") {
			continue // comparison kernels are shown, not gated
		}
		t := o.Suite.TargetsFor(b.Model)
		busy = busyWhy(b, o.Suite.Regression.MaxDisturbance)
		ms := b.Metrics()
		id := fmt.Sprintf("%s/%s t=%d", b.Model, b.Workload, b.Threads)
		dec, gbs, ttft, pre := results.Median(ms["decode-tok/s"]), results.Median(ms["decode-GB/s"]), results.Median(ms["ttft-ms"]), results.Median(ms["prefill-tok/s"])
		frac := gbs / bw[b.Threads]
		// Bandwidth targets judge decode from a short context. At depth,
		// attention's cost is phase 5's subject, shown by the ladder
		// (phase 4's f32 cache and plain attention against phase 5's),
		// not gated against the weights' roofline.
		atDepth := b.Depth > 0
		if ph.Gates("decode") && b.Generate > 0 {
			if t.DecodeTPSMin > 0 {
				add(id+" decode tok/s", ">=", t.DecodeTPSMin, dec)
			}
			if t.DecodeBWFraction > 0 && !atDepth {
				add(id+" decode fraction of read bandwidth", ">=", t.DecodeBWFraction, frac)
			}
		}
		if ph.Gates("prefill") {
			if t.TTFTMsMax > 0 {
				add(id+" TTFT ms", "<=", t.TTFTMsMax, ttft)
			}
			if t.PrefillTPSMin > 0 {
				add(id+" prefill tok/s", ">=", t.PrefillTPSMin, pre)
			}
		}
		if o.Profile == nil {
			continue
		}
		for _, pt := range o.Profile.For(b.Identity) {
			if !pt.InPhase(ph.Name) {
				continue
			}
			pid := "profile " + o.Profile.Name + ": " + id
			if ph.Gates("decode") && b.Generate > 0 {
				if pt.DecodeTPSMin > 0 {
					add(pid+" decode tok/s", ">=", pt.DecodeTPSMin, dec)
				}
				if pt.DecodeBWFractionMin > 0 && !atDepth {
					add(pid+" decode fraction of read bandwidth", ">=", pt.DecodeBWFractionMin, frac)
				}
			}
			if ph.Gates("prefill") {
				if pt.TTFTMsMax > 0 && b.Prompt == pt.TTFTPrompt {
					add(pid+fmt.Sprintf(" TTFT ms (%d-token prompt)", b.Prompt), "<=", pt.TTFTMsMax, ttft)
				}
				if pt.TTFTOverGEMVLoopMin > 0 && ph.Name == "phase3" {
					// The seed's 16.7 s -> < 2 s: the tiled GEMM against
					// phase 2's prompt as a loop of GEMVs, same bench.
					if loop := sameBench(done["phase2"], b); loop != nil {
						v := results.Median(loop.Metrics()["ttft-ms"]) / ttft
						add(pid+" TTFT speed-up over the GEMV loop (phase 2)", ">=", pt.TTFTOverGEMVLoopMin, v)
					}
				}
				if pk := o.peaks[b.Threads]; pt.PrefillPeakFractionMin > 0 && pk > 0 && b.MatmulMACs > 0 && b.Depth == 0 {
					add(pid+" prefill fraction of the int8 peak", ">=", pt.PrefillPeakFractionMin, pre*float64(b.MatmulMACs)/1e9/pk)
				}
				if pt.PrefillOverDecodeMin > 0 && b.Generate > 0 {
					add(pid+" prefill / decode speed", ">=", pt.PrefillOverDecodeMin, pre/dec)
				}
			}
		}
	}
	return out
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

// newGate judges value against target ("<=" or ">="); NaN never passes.
// A miss while busy says why (the samples' host load) is inconclusive.
func newGate(name, op string, target, value float64, busy string) results.Gate {
	ok := value <= target
	if op == ">=" {
		ok = value >= target
	}
	if math.IsNaN(value) {
		ok = false
	}
	g := results.Gate{Name: name, Op: op, Target: target, Value: value, Passed: ok}
	if !ok && busy != "" {
		g.Inconclusive, g.Why = true, busy
	}
	return g
}

// busyWhy says why a bench's samples cannot fail a target: some were
// taken while other processes held more of the machine than the suite
// allows (the timing then measures the scheduler). Empty when none were.
func busyWhy(b *results.Bench, maxDisturbance float64) string {
	if b.Result == nil || maxDisturbance <= 0 {
		return ""
	}
	n, worst := 0, 0.0
	for _, s := range b.Result.Samples {
		if s.Disturbance > maxDisturbance {
			n++
			worst = max(worst, s.Disturbance)
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d samples taken while other processes held up to %.0f%% of the CPUs (limit %.0f%%)",
		n, len(b.Result.Samples), 100*worst, 100*maxDisturbance)
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
