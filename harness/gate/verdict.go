// Package gate decides whether a candidate build of the engine is slower
// than a baseline build, from samples the two took alternately on the
// same machine, and says so in one of three verdicts: pass, regression,
// or inconclusive when the host was too noisy for either claim.
//
// Why alternated fresh processes and not a stored baseline: on a shared
// VM throughput drifts by tens of percent within minutes, so a run
// stored an hour ago differs from today's by more than most regressions.
// Samples taken in ABBA order share the drift, a pair (one round) most
// of all; the Wilcoxon signed-rank test on the pairs' ratios (no
// distributional assumption) then compares them.
package gate

import (
	"fmt"
	"math"

	"asdsl-bench/internal/stats"
)

// Verdict is the gate's answer.
type Verdict int

const (
	Pass Verdict = iota
	Regression
	Inconclusive
)

func (v Verdict) String() string {
	switch v {
	case Pass:
		return "pass"
	case Regression:
		return "regression"
	}
	return "inconclusive"
}

// Worst combines verdicts: any regression is a regression; otherwise any
// inconclusive makes the whole inconclusive.
func Worst(vs ...Verdict) Verdict {
	out := Pass
	for _, v := range vs {
		switch {
		case v == Regression:
			return Regression
		case v == Inconclusive:
			out = Inconclusive
		}
	}
	return out
}

// Obs is one sample: a value and the host's load while it was taken.
type Obs struct {
	Value float64 `json:"value"`
	// Disturbance is how much of the machine the sample did not have:
	// the larger of the share other processes and the hypervisor took
	// during it (hostload.Load.Disturbance, 10 ms ticks) and the share of
	// its timed interval its math threads waited for a CPU
	// (hostload.LostClock, nanoseconds); -1 when neither was measured.
	Disturbance float64 `json:"disturbance"`
}

// Rules are the gate's thresholds.
type Rules struct {
	Alpha       float64 // significance level of the signed-rank test on the pairs
	MaxSlowdown float64 // smallest slowdown that fails the gate (0.3 = 30%)
	// MaxDisturbance is the Disturbance a sample may have before it
	// counts as disturbed.
	MaxDisturbance float64
}

// Judgement is one metric's comparison, explained.
type Judgement struct {
	Metric         string  `json:"metric"`
	HigherIsBetter bool    `json:"higher_is_better"`
	Base           []Obs   `json:"base"`
	Cand           []Obs   `json:"cand"`
	BaseMedian     float64 `json:"base_median"`
	CandMedian     float64 `json:"cand_median"`
	// Worse is the change in the bad direction, from the median ratio
	// new/old within the pairs: a drop of a rate (1 - ratio), a rise of
	// a time (ratio - 1). Negative is better.
	Worse float64 `json:"worse"`
	// P is the Wilcoxon signed-rank test's on the pairs' log ratios.
	P float64 `json:"p"`
	// Detectable is the smallest slowdown (in Worse's terms) that pairs
	// spread as these were, at this many rounds, would have shown as
	// significant: the resolution the noise actually seen allowed.
	Detectable float64 `json:"detectable"`
	Disturbed  int     `json:"disturbed"` // samples taken while the host was busy
	Verdict    Verdict `json:"verdict"`
	Why        string  `json:"why"`
}

// MinP is the smallest two-sided p-value the exact Mann-Whitney U test
// can give for samples of n and m: every value of one below every value
// of the other, 2/C(n+m, n). A comparison with MinP >= alpha can never
// call anything significant: with 3 against 3 it is 0.1. The gate pairs
// its samples (PairsFor); unpaired comparisons — a run against a stored
// baseline, as benchstat makes them — are bounded by this.
func MinP(n, m int) float64 {
	if n < 1 || m < 1 {
		return 1
	}
	// C(n+m, n) in floating point: exact enough for any n here.
	c := 1.0
	for i := 1; i <= n; i++ {
		c = c * float64(m+i) / float64(i)
	}
	return math.Min(1, 2/c)
}

// RepsFor is the smallest equal repetition count per side whose
// comparison can reach p < alpha.
func RepsFor(alpha float64) int {
	for n := 1; n < 1000; n++ {
		if MinP(n, n) < alpha {
			return n
		}
	}
	return 1000
}

