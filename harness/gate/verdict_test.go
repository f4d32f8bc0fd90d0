package gate

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

var rules = Rules{Alpha: 0.01, MaxSlowdown: 0.30, MaxDisturbance: 0.15}

// draw gives n rates around center with a relative spread, all taken on
// a machine whose others' load is d.
func draw(rng *rand.Rand, n int, center, spread, d float64) []Obs {
	out := make([]Obs, n)
	for i := range out {
		out[i] = Obs{Value: center * (1 + spread*(2*rng.Float64()-1)), Disturbance: d}
	}
	return out
}

func TestMinP(t *testing.T) {
	for _, c := range []struct {
		n, m int
		want float64
	}{{3, 3, 0.1}, {4, 4, 2.0 / 70}, {5, 5, 2.0 / 252}, {8, 8, 2.0 / 12870}, {0, 5, 1}} {
		if got := MinP(c.n, c.m); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("MinP(%d,%d) = %v, want %v", c.n, c.m, got, c.want)
		}
	}
	// The smallest p is what the test itself gives for complete separation.
	a, b := []float64{1, 2, 3, 4, 5}, []float64{6, 7, 8, 9, 10}
	if p := mwP(a, b, 0.01); math.Abs(p-MinP(5, 5)) > 1e-9 {
		t.Errorf("Mann-Whitney on separated 5 vs 5: p = %v, MinP says %v", p, MinP(5, 5))
	}
	if RepsFor(0.05) != 4 || RepsFor(0.01) != 5 {
		t.Errorf("RepsFor(0.05) = %d, RepsFor(0.01) = %d; want 4 and 5", RepsFor(0.05), RepsFor(0.01))
	}
}

func TestJudgeCatchesA2xSlowdown(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 20; trial++ {
		base := draw(rng, 8, 100, 0.1, 0)
		cand := draw(rng, 8, 50, 0.1, 0)
		j := Judge("decode-tok/s", true, base, cand, rules)
		if j.Verdict != Regression {
			t.Fatalf("trial %d: %v (%s)", trial, j.Verdict, j.Why)
		}
		if j.Worse < 0.4 || j.Worse > 0.6 {
			t.Fatalf("worse = %v for a halved rate", j.Worse)
		}
	}
	// The same for a time (TTFT doubled).
	base := draw(rng, 8, 100, 0.1, 0)
	cand := draw(rng, 8, 200, 0.1, 0)
	if j := Judge("ttft-ms", false, base, cand, rules); j.Verdict != Regression || j.Worse < 0.8 {
		t.Fatalf("doubled TTFT: %v, worse %v (%s)", j.Verdict, j.Worse, j.Why)
	}
}

func TestJudgePassesUnchangedCode(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 50; trial++ {
		j := Judge("decode-tok/s", true, draw(rng, 8, 100, 0.05, 0.01), draw(rng, 8, 100, 0.05, 0.01), rules)
		if j.Verdict != Pass {
			t.Fatalf("trial %d: %v (%s)", trial, j.Verdict, j.Why)
		}
		if j.Detectable <= 0 || j.Detectable > 0.15 {
			t.Fatalf("±5%% noise: detectable %v", j.Detectable)
		}
		if !strings.Contains(j.Why, "could have detected a slowdown of") {
			t.Fatalf("why: %s", j.Why)
		}
	}
}

// Load that lands on the candidate's samples only (a burst that happened
// to hit them) makes the candidate slower; the gate must not blame the
// code for it.
func TestJudgeDoesNotBlameLoad(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	base := draw(rng, 8, 100, 0.05, 0)
	cand := draw(rng, 8, 50, 0.05, 0.5) // others held half the machine
	j := Judge("decode-tok/s", true, base, cand, rules)
	if j.Verdict != Inconclusive {
		t.Fatalf("%v (%s)", j.Verdict, j.Why)
	}
	// A real 2x on top of the same load is still a regression.
	cand = draw(rng, 8, 25, 0.05, 0.5)
	if j := Judge("decode-tok/s", true, base, cand, rules); j.Verdict != Regression {
		t.Fatalf("2x under load: %v (%s)", j.Verdict, j.Why)
	}
}

func TestJudgeInconclusiveWhenNoisyOrBusy(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	// ±60% spread: a 30% change is below the resolution.
	j := Judge("decode-tok/s", true, draw(rng, 8, 100, 0.6, 0), draw(rng, 8, 100, 0.6, 0), rules)
	if j.Verdict != Inconclusive || !strings.Contains(j.Why, "too noisy") {
		t.Fatalf("wide spread: %v (%s)", j.Verdict, j.Why)
	}
	// Every sample on a busy host.
	j = Judge("decode-tok/s", true, draw(rng, 8, 100, 0.05, 0.5), draw(rng, 8, 100, 0.05, 0.5), rules)
	if j.Verdict != Inconclusive || !strings.Contains(j.Why, "host busy") {
		t.Fatalf("busy host: %v (%s)", j.Verdict, j.Why)
	}
	// Too few repetitions to reach alpha: never a regression, and said.
	j = Judge("decode-tok/s", true, draw(rng, 3, 100, 0.01, 0), draw(rng, 3, 50, 0.01, 0), rules)
	if j.Verdict != Inconclusive || !math.IsInf(j.Detectable, 1) {
		t.Fatalf("3 vs 3: %v, detectable %v (%s)", j.Verdict, j.Detectable, j.Why)
	}
}

func TestDetectableMatchesTheSpread(t *testing.T) {
	// Eight samples 1% apart: separation needs a shift past the spread.
	base := []float64{100, 101, 102, 103, 104, 105, 106, 107}
	d := Detectable(base, true, 0.01)
	if d < 0.01 || d > 0.08 {
		t.Fatalf("detectable %v for samples spanning 7%%", d)
	}
	if Detectable(base[:3], true, 0.01) != math.Inf(1) {
		t.Fatal("3 samples cannot reach 0.01")
	}
}

func TestWorst(t *testing.T) {
	if Worst() != Pass || Worst(Pass, Inconclusive) != Inconclusive || Worst(Inconclusive, Regression, Pass) != Regression {
		t.Fatal("Worst")
	}
}
