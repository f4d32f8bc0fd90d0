package harness

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"asdsl-bench/engine"
	"asdsl-bench/engine/topology"
	"asdsl-bench/harness/machine"
	"asdsl-bench/harness/results"
	"asdsl-bench/kernels"
	"asdsl-bench/phases"
)

// Execute runs the phases and evaluates every gate: measure the machine,
// then per phase run its checks, its benchmarks and its extra
// measurements, and judge them; last, compare with the baseline.
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
	r := &phaseRun{o: o, log: log, run: run, done: map[string]*results.Phase{}, env: &phases.Env{KLMax: o.Suite.Targets.KLMax}}
	r.measureMachine()
	// Cold starts first: they evict the model files from the page cache,
	// which cannot drop pages this process has mapped.
	r.cold = coldStarts(o, log)
	var err error
	if r.models, err = prepareModels(o.Suite, log); err != nil {
		return nil, err
	}
	defer func() {
		for _, m := range r.models {
			m.Close()
		}
	}()
	lookup := o.Lookup
	if lookup == nil {
		lookup = phases.ByName
	}
	for _, name := range o.Phases {
		ph := lookup(name)
		if ph == nil {
			return nil, fmt.Errorf("unknown phase %q", name)
		}
		if err := r.phase(ph); err != nil {
			return nil, err
		}
	}
	r.compareBaseline()
	fmt.Fprintf(log, "done in %v: %s\n", time.Since(start).Round(time.Second), passFail(run.Passed))
	return run, nil
}

// phaseRun is one run's state as it goes through the phases. Phases run
// one after another; nothing here is shared with another goroutine.
type phaseRun struct {
	o       Options
	bwBytes int64 // the read-bandwidth measurement's working set
	log     io.Writer
	run     *results.Run
	threads []int // the suite's thread counts, resolved, ascending
	peaks   map[int]float64
	cold    []*results.ColdBench
	models  map[string]*engine.Model
	done    map[string]*results.Phase // phases run so far, by name
	env     *phases.Env
}

// measureMachine records the CPU, the topology, and per thread count
// the read bandwidth and the int8 multiply-accumulate peak.
func (r *phaseRun) measureMachine() {
	cpu := machine.DetectCPU()
	topo := topology.Detect()
	// The kernels the process chose: the best this CPU runs, or the one
	// ASDSL_ISA names (phases that pin an ISA, like phase 1, get their
	// own table; the process's is never changed).
	isa := kernels.Active().ISA
	r.run.Machine = results.Machine{CPU: cpu.Brand, Features: cpu.Features, ISA: isa, Topology: topo.Summary(), Hybrid: topo.Hybrid(),
		MemoryBytes: machine.TotalMemory(), ReadGBs: map[int]float64{}}
	fmt.Fprintf(r.log, "machine: %s; %s; kernels %s\n", cpu.Brand, topo.Summary(), isa)
	threads := map[int]bool{}
	for _, t := range r.o.Suite.Threads {
		if t == 0 { // one per P-core
			t = len(topo.MathThreads())
		}
		threads[t] = true
	}
	r.threads = slices.Sorted(maps.Keys(threads))
	bwMiB := r.o.BandwidthMiB
	if bwMiB <= 0 {
		bwMiB = 512
	}
	// One thread is always measured too: the figure that more threads
	// are cross-checked against (machine.MeasureBandwidths).
	logf := func(s string) { fmt.Fprintln(r.log, s) }
	counts := r.threads
	if !slices.Contains(counts, 1) {
		counts = append([]int{1}, counts...)
	}
	r.bwBytes = int64(bwMiB) << 20
	bws := machine.MeasureBandwidths(counts, r.bwBytes, 5, logf)
	for _, t := range counts {
		bw := bws[t]
		r.run.Machine.ReadGBs[t] = bw.ReadGBs
		fmt.Fprintf(r.log, "read bandwidth, %d thread(s): %.1f GB/s (%s)\n", t, bw.ReadGBs, bw.Describe())
		if bw.Suspect != "" {
			if r.run.Machine.ReadNotes == nil {
				r.run.Machine.ReadNotes = map[int]string{}
			}
			r.run.Machine.ReadNotes[t] = bw.Suspect
		}
		if pk := machine.MeasureInt8Peak(t, 100*time.Millisecond, 3); pk.GMACs > 0 {
			if r.run.Machine.Int8GMACs == nil {
				r.run.Machine.Int8GMACs = map[int]float64{}
			}
			r.run.Machine.Int8GMACs[t], r.run.Machine.Int8Instr = pk.GMACs, pk.Instr
			fmt.Fprintf(r.log, "int8 multiply-accumulate peak, %d thread(s): %.0f GMAC/s (%s)\n", t, pk.GMACs, pk.Instr)
		}
	}
	r.peaks = r.run.Machine.Int8GMACs
}

