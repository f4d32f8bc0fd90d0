package harness

import (
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
