package report

import (
	"strings"
	"testing"

	"asdsl-bench/harness/measure"
	"asdsl-bench/harness/results"
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