// PairsFor is the smallest number of ABBA rounds (pairs) whose
// signed-rank test can reach p < alpha: 2/2^n < alpha (8 at 0.01, 6 at
// 0.05).
func PairsFor(alpha float64) int {
	for n := 1; n < 1000; n++ {
		if stats.MinSignedRankP(n) < alpha {
			return n
		}
	}
	return 1000
}

// LogRatios are the pairs' log(cand/base): positive where the candidate's
// figure is larger. NaN where a figure is not positive.
func LogRatios(base, cand []float64) []float64 {
	out := make([]float64, min(len(base), len(cand)))
	for i := range out {
		if base[i] > 0 && cand[i] > 0 {
			out[i] = math.Log(cand[i] / base[i])
		} else {
			out[i] = math.NaN()
		}
	}
	return out
}

// pairedWorse is the typical change within a pair in Worse's terms: the
// median ratio cand/base, a rise of a time or a drop of a rate.
func pairedWorse(d []float64, higherIsBetter bool) float64 {
	r := math.Exp(stats.Median(d))
	if higherIsBetter {
		return 1 - r
	}
	return r - 1
}

// logShift is the log ratio of a slowdown w (in Worse's terms).
func logShift(w float64, higherIsBetter bool) float64 {
	if higherIsBetter {
		return math.Log(1 - w)
	}
	return math.Log(1 + w)
}

