package report

import (
	"strings"
	"testing"

	"asdsl-bench/harness/measure"
	"asdsl-bench/harness/results"
)

// Phase 7's section says which draft length was chosen and from what
// costs, with every length's expected speed-up; a lookup run says it had
// no draft model, and a fixed k prints no choice.
func TestSpecSectionSaysTheChoice(t *testing.T) {
	res := []measure.SpecResult{{Alpha: 0.7, K: 2, TPS: []float64{100}, PlainTPS: []float64{80}}}
	chosen := &measure.DraftChoice{Alpha: 0.7, DraftFirst: 0.12, DraftNext: 0.084, Expected: []float64{1.22, 1.26, 1.24, 1.02}, K: 2}
	var w strings.Builder
	writeSpec(&w, &results.SpecBench{Model: "m", Draft: "d", Threads: 2, Result: &measure.SpecMeasurement{Curve: []float64{1, 1.27, 1.53, 1.76, 2.35}, Results: res, Chosen: chosen}})
	md := w.String()
	for _, want := range []string{"k = 2 was chosen", "0.120", "0.084", "1.22x, 1.26x, 1.24x, 1.02x for k = 1..4", "1.00, 1.27"} {
		if !strings.Contains(md, want) && !strings.Contains(strings.ReplaceAll(md, " ", ""), strings.ReplaceAll(want, " ", "")) {
			t.Errorf("section lacks %q:\n%s", want, md)
		}
	}
	w.Reset()
	writeSpec(&w, &results.SpecBench{Model: "m", Draft: "none", Lookup: true, Threads: 2, Result: &measure.SpecMeasurement{Curve: []float64{1, 1.2}, Results: res, Chosen: chosen}})
	if md := w.String(); !strings.Contains(md, "no draft model") || strings.Contains(md, "0.120") {
		t.Errorf("lookup section:\n%s", md)
	}
	w.Reset()
	writeSpec(&w, &results.SpecBench{Model: "m", Draft: "d", Threads: 2, Result: &measure.SpecMeasurement{Curve: []float64{1, 1.2, 1.5}, Results: res}})
	if md := w.String(); strings.Contains(md, "chosen") {
		t.Errorf("a fixed k printed a choice:\n%s", md)
	}
}
