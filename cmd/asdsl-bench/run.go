package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"asdsl-bench/configs"
	"asdsl-bench/harness"
	"asdsl-bench/harness/gate"
	"asdsl-bench/harness/machine"
	"asdsl-bench/harness/profile"
	"asdsl-bench/harness/report"
	"asdsl-bench/harness/results"
	"asdsl-bench/harness/suite"
	"asdsl-bench/phases"
	"asdsl-bench/suites"
)

// runFlags are shared by run and gate.
type runFlags struct {
	suite, profile, baseline, out, configs, db *string
	bwMiB                                      *int
}

func addRunFlags(fs interface {
	String(string, string, string) *string
	Int(string, int, string) *int
}, defSuite string) runFlags {
	return runFlags{
		suite:    fs.String("suite", defSuite, "suite file, or the name of a built-in suite ("+suites.List()+")"),
		profile:  fs.String("profile", "", "machine profile name (default: chosen from the CPU; see configs/)"),
		baseline: fs.String("baseline", "", "run record (.json) to compare against, or \"latest\" for the newest stored run of the suite"),
		out:      fs.String("out", "reports", "directory for run records (runs/) and reports"),
		configs:  fs.String("configs", "", "directory of machine profiles (default: the built-in ones)"),
		bwMiB:    fs.Int("bw-size", 512, "working set of the bandwidth measurement, MiB"),
		db:       fs.String("db", "", dbFlagHelp),
	}
}

func runCommand(args []string) error {
	fs := newFlags("run", "run [phase0..phase7|all ...] [--suite FILE] [--profile NAME] [--baseline FILE|latest|REF] [--out DIR]")
	rf := addRunFlags(fs, "default")
	if err := parse(fs, args); err != nil {
		return err
	}
	s, err := loadSuite(*rf.suite)
	if err != nil {
		return err
	}
	want := fs.Args()
	if len(want) == 0 {
		want = s.Phases
	}
	phaseNames, err := expandPhases(want)
	if err != nil {
		return err
	}
	profs, err := loadProfiles(*rf.configs)
	if err != nil {
		return err
	}
	prof, why, err := chooseProfile(profs, *rf.profile, s)
	if err != nil {
		return usageError{err}
	}
	var base *results.Run
	if *rf.baseline != "" {
		if base, err = loadBaseline(*rf.baseline, filepath.Join(*rf.out, "runs"), s.Name); err != nil {
			return err
		}
		if err := canReachAlpha(s, base); err != nil {
			return usageError{err}
		}
	}
	if err := checkWritable(*rf.out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "suite %s, phases %s, profile %s (%s)\n", s.Name, strings.Join(phaseNames, " "), prof.Name, why)
	run, err := harness.Execute(harness.Options{Suite: s, Phases: phaseNames, Profile: prof, ProfileWhy: why, Baseline: base,
		Log: os.Stderr, BandwidthMiB: *rf.bwMiB, OutDir: *rf.out, Binary: selfBinary()})
	if err != nil {
		return err
	}
	jsonPath, err := results.Save(run, filepath.Join(*rf.out, "runs"))
	if err != nil {
		return err
	}
	recordRun(*rf.db, run)
	stored, _ := results.List(filepath.Join(*rf.out, "runs")) // for the history chart; none is fine
	rep, err := report.Write(run, *rf.out, stored...)
	if err != nil {
		return err
	}
	runs, err := results.List(filepath.Join(*rf.out, "runs"))
	if err == nil {
		err = report.Index(runs, *rf.out)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "warning: the report index was not updated: %v\n", err)
	}
	printSummary(run)
	printTargets(os.Stdout, run)
	fmt.Fprintf(os.Stderr, "results: %s (and .bench for benchstat); report: %s\n", jsonPath, rep)
	if !run.Passed {
		return exitError{code: 1, msg: "some gates failed (see the summary and the report)"}
	}
	return nil
}

// exitError ends the program with a code but no "error" prefix noise.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// canReachAlpha refuses a comparison with a stored run that can never be
// significant: with 3 repetitions against 3, the smallest Mann-Whitney p
// is 0.1, so at alpha 0.05 a 2x change reads "~".
func canReachAlpha(s *suite.Suite, base *results.Run) error {
	n := 0
	for _, p := range base.Phases {
		for _, b := range p.Benches {
			if b.Result != nil && (n == 0 || len(b.Result.Samples) < n) {
				n = len(b.Result.Samples)
			}
		}
	}
	if p := gate.MinP(s.Repetitions, n); n > 0 && p >= s.Regression.Alpha {
		return fmt.Errorf("%s: %d repetitions against the baseline's %d cannot reach p < %g (the smallest Mann-Whitney p is %.3g): use at least %d on both sides",
			s.Where("repetitions"), s.Repetitions, n, s.Regression.Alpha, p, gate.RepsFor(s.Regression.Alpha))
	}
	return nil
}

func printSummary(r *results.Run) {
	printPhases(r)
	for _, d := range results.Regressions(r.Deltas, 0) {
		fmt.Printf("regression: %s %s %.4g -> %.4g (p=%.3f)\n", d.Key, d.Metric, d.Old, d.New, d.P)
	}
	fmt.Printf("overall: %s\n", map[bool]string{true: "PASS", false: "FAIL"}[r.Passed])
}

