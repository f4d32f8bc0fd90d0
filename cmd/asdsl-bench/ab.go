package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"

	"golang.org/x/perf/benchmath"

	"asdsl-bench/harness/gate"
	"asdsl-bench/harness/llamabench"
	"asdsl-bench/internal/stats"
)

// runAB compares two builds of the engine (or any two llama-bench-like
// binaries): it alternates one repetition of each in ABBA order, so both
// see the same machine — on a shared VM throughput drifts by tens of
// percent within minutes — and tests the difference two ways: the
// Mann-Whitney U test on the two sides as samples (benchstat's), and the
// Wilcoxon signed-rank test on each round's ratio new/old (the gate's),
// which the drift between rounds does not blur.
func runAB(args []string) error {
	fs := newFlags("ab", "ab OLD_BINARY NEW_BINARY [-m MODEL] [-p 64] [-n 32] [-t THREADS] [-r 7]")
	model := fs.String("m", "", "GGUF model (default: the built-in mock model)")
	prompt := fs.Int("p", 64, "prompt tokens (pp test; 0 skips)")
	gen := fs.Int("n", 32, "generated tokens (tg test; 0 skips)")
	threads := fs.Int("t", 0, "threads (0: one per P-core)")
	reps := fs.Int("r", 7, "repetitions of each binary, alternated")
	alpha := fs.Float64("alpha", 0.05, "significance level")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkAlpha(*alpha); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("want OLD_BINARY and NEW_BINARY (both must accept asdsl-bench's bench flags)")
	}
	path := *model
	if path == "" {
		var err error
		if path, err = defaultModel(); err != nil {
			return err
		}
	}
	samples := map[string][2][]float64{}
	bins := []string{fs.Arg(0), fs.Arg(1)}
	for i := 0; i < *reps; i++ {
		for _, side := range gate.ABBA(i) {
			bin := bins[side]
			a := []string{"bench", "-m", path, "-p", strconv.Itoa(*prompt), "-n", strconv.Itoa(*gen), "-r", "1", "-o", "json"}
			if *threads > 0 {
				a = append(a, "-t", strconv.Itoa(*threads))
			}
			cmd := exec.Command(bin, a...)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%s: %v: %s", bin, err, errb.String())
			}
			rs, err := llamabench.Parse(out.Bytes())
			if err != nil {
				return fmt.Errorf("%s: %v", bin, err)
			}
			for _, r := range rs {
				s := samples[r.Test()]
				s[side] = append(s[side], r.SamplesTs...)
				samples[r.Test()] = s
			}
		}
		fmt.Fprintf(os.Stderr, "round %d/%d done\n", i+1, *reps)
	}
	th := benchmath.DefaultThresholds
	th.CompareAlpha = *alpha
	a := benchmath.AssumeNothing
	fmt.Printf("%-10s %-24s %-24s %-9s %-7s %-22s %s\n", "test", "old t/s (95% CI)", "new t/s (95% CI)", "delta", "p", "per round new/old", "p (paired)")
	for test, s := range samples {
		s1, s2 := benchmath.NewSample(s[0], &th), benchmath.NewSample(s[1], &th)
		m1, m2 := a.Summary(s1, 0.95), a.Summary(s2, 0.95)
		c := a.Compare(s1, s2)
		delta := "~"
		if c.P < c.Alpha {
			delta = fmt.Sprintf("%+.1f%%", 100*(m2.Center/m1.Center-1))
		}
		// Within each round: the ratio's median and range, and its test.
		logs := gate.LogRatios(s[0], s[1])
		pp := stats.SignedRankP(logs)
		paired := fmt.Sprintf("%.3f [%.3f, %.3f]", math.Exp(stats.Median(logs)), math.Exp(slices.Min(logs)), math.Exp(slices.Max(logs)))
		fmt.Printf("%-10s %-24s %-24s %-9s %-7.3f %-22s %.3g\n", test, fmt.Sprintf("%.2f %s", m1.Center, m1.PctRangeString()),
			fmt.Sprintf("%.2f %s", m2.Center, m2.PctRangeString()), delta, c.P, paired, pp)
	}
	return nil
}
