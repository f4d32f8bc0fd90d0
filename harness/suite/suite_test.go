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