func printPhases(r *results.Run) {
	fmt.Printf("%-8s %-70s %s\n", "phase", "title", "result")
	for _, p := range r.Phases {
		v := "FAIL"
		switch {
		case !p.Implemented:
			v = "not implemented"
		case p.Passed:
			v = "PASS"
		}
		fmt.Printf("%-8s %-70s %s\n", p.Name, p.Title, v)
	}
}

func loadSuite(s string) (*suite.Suite, error) {
	if _, err := os.Stat(s); err == nil {
		return suite.Load(s)
	}
	data, err := fs.ReadFile(suites.Files, strings.TrimSuffix(s, ".yaml")+".yaml")
	if err != nil {
		return nil, usagef("suite %q is neither a file nor a built-in suite (%s)", s, suites.List())
	}
	return suite.Parse(data, "built-in "+s)
}

func loadProfiles(dir string) ([]*profile.Profile, error) {
	if dir != "" {
		return profile.LoadDir(dir)
	}
	return profile.LoadFS(configs.Files)
}

// loadBaseline accepts a run record file, "latest" (the newest stored
// run of the suite) or a git ref (the newest stored run of the suite at
// that commit).
func loadBaseline(b, runsDir, suiteName string) (*results.Run, error) {
	if _, err := os.Stat(b); err == nil {
		return results.Load(b)
	}
	commit := ""
	if b != "latest" {
		out, err := exec.Command("git", "rev-parse", "--verify", b+"^{commit}").Output()
		if err != nil {
			return nil, usagef("--baseline %q is neither a run record, \"latest\", nor a git ref", b)
		}
		commit = strings.TrimSpace(string(out))
	}
	runs, err := results.List(runsDir)
	if err != nil {
		return nil, err
	}
	for i := len(runs) - 1; i >= 0; i-- {
		if runs[i].Suite == suiteName && (commit == "" || runs[i].Commit == commit) {
			return runs[i], nil
		}
	}
	if commit != "" {
		return nil, fmt.Errorf("no stored run of suite %s at %s in %s (run it there first)", suiteName, b, runsDir)
	}
	return nil, fmt.Errorf("no stored run of suite %s in %s to use as the baseline", suiteName, runsDir)
}

// expandPhases checks phase names; none, or "all" among them, means
// every phase.
func expandPhases(want []string) ([]string, error) {
	if len(want) == 0 || slices.Contains(want, "all") {
		var out []string
		for _, p := range phases.All() {
			out = append(out, p.Name)
		}
		return out, nil
	}
	for _, w := range want {
		if phases.ByName(w) == nil {
			return nil, usagef("unknown phase %q (phase0..phase7 or all)", w)
		}
	}
	return want, nil
}

func runCompare(args []string) error {
	fs := newFlags("compare", "compare OLD.json NEW.json [--alpha 0.05]")
	alpha := fs.Float64("alpha", 0.05, "significance level of the Mann-Whitney U test")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkAlpha(*alpha); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("want OLD and NEW run records")
	}
	a, err := results.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	b, err := results.Load(fs.Arg(1))
	if err != nil {
		return err
	}
	ds := results.Compare(a, b, *alpha)
	if len(ds) == 0 {
		return fmt.Errorf("the two runs have no benchmark in common")
	}
	return results.WriteComparison(os.Stdout, ds)
}

func runReport(args []string) error {
	fs := newFlags("report", "report [--out DIR]")
	out := fs.String("out", "reports", "directory holding runs/ and the reports")
	if err := parse(fs, args); err != nil {
		return err
	}
	runs, err := results.List(filepath.Join(*out, "runs"))
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		return fmt.Errorf("no stored runs in %s", filepath.Join(*out, "runs"))
	}
	for _, r := range runs {
		if _, err := report.Write(r, *out, runs...); err != nil {
			return err
		}
	}
	if err := report.Index(runs, *out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %d reports and %s\n", len(runs), filepath.Join(*out, "README.md"))
	return nil
}

// chooseProfile: --profile, else the suite's profile, else the one the
// CPU matches.
func chooseProfile(profs []*profile.Profile, flagName string, s *suite.Suite) (*profile.Profile, string, error) {
	if flagName == "" && s.Profile != "" {
		p, _, err := profile.Choose(profs, s.Profile, "")
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", s.Where("profile"), err)
		}
		return p, "named by suite " + s.Name, nil
	}
	return profile.Choose(profs, flagName, machine.DetectCPU().Brand)
}

// printTargets is the profile's targets, phase by phase: what the
// profile asks, what was measured, the verdict. For the seed suite this
// is the seed's table.
func printTargets(w io.Writer, r *results.Run) {
	var rows [][]string
	for _, p := range r.Phases {
		for _, g := range p.Gates {
			if !strings.HasPrefix(g.Name, "profile ") {
				continue
			}
			v := "PASS"
			switch {
			case g.Inconclusive:
				v = "inconclusive"
			case !g.Passed:
				v = "FAIL"
			}
			name := g.Name[strings.Index(g.Name, ": ")+2:]
			rows = append(rows, []string{p.Name, name, fmt.Sprintf("%s %.4g", g.Op, g.Target), fmt.Sprintf("%.4g", g.Value), v})
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\nprofile %s targets:\n%-8s %-72s %-12s %-10s %s\n", r.Profile, "phase", "target", "wants", "measured", "verdict")
	for _, row := range rows {
		fmt.Fprintf(w, "%-8s %-72s %-12s %-10s %s\n", row[0], row[1], row[2], row[3], row[4])
	}
}

// selfBinary is this executable, for measurements that need a fresh
// process of it (phase 6's cold starts); empty when it cannot be found.
func selfBinary() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	return p
}
