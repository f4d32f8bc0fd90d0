package results

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// A record whose benches have no samples, or figures no measurement
// gives, is refused with what is wrong, not compared.
func TestParseRejectsImpossibleFigures(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"id":"a","phases":[{"name":"p","benches":[{"model":"m","generate":1,"result":{"samples":[]}}]}]}`, "no samples"},
		{`{"id":"a","phases":[{"name":"p","benches":[{"model":"m","generate":1}]}]}`, "no samples"},
		{`{"id":"a","phases":[{"name":"p","benches":[{"model":"m","generate":1,"result":{"samples":[{"decode_tps":-3}]}}]}]}`, "decode-tok/s is -3"},
	} {
		_, err := Parse([]byte(c.json), "bad.json")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.json, err, c.want)
		}
	}
}

// Run ids differ even for runs started in the same millisecond, and a
// record is never replaced.
func TestIDsUniqueAndRecordsKept(t *testing.T) {
	now := time.Now()
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewID(now, "0123456789abcdef")
		if seen[id] {
			t.Fatalf("id %s repeated", id)
		}
		seen[id] = true
	}
	dir := t.TempDir()
	r := &Run{ID: NewID(now, "abc"), Phases: []*Phase{}}
	if _, err := Save(r, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := Save(r, dir); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second save with the same id: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}
