package report

import (
	"os"
	"path/filepath"
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

// A report written with stored runs shows their history as a chart
// beside its own, counting only the runs up to its own.
func TestReportWithHistory(t *testing.T) {
	dir := t.TempDir()
	var runs []*results.Run
	for i := 0; i < 3; i++ {
		runs = append(runs, testruns.Run(i, testruns.Machine(1), 40+float64(i), 41))
	}
	path, err := Write(runs[1], dir, runs...)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(path)
	if !strings.Contains(string(md), "-history.svg)") {
		t.Fatalf("no history chart in\n%s", md)
	}
	svgs, _ := filepath.Glob(filepath.Join(dir, "*-history.svg"))
	if len(svgs) != 1 {
		t.Fatalf("history charts: %v", svgs)
	}
	svg, _ := os.ReadFile(svgs[0])
	if strings.Count(string(svg), "<circle") != 2 { // runs 0 and 1, not 2
		t.Fatalf("the history of run 1 has %d points, want 2", strings.Count(string(svg), "<circle"))
	}
	if _, err := Write(runs[0], t.TempDir(), runs[0]); err != nil {
		t.Fatal(err) // one run: no history, no error
	}
}