// Detectable is the smallest slowdown w for which the pairs' log ratios
// d, centred on their median and then shifted by w, differ from zero at
// p < alpha: how large a change the spread within the pairs lets the
// test see. +Inf when none can (too few pairs, or a spread wider than
// any slowdown in range).
func Detectable(d []float64, higherIsBetter bool, alpha float64) float64 {
	if stats.MinSignedRankP(len(d)) >= alpha {
		return math.Inf(1)
	}
	med := stats.Median(d)
	hi := 10.0 // a time ten-fold longer
	if higherIsBetter {
		hi = 0.99 // a rate down to 1%
	}
	shifted := make([]float64, len(d))
	detects := func(w float64) bool {
		for i, v := range d {
			shifted[i] = v - med + logShift(w, higherIsBetter)
		}
		return stats.SignedRankP(shifted) < alpha
	}
	if !detects(hi) {
		return math.Inf(1)
	}
	lo := 0.0
	for i := 0; i < 40; i++ {
		mid := (lo + hi) / 2
		if detects(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

func values(o []Obs) []float64 {
	out := make([]float64, len(o))
	for i, x := range o {
		out[i] = x.Value
	}
	return out
}

func (r Rules) disturbed(o Obs) bool { return o.Disturbance > r.MaxDisturbance }

// cleanPairs keeps the pairs neither of whose samples was disturbed.
func (r Rules) cleanPairs(base, cand []Obs) (b, c []float64) {
	for i := range min(len(base), len(cand)) {
		if !r.disturbed(base[i]) && !r.disturbed(cand[i]) {
			b, c = append(b, base[i].Value), append(c, cand[i].Value)
		}
	}
	return b, c
}

// normalized rescales each sample by the share of the machine it had:
// a time taken while others held a share d of the CPUs would have been
// about (1-d) as long on an idle machine, a rate 1/(1-d) as high. Where d
// is the math threads' run-queue delay it is close to exact for one
// thread (the time minus the wait) and an over-correction for more (the
// waits are summed); where it is the machine's share read in ticks it is
// an estimate. It is used only to ask whether load can explain a
// slowdown.
func normalized(o []Obs, higherIsBetter bool) []float64 {
	out := make([]float64, len(o))
	for i, x := range o {
		have := 1 - math.Max(0, math.Min(x.Disturbance, 0.9))
		if higherIsBetter {
			out[i] = x.Value / have
		} else {
			out[i] = x.Value * have
		}
	}
	return out
}

// Judge compares one metric's samples, taken in ABBA rounds: base[i]
// and cand[i] come from round i, minutes or seconds apart, and share the
// host's state of that moment. On a shared VM that state moves by tens
// of percent within a run (the TinyLlama mock's decode fell from 85 to
// 57 t/s between two rounds of one CI gate, both builds alike), so the
// comparison is within pairs: the Wilcoxon signed-rank test on
// log(cand/base), and the change is the median of those ratios. Samples
// past the shorter side are ignored.
//
//   - regression: slower by at least MaxSlowdown with p < Alpha, and, if
//     any sample was disturbed, still so on the pairs with no disturbed
//     sample or after rescaling each sample by the machine share it had.
//     A slowdown the host's load can explain is not blamed on the code.
//   - inconclusive: not a regression, but the run could not have seen
//     one: the pairs' spread hides a MaxSlowdown change (Detectable >
//     MaxSlowdown), half the samples or more were disturbed, or the
//     change reaches MaxSlowdown without significance.
//   - pass: otherwise.
func Judge(metric string, higherIsBetter bool, base, cand []Obs, r Rules) Judgement {
	n := min(len(base), len(cand))
	base, cand = base[:n], cand[:n]
	j := Judgement{Metric: metric, HigherIsBetter: higherIsBetter, Base: base, Cand: cand}
	bv, cv := values(base), values(cand)
	j.BaseMedian, j.CandMedian = stats.Median(bv), stats.Median(cv)
	d := LogRatios(bv, cv)
	j.Worse = pairedWorse(d, higherIsBetter)
	j.P = stats.SignedRankP(d)
	for i := range base {
		for _, o := range []Obs{base[i], cand[i]} {
			if r.disturbed(o) {
				j.Disturbed++
			}
		}
	}
	bc, cc := r.cleanPairs(base, cand)
	noise := d
	if stats.MinSignedRankP(len(bc)) < r.Alpha {
		noise = LogRatios(bc, cc) // judge the resolution by the undisturbed pairs where they suffice
	}
	j.Detectable = Detectable(noise, higherIsBetter, r.Alpha)

	slower := func(a, b []float64) bool {
		if stats.MinSignedRankP(min(len(a), len(b))) >= r.Alpha {
			return false
		}
		d := LogRatios(a, b)
		return pairedWorse(d, higherIsBetter) >= r.MaxSlowdown && stats.SignedRankP(d) < r.Alpha
	}
	if slower(bv, cv) {
		switch {
		case j.Disturbed == 0:
			j.Verdict, j.Why = Regression, fmt.Sprintf("%.0f%% slower, p = %.3g < %g", 100*j.Worse, j.P, r.Alpha)
		case slower(bc, cc):
			j.Verdict, j.Why = Regression, fmt.Sprintf("%.0f%% slower, p = %.3g < %g; also on the %d pairs with no disturbed sample", 100*j.Worse, j.P, r.Alpha, len(bc))
		case slower(normalized(base, higherIsBetter), normalized(cand, higherIsBetter)):
			j.Verdict, j.Why = Regression, fmt.Sprintf("%.0f%% slower, p = %.3g < %g; also with each sample rescaled by the machine share it had", 100*j.Worse, j.P, r.Alpha)
		default:
			j.Verdict, j.Why = Inconclusive, fmt.Sprintf("%.0f%% slower (p = %.3g), but %d of %d samples lost more than %.0f%% of the machine to other processes, and their load explains the difference",
				100*j.Worse, j.P, j.Disturbed, 2*n, 100*r.MaxDisturbance)
		}
		return j
	}
	switch {
	case j.Disturbed >= n:
		j.Verdict, j.Why = Inconclusive, fmt.Sprintf("host busy: %d of %d samples lost more than %.0f%% of the machine to other processes", j.Disturbed, 2*n, 100*r.MaxDisturbance)
	case j.Detectable > r.MaxSlowdown:
		j.Verdict, j.Why = Inconclusive, fmt.Sprintf("too noisy: this run could only have detected a slowdown of %s, and the gate is %.0f%%", pct(j.Detectable), 100*r.MaxSlowdown)
	case j.Worse >= r.MaxSlowdown:
		j.Verdict, j.Why = Inconclusive, fmt.Sprintf("%.0f%% slower but not significant (p = %.3g >= %g)", 100*j.Worse, j.P, r.Alpha)
	default:
		j.Verdict = Pass
		j.Why = fmt.Sprintf("%s (p = %.3g); this run could have detected a slowdown of %s", change(j.Worse), j.P, pct(j.Detectable))
	}
	return j
}

func pct(x float64) string {
	if math.IsInf(x, 1) {
		return "none at all"
	}
	return fmt.Sprintf("%.0f%%", 100*x)
}

// change says a Worse figure in words.
func change(w float64) string {
	if w > 0 {
		return fmt.Sprintf("%.1f%% slower", 100*w)
	}
	return fmt.Sprintf("%.1f%% faster", -100*w)
}
