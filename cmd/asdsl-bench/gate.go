package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"asdsl-bench/engine/mock"
	"asdsl-bench/harness"
	"asdsl-bench/harness/gate"
	"asdsl-bench/harness/report"
	"asdsl-bench/harness/results"
	"asdsl-bench/suites"
)

// Exit codes of gate: 0 pass, 1 regression or a failed check or target,
// 3 inconclusive (the host was too noisy to decide), 2 bad usage.
const exitInconclusive = 3

// runGate is the CI gate: the gate suite's checks and targets in this
// process, then this build against a baseline build (a git revision,
// built from source) alternated ABBA in fresh processes.
func runGate(args []string) error {
	fs := newFlags("gate", "gate [--baseline REF|none] [--baseline-file FILE] [--suite FILE|gate] [--out DIR]")
	suiteName := fs.String("suite", "gate", "suite file, or the name of a built-in suite ("+suites.List()+")")
	ref := fs.String("baseline", "", "git revision to compare this build with, built from source and cached by commit (default: the merge base with main, else HEAD~1); \"none\": the absolute targets only")
	baseFile := fs.String("baseline-file", "", "a stored run record (.json) to show beside this run: informational, it never fails the gate (a run stored at another time saw another host)")
	out := fs.String("out", "reports", "directory for run records (runs/) and reports")
	prof := fs.String("profile", "", "machine profile name (default: chosen from the CPU; see configs/)")
	cfgDir := fs.String("configs", "", "directory of machine profiles (default: the built-in ones)")
	bwMiB := fs.Int("bw-size", 512, "working set of the bandwidth measurement, MiB")
	db := fs.String("db", "", dbFlagHelp)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("gate runs its suite's phases; unexpected argument %q", fs.Arg(0))
	}
	s, err := loadSuite(*suiteName)
	if err != nil {
		return err
	}
	if err := harness.CheckReps(s); err != nil {
		return usageError{err}
	}
	phaseNames, err := expandPhases(s.Phases)
	if err != nil {
		return err
	}
	profs, err := loadProfiles(*cfgDir)
	if err != nil {
		return err
	}
	p, why, err := chooseProfile(profs, *prof, s)
	if err != nil {
		return usageError{err}
	}
	var informational *results.Run
	if *baseFile != "" {
		if informational, err = results.Load(*baseFile); err != nil {
			return err
		}
	}
	if err := checkWritable(*out); err != nil {
		return err
	}

	// The baseline build first: a revision that cannot be had is said
	// in one line before the long part, never silently skipped.
	base, note := baselineBinary(*ref, os.Stderr)
	if note != "" {
		fmt.Fprintf(os.Stderr, "gate: %s; judging by the checks and absolute targets only\n", note)
	}

	fmt.Fprintf(os.Stderr, "suite %s, phases %s, profile %s (%s)\n", s.Name, strings.Join(phaseNames, " "), p.Name, why)
	run, err := harness.Execute(harness.Options{Suite: s, Phases: phaseNames, Profile: p, ProfileWhy: why,
		Log: os.Stderr, BandwidthMiB: *bwMiB, OutDir: *out, Binary: selfBinary()})
	if err != nil {
		return err
	}
	if informational != nil {
		// A stored run saw another host state: shown, never gating.
		run.Baseline = informational.ID
		run.Deltas = results.Compare(informational, run, s.Regression.Alpha)
	}
	run.BaselineNote = note
	if base.Path != "" {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("gate: cannot find this binary to compare: %v", err)
		}
		cand := gate.Binary{Name: "candidate " + shortID(run.Commit, run.Dirty), Path: self}
		fmt.Fprintf(os.Stderr, "gate: %s against %s, %d samples each, ABBA, a fresh process per sample\n", cand.Name, base.Name, s.Regression.Repetitions)
		ab, err := harness.CompareBuilds(harness.BuildComparison{Suite: s, Baseline: base, Candidate: cand, Log: os.Stderr})
		if err != nil {
			return err
		}
		run.AB = ab
	}
	run.Verdict = gateVerdict(run)

	jsonPath, err := results.Save(run, filepath.Join(*out, "runs"))
	if err != nil {
		return err
	}
	recordRun(*db, run)
	stored, _ := results.List(filepath.Join(*out, "runs")) // for the history chart; none is fine
	rep, err := report.Write(run, *out, stored...)
	if err != nil {
		return err
	}
	if runs, err := results.List(filepath.Join(*out, "runs")); err == nil {
		if err := report.Index(runs, *out); err != nil {
			fmt.Fprintf(os.Stderr, "warning: the report index was not updated: %v\n", err)
		}
	}
	printPhases(run)
	if informational != nil && len(run.Deltas) > 0 {
		fmt.Printf("\ninformational, against the stored run %s (another time, another host state; never gates):\n", informational.ID)
		results.WriteComparison(os.Stdout, run.Deltas)
	}
	printGate(os.Stdout, run)
	fmt.Fprintf(os.Stderr, "results: %s; report: %s\n", jsonPath, rep)
	switch run.Verdict {
	case "pass":
		return nil
	case "inconclusive":
		return exitError{code: exitInconclusive, msg: "inconclusive: the host was too noisy to decide (see above); not a failure"}
	}
	return exitError{code: 1, msg: run.Verdict + " (see above)"}
}

