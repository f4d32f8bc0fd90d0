package suite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const good = `
name: t
models:
  - name: small
    mock: {shape: small, type: q4_k_m}
workloads:
  - {name: chat, prompt: 32, generate: 8}
threads: [1, 2]
targets:
  decode_bw_fraction_min: 0.2
`

func TestParseGood(t *testing.T) {
	s, err := Parse([]byte(good), "good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Repetitions != 3 || s.Regression.MaxSlowdown != 0.25 || len(s.Threads) != 2 {
		t.Fatalf("%+v", s)
	}
}

// max_slowdown: 0 means zero (any significant slowdown fails), not the
// default; the gate's repetitions default to the suite's.
func TestZeroIsZero(t *testing.T) {
	s, err := Parse([]byte(good+"repetitions: 6\nregression: {max_slowdown: 0}\n"), "z.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Regression.MaxSlowdown != 0 || s.Regression.Repetitions != 6 || s.Regression.MaxDisturbance != 0.15 {
		t.Fatalf("%+v", s.Regression)
	}
	if w := s.Where("repetitions"); w != "z.yaml:11" {
		t.Fatalf("Where(repetitions) = %q", w)
	}
	if w := s.Where("anchor"); w != "z.yaml" {
		t.Fatalf("Where(absent key) = %q", w)
	}
}

func TestErrorsNameFileAndLine(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{good + "colour: blue\n", "bad.yaml:11: field colour not found"},
		{strings.Replace(good, "prompt: 32", "prompt: -3", 1), "bad.yaml:7: workload \"chat\": prompt"},
		{strings.Replace(good, "threads: [1, 2]", "threads: [1, -2]", 1), "bad.yaml:8: thread count -2"},
		{strings.Replace(good, "0.2", "1.5", 1), "bad.yaml:10: decode_bw_fraction_min"},
		{strings.Replace(good, "prompt: 32", "prompt: lots", 1), "bad.yaml:7: cannot unmarshal"},
		{"name: x\nmodels: [{name: a, mock: {shape: s}, path: p}]\nworkloads: [{name: w, prompt: 1}]\n", "bad.yaml:2: model \"a\" needs exactly one of mock or path"},
		{"name: [\n", "bad.yaml:"},
		{"", "empty file"},
		{good + "phases: [phase9]\n", "bad.yaml:11: unknown phase"},
		// Zero is never silently replaced by a default.
		{good + "repetitions: 0\n", "bad.yaml:11: repetitions must be 1..1000, got 0"},
		{good + "regression: {repetitions: 0}\n", "bad.yaml:11: regression.repetitions must be 1..1000"},
		{good + "regression: {alpha: 0}\n", "bad.yaml:11: alpha must be in (0,1)"},
		{good + "regression: {max_disturbance: 0}\n", "bad.yaml:11: max_disturbance"},
		{good + "regression: {models: [big]}\n", "bad.yaml:11: regression.models: no model named \"big\""},
		// A float where a whole number belongs is not truncated.
		{strings.Replace(good, "prompt: 32", "prompt: 8.5", 1), "bad.yaml:7: workloads[0].prompt is \"8.5\", want a whole number"},
		// An empty list is not "every phase".
		{good + "phases: []\n", "bad.yaml:11: phases is empty"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.yaml), "bad.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q, got %v", c.want, err)
		}
	}
}

// The suites shipped in suites/ must all be valid.
func TestShippedSuites(t *testing.T) {
	files, _ := filepath.Glob("../../suites/*.yaml")
	if len(files) == 0 {
		t.Fatal("no suites found")
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Error(err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	if data, err := os.ReadFile("../../suites/default.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("name: x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml")
		if err == nil && (s.Name == "" || len(s.Models) == 0 || s.Repetitions < 1) {
			t.Fatalf("invalid suite accepted: %+v", s)
		}
	})
}
