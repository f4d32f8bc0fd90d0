package harness

import (
	"io"
	"strings"
	"testing"

	"asdsl-bench/harness/measure"
	"asdsl-bench/harness/results"
	"asdsl-bench/harness/suite"
	"asdsl-bench/phases"
)

// The bandwidth-fraction gate trusts its yardstick only when it is
// consistent: with a suspect yardstick a miss is inconclusive, and a
// fraction above 1 (decode streamed faster than the read measured) passes
// with the reason said.
func TestBandwidthGateDoubtsItsYardstick(t *testing.T) {
	ph := &phases.Phase{Name: "phase2", Gated: []string{"decode"}}
	o := Options{Suite: &suite.Suite{Targets: suite.Targets{DecodeBWFraction: 0.5}}}
	bench := func(tps float64) *results.Bench {
		return &results.Bench{Model: "m", Workload: "w", Threads: 2, Generate: 16,
			Result: &measure.Result{WeightBytes: 1e9, Samples: []measure.Sample{{DecodeTPS: tps}, {DecodeTPS: tps}, {DecodeTPS: tps}}}}
	}
	bw := map[int]float64{2: 40}
	for _, c := range []struct {
		tps         float64
		notes       map[int]string
		passed, inc bool
		why         string
	}{
		{30, nil, true, false, ""},  // 0.75, consistent
		{10, nil, false, false, ""}, // 0.25: a plain miss
		{10, map[int]string{2: "read below the 1-thread figure"}, false, true, "suspect"}, // a miss on a suspect yardstick
		{50, nil, true, false, "faster than the read yardstick"},                          // 1.25: passes, with the reason
	} {
		gs := gates(ph, []*results.Bench{bench(c.tps)}, o, bw, nil, c.notes, nil)
		var g *results.Gate
		for i := range gs {
			if strings.HasSuffix(gs[i].Name, "decode fraction of read bandwidth") {
				g = &gs[i]
			}
		}
		if g == nil {
			t.Fatalf("%v t/s: no bandwidth gate among %+v", c.tps, gs)
		}
		if g.Passed != c.passed || g.Inconclusive != c.inc || !strings.Contains(g.Why, c.why) || (c.why == "" && g.Why != "") {
			t.Errorf("%v t/s, notes %v: %+v; want passed %v inconclusive %v why ~%q", c.tps, c.notes, *g, c.passed, c.inc, c.why)
		}
	}
}

// A phase is judged against the read bandwidth measured again after its
// benches when that is higher than the run's start figure (a disturbed
// start no longer inflates the fractions), never against a lower one,
// and the run keeps the best figure seen.
func TestYardstickIsTheBestSeen(t *testing.T) {
	r := &phaseRun{log: io.Discard, bwBytes: 8 << 20, run: &results.Run{Machine: results.Machine{ReadGBs: map[int]float64{1: 0.001}}}}
	decode := &results.Bench{Model: "m", Workload: "w", Threads: 1, Generate: 16}
	prefill := &results.Bench{Model: "m", Workload: "p", Threads: 2, Generate: 0}
	rp := &results.Phase{Benches: []*results.Bench{decode, prefill}}
	r.measureYardstick(rp)
	got := rp.ReadGBs[1]
	if got <= 0.001 || r.run.Machine.ReadGBs[1] != got {
		t.Fatalf("after a disturbed start (0.001 GB/s) the phase's yardstick is %v, the run's %v", got, r.run.Machine.ReadGBs[1])
	}
	if _, ok := rp.ReadGBs[2]; ok {
		t.Error("a thread count with no decode bench was measured")
	}
	if y := rp.Yardstick(r.run.Machine, 1); y != got {
		t.Errorf("Yardstick %v, recorded %v", y, got)
	}
	r.run.Machine.ReadGBs[1] = 1e9 // a start no measurement can beat
	rp2 := &results.Phase{Benches: []*results.Bench{decode}}
	r.measureYardstick(rp2)
	if rp2.ReadGBs[1] != 1e9 {
		t.Errorf("the yardstick fell to %v below the best seen", rp2.ReadGBs[1])
	}
	old := &results.Phase{} // a record from before phases kept their own
	if y := old.Yardstick(r.run.Machine, 1); y != 1e9 {
		t.Errorf("an old record's yardstick is %v, not the run's", y)
	}
}

// Phase 7's speed-up gate: the median of the repetitions decides, but
// when they fall on both sides of the line a miss is inconclusive and
// a pass says so; all below is a plain miss.
func TestSpeedupGateStraddle(t *testing.T) {
	res := func(ratios ...float64) *measure.SpecResult {
		r := &measure.SpecResult{}
		for _, v := range ratios {
			r.TPS, r.PlainTPS = append(r.TPS, 100*v), append(r.PlainTPS, 100)
		}
		return r
	}
	for _, c := range []struct {
		ratios           []float64
		passed, inc, why bool
	}{
		{[]float64{1.45, 1.50}, true, false, false},  // clear pass
		{[]float64{1.30, 1.35}, false, false, false}, // clear miss
		{[]float64{1.30, 1.42}, false, true, true},   // median 1.36 below, one repetition above
		{[]float64{1.38, 1.46}, true, false, true},   // median 1.42 above, one repetition below
	} {
		g := speedupGate("s", 1.4, res(c.ratios...), 0.15)
		if g.Passed != c.passed || g.Inconclusive != c.inc || (g.Why != "") != c.why {
			t.Errorf("%v: passed %v inconclusive %v why %q", c.ratios, g.Passed, g.Inconclusive, g.Why)
		}
	}
	// A clear miss whose repetitions lost a third of the machine to
	// other processes measured the scheduler: inconclusive, and said.
	r := res(1.30, 1.35)
	r.Disturbance = []float64{0.02, 0.33}
	if g := speedupGate("s", 1.4, r, 0.15); g.Passed || !g.Inconclusive || !strings.Contains(g.Why, "1 of 2 repetitions lost up to 33%") {
		t.Errorf("disturbed miss: passed %v inconclusive %v why %q", g.Passed, g.Inconclusive, g.Why)
	}
	// Below the limit it stays a miss.
	r.Disturbance = []float64{0.02, 0.05}
	if g := speedupGate("s", 1.4, r, 0.15); g.Passed || g.Inconclusive {
		t.Errorf("quiet miss: passed %v inconclusive %v why %q", g.Passed, g.Inconclusive, g.Why)
	}
}
