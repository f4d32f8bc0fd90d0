package report

import (
	"strings"
	"testing"

	"asdsl-bench/harness/measure"
	"asdsl-bench/harness/results"
	"asdsl-bench/internal/testruns"
)

func runWith(commit string, dec float64) *results.Run {
	b := &results.Bench{Model: "m", Workload: "w", Generate: 8, Result: &measure.Result{Samples: []measure.Sample{{DecodeTPS: dec}}}}
	return &results.Run{Commit: commit, Suite: "default", Phases: []*results.Phase{{Name: "phase6", Benches: []*results.Bench{b}}}}
}

func TestHistory(t *testing.T) {
	if History([]*results.Run{runWith("aaaaaaaaaaaaaa", 40)}) != "" {
		t.Fatal("one run drew a history")
	}
	svg := History([]*results.Run{runWith("aaaaaaaaaaaaaa", 40), runWith("bbbbbbbbbbbbbb", 55.5)})
	for _, want := range []string{"<polyline", "phase6", ">40.0<", ">55.5<", "aaaaaaaaaaaa", "bbbbbbbbbbbb", "m/w"} {
		if !strings.Contains(svg, want) {
			t.Errorf("history lacks %q", want)
		}
	}
}

// The run chart marks the gates' targets on their bars, with the value
// written beside the mark (an SVG shown as an image has no tooltips).
func TestChartDrawsTargets(t *testing.T) {
	r := testruns.Run(0, testruns.Machine(1), 40, 41)
	svg := Chart(r)
	if !strings.Contains(svg, `stroke="#c62828"`) || !strings.Contains(svg, "&#8805;41.0") {
		t.Fatalf("no target mark at 41 t/s:\n%s", svg)
	}
	r.Phases[0].Gates = nil
	if strings.Contains(Chart(r), `stroke="#c62828"`) {
		t.Fatal("a target mark without a gate")
	}
}
