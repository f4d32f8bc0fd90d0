package results

import (
	"encoding/json"
	"testing"
)

func FuzzParse(f *testing.F) {
	r := &Run{ID: "x", Phases: []*Phase{{Name: "phase2", Benches: []*Bench{{Model: "m", Workload: "w", Generate: 1}}}}}
	good, _ := json.Marshal(r)
	f.Add(good)
	f.Add([]byte(`{"id":"a","phases":[null]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := Parse(data, "fuzz.json")
		if err != nil {
			return
		}
		ds := Compare(run, run, 0.05)
		_ = Regressions(ds, 0.1)
		for _, p := range run.Phases {
			for _, b := range p.Benches {
				_ = b.Metrics()
				_ = b.Key(p.Name)
			}
		}
	})
}

func TestParseRejects(t *testing.T) {
	for _, bad := range []string{``, `[]`, `{"id":""}`, `{"id":"a","phases":[null]}`, `{"id":"a","phases":[{"benches":[null]}]}`} {
		if _, err := Parse([]byte(bad), "bad"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