// allChecksAndTargetsPass reports whether every phase passed on its own
// checks and gates.
func allChecksAndTargetsPass(r *results.Run) bool {
	for _, p := range r.Phases {
		if !p.Passed {
			return false
		}
	}
	return true
}

// gateVerdict: a failed check or target is "fail"; a regression against
// the baseline build "regression"; a target or comparison the host's
// load left undecided "inconclusive"; else "pass".
func gateVerdict(r *results.Run) string {
	if !allChecksAndTargetsPass(r) {
		return "fail"
	}
	v := gate.Pass
	if r.Inconclusive {
		v = gate.Inconclusive
	}
	if r.AB != nil {
		v = gate.Worst(v, r.AB.Verdict)
	}
	return v.String()
}

// baselineBinary resolves and builds the baseline revision. On failure
// it returns a zero Binary and one line saying why.
func baselineBinary(ref string, log io.Writer) (gate.Binary, string) {
	if ref == "none" {
		return gate.Binary{}, "no baseline build (--baseline none)"
	}
	dir, err := os.Getwd()
	if err != nil {
		return gate.Binary{}, "no baseline build: " + err.Error()
	}
	if ref == "" {
		if ref, err = gate.DefaultRef(dir); err != nil {
			return gate.Binary{}, "no baseline build: not in a git checkout (" + err.Error() + ")"
		}
	}
	commit, err := gate.Resolve(dir, ref)
	if err != nil {
		return gate.Binary{}, "no baseline build: " + err.Error()
	}
	cache, err := mock.CacheDir()
	if err != nil {
		return gate.Binary{}, "no baseline build: " + err.Error()
	}
	exe, err := gate.BuildRef(dir, commit, filepath.Join(cache, "bin"), log)
	if err != nil {
		return gate.Binary{}, "no baseline build: " + err.Error()
	}
	return gate.Binary{Name: fmt.Sprintf("baseline %s (%s)", commit[:min(12, len(commit))], ref), Path: exe}, ""
}

func shortID(commit string, dirty bool) string {
	c := commit[:min(12, len(commit))]
	if dirty {
		c += "-dirty"
	}
	return c
}

// checkWritable fails before any benchmark when the output directory
// cannot take the run's record.
func checkWritable(dir string) error {
	runs := filepath.Join(dir, "runs")
	if err := os.MkdirAll(runs, 0o755); err != nil {
		return fmt.Errorf("--out %s: %w", dir, err)
	}
	f, err := os.CreateTemp(runs, ".writable-*")
	if err != nil {
		return fmt.Errorf("--out %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// printGate is the verdict in one screen: each comparison with its
// medians, change, p and the slowdown the noise would have let it see;
// the targets left undecided; the verdict.
func printGate(w io.Writer, r *results.Run) {
	fmt.Fprintln(w)
	if r.AB != nil {
		ab := r.AB
		fmt.Fprintf(w, "A/B: %s vs %s, %d samples each (ABBA, fresh processes); regression = %.0f%% slower with p < %g\n",
			ab.Candidate, ab.Baseline, ab.Reps, 100*ab.Rules.MaxSlowdown, ab.Rules.Alpha)
		fmt.Fprintf(w, "%-28s %-13s %10s %10s %8s %9s %10s %9s  %s\n", "case", "metric", "baseline", "candidate", "change", "p", "detectable", "disturbed", "verdict")
		for _, c := range ab.Cases {
			for _, j := range c.Judgements {
				fmt.Fprintf(w, "%-28s %-13s %10.4g %10.4g %+7.1f%% %9.3g %10s %9s  %s\n", c.Case.Label, j.Metric, j.BaseMedian, j.CandMedian,
					100*(j.CandMedian/j.BaseMedian-1), j.P, pctOrNone(j.Detectable), fmt.Sprintf("%d/%d", j.Disturbed, len(j.Base)+len(j.Cand)), j.Verdict)
				if j.Verdict != gate.Pass {
					fmt.Fprintf(w, "    %s\n", j.Why)
				}
			}
		}
	} else {
		fmt.Fprintf(w, "A/B: none (%s)\n", r.BaselineNote)
	}
	for _, p := range r.Phases {
		for _, g := range p.Gates {
			if g.Inconclusive {
				fmt.Fprintf(w, "target inconclusive: %s %s: %.4g %s %.4g missed, but %s\n", p.Name, g.Name, g.Value, g.Op, g.Target, g.Why)
			}
		}
	}
	fmt.Fprintf(w, "gate verdict: %s\n", r.Verdict)
}

func pctOrNone(x float64) string {
	if x > 100 {
		return "none"
	}
	return fmt.Sprintf("%.0f%%", 100*x)
}