// phase runs one phase: checks, benchmarks, extra measurements, gates.
func (r *phaseRun) phase(ph *phases.Phase) error {
	rp := &results.Phase{Name: ph.Name, Title: ph.Title, Implemented: ph.Implemented(), Missing: ph.Missing, Features: ph.FeatureString()}
	r.run.Phases = append(r.run.Phases, rp)
	r.done[ph.Name] = rp
	if !ph.Implemented() {
		fmt.Fprintf(r.log, "%s: not implemented (%s)\n", ph.Name, ph.Missing)
		r.run.Passed = false
		return nil
	}
	ops, err := kernels.Select(ph.ISA, -1) // "": the process's
	if err != nil {
		return fmt.Errorf("%s: %w", ph.Name, err)
	}
	fmt.Fprintf(r.log, "%s: %s [%s]\n", ph.Name, ph.Title, ph.FeatureString())
	rp.Passed = true
	r.env.Kernels = ops
	r.checks(ph, rp)
	if err := r.benches(ph, rp, ops); err != nil {
		return err
	}
	if err := r.extras(ph, rp, ops); err != nil {
		return err
	}
	r.judge(ph, rp)
	return nil
}

func (r *phaseRun) checks(ph *phases.Phase, rp *results.Phase) {
	for _, c := range ph.Checks {
		detail, err := c.Run(r.env)
		if err != nil {
			detail = err.Error()
		}
		rp.Checks = append(rp.Checks, results.Check{Name: c.Name, Passed: err == nil, Detail: detail})
		rp.Passed = rp.Passed && err == nil
		fmt.Fprintf(r.log, "  check %-50s %s  %s\n", c.Name, passFail(err == nil), detail)
	}
}

// benches runs every suite model and workload the phase uses at every
// thread count, and again on the phase's comparison kernels if it names
// them; a phase that shares another's configuration reuses its benches.
func (r *phaseRun) benches(ph *phases.Phase, rp *results.Phase, ops *kernels.Ops) error {
	if ph.SameBenchAs != "" && r.done[ph.SameBenchAs] != nil {
		rp.Benches = r.done[ph.SameBenchAs].Benches
		fmt.Fprintf(r.log, "  benchmarks: same engine configuration as %s\n", ph.SameBenchAs)
		return nil
	}
	var alt *kernels.Ops
	if ph.CompareISA != "" {
		alt, _ = kernels.Select(ph.CompareISA, -1) // nil where this CPU cannot run them
	}
	o := r.o
	for _, sm := range o.Suite.Models {
		if !sm.UsedIn(ph.Name) {
			continue
		}
		m := r.models[sm.Name]
		for _, w := range o.Suite.Workloads {
			if !w.UsedIn(ph.Name) {
				continue
			}
			for _, t := range r.threads {
				b, err := bench(m, sm, w, t, ph, ops, o)
				if err != nil {
					return fmt.Errorf("%s %s %s: %w", ph.Name, sm.Name, w.Name, err)
				}
				if o.Suite.Anchor != nil {
					b.Anchor = runAnchor(o.Suite.Anchor, m.Path, w, t, o.Suite.Repetitions, r.log)
				}
				rp.Benches = append(rp.Benches, b)
				logBench(r.log, b)
				if ph.Name == overLoopPhase && w.Prompt > 0 && w.Depth == 0 {
					if b.OverLoop, err = overLoop(m, w, t, ph, ops, o.Suite.Repetitions, r.log); err != nil {
						return fmt.Errorf("%s %s %s: the loop beside the GEMM: %w", ph.Name, sm.Name, w.Name, err)
					}
				}
				if alt == nil {
					continue
				}
				cb, err := bench(m, sm, w, t, ph, alt, o)
				if err != nil {
					return fmt.Errorf("%s %s %s [%s]: %w", ph.Name, sm.Name, w.Name, alt.ISA, err)
				}
				cb.Model += "@" + alt.ISA
				rp.Benches = append(rp.Benches, cb)
				logBench(r.log, cb)
			}
		}
	}
	return nil
}

// extras are the measurements particular to one phase: formats (1),
// KV-cache accuracy and perplexity (5), cold starts (6), speculation (7).
func (r *phaseRun) extras(ph *phases.Phase, rp *results.Phase, ops *kernels.Ops) error {
	var err error
	if ph.Speculative {
		if rp.Spec, err = benchSpeculative(ph, r.models, r.threads, ops, r.o, r.log); err != nil {
			return err
		}
	}
	switch ph.Name {
	case "phase1":
		rp.Formats, err = compareFormats(ph.Name, r.o, r.log)
	case "phase5":
		if rp.CacheKL, err = cacheKL(ph, r.models, r.o, r.log); err == nil {
			rp.Perplexity, err = measurePerplexity(ph, r.models, r.o, r.log)
		}
	case "phase6":
		rp.ColdStart = r.cold
	}
	return err
}

// measureYardstick measures the read bandwidth again at each thread
// count the phase decoded with, right after its benches, and records in
// rp the best figure of the run so far (the run's too). The figure from
// the run's start alone let a disturbed start inflate every fraction:
// one run read 38 GB/s at 2 threads at its start and 64.8 a few minutes
// later, and phase 6's decode then streamed "1.39" of the first. The
// best seen can only lower a fraction, and a disturbed bench is caught
// by its own samples.
func (r *phaseRun) measureYardstick(rp *results.Phase) {
	if r.bwBytes == 0 {
		return // no machine measurement (tests)
	}
	for _, b := range rp.Benches {
		t := b.Threads
		if b.Generate == 0 || rp.ReadGBs[t] > 0 {
			continue
		}
		now := machine.MeasureBandwidth(t, r.bwBytes, 5).ReadGBs
		best := max(now, r.run.Machine.ReadGBs[t])
		if best > 1.05*r.run.Machine.ReadGBs[t] {
			fmt.Fprintf(r.log, "read bandwidth, %d thread(s): %.1f GB/s after the benches, above the %.1f before: the phase is judged against it\n", t, now, r.run.Machine.ReadGBs[t])
		}
		r.run.Machine.ReadGBs[t] = best
		if rp.ReadGBs == nil {
			rp.ReadGBs = map[int]float64{}
		}
		rp.ReadGBs[t] = best
	}
}

// judge evaluates the phase's gates and folds them into its verdict: a
// miss on disturbed samples is inconclusive, not a failure.
func (r *phaseRun) judge(ph *phases.Phase, rp *results.Phase) {
	r.measureYardstick(rp)
	bw := r.run.Machine.ReadGBs
	if rp.ReadGBs != nil {
		bw = rp.ReadGBs
	}
	rp.Gates = append(gates(ph, rp.Benches, r.o, bw, r.peaks, r.run.Machine.ReadNotes, r.done), specGates(ph, rp.Spec, r.o)...)
	for _, g := range rp.Gates {
		v := passFail(g.Passed)
		if g.Inconclusive {
			v = "INCONCLUSIVE"
			r.run.Inconclusive = true
		}
		rp.Passed = rp.Passed && (g.Passed || g.Inconclusive)
		fmt.Fprintf(r.log, "  gate  %-50s %s  %.4g %s %.4g", g.Name, v, g.Value, g.Op, g.Target)
		if g.Why != "" {
			fmt.Fprintf(r.log, " (%s)", g.Why)
		}
		fmt.Fprintln(r.log)
	}
	r.run.Passed = r.run.Passed && rp.Passed
}

// compareBaseline marks the run failed on every significant regression
// against the baseline run.
func (r *phaseRun) compareBaseline() {
	o := r.o
	if o.Baseline == nil {
		return
	}
	r.run.Baseline = o.Baseline.ID
	r.run.Deltas = results.Compare(o.Baseline, r.run, o.Suite.Regression.Alpha)
	for _, d := range results.Regressions(r.run.Deltas, o.Suite.Regression.MaxSlowdown) {
		r.run.Passed = false
		fmt.Fprintf(r.log, "REGRESSION %s %s: %.4g -> %.4g (%.0f%% worse, p=%.3f)\n", d.Key, d.Metric, d.Old, d.New, 100*d.Worse, d.P)
	}
}
