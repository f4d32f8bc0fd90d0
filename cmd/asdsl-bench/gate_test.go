package main

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"asdsl-bench/harness/gate"
	"asdsl-bench/harness/results"
)

// Repetitions that cannot reach the suite's alpha are refused before
// anything runs, naming the line to change; so is an unwritable --out.
func TestGateRefusesWhatCannotDecide(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "s.yaml")
	os.WriteFile(suite, []byte(`name: s
models:
  - name: small
    mock: {shape: small}
workloads:
  - {name: chat, prompt: 8, generate: 8}
repetitions: 3
regression:
  alpha: 0.01
`), 0o644)
	err := runGate([]string{"--suite", suite, "--out", dir, "--baseline", "none"})
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), suite+":7:") || !strings.Contains(err.Error(), "use at least 8") {
		t.Fatalf("want a usage error at %s:7 asking for 8 repetitions (ABBA pairs), got %v", suite, err)
	}
	// The same refusal for run --baseline against a stored run.
	os.WriteFile(filepath.Join(dir, "base.json"), []byte(`{"id":"b","phases":[{"name":"phase6","benches":[{"model":"small","workload":"chat","threads":0,"result":{"samples":[{},{},{}]}}]}]}`), 0o644)
	err = runCommand([]string{"phase6", "--suite", suite, "--out", dir, "--baseline", filepath.Join(dir, "base.json")})
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), suite+":7:") {
		t.Fatalf("run --baseline with 3 repetitions: %v", err)
	}
	// An output directory that cannot be written is refused first: one
	// under a regular file on every OS, a read-only one where
	// permissions bind (not for root, not on Windows).
	os.WriteFile(suite, []byte(strings.Replace(mustRead(t, suite), "repetitions: 3", "repetitions: 8", 1)), 0o644)
	notDir := filepath.Join(dir, "a-file")
	os.WriteFile(notDir, nil, 0o644)
	if err := runGate([]string{"--suite", suite, "--out", filepath.Join(notDir, "out"), "--baseline", "none"}); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Fatalf("--out under a regular file: %v", err)
	}
	ro := filepath.Join(dir, "ro")
	os.MkdirAll(filepath.Join(ro, "runs"), 0o555)
	if os.Getuid() != 0 && runtime.GOOS != "windows" { // root writes anywhere; Windows ignores the mode
		if err := runGate([]string{"--suite", suite, "--out", ro, "--baseline", "none"}); err == nil || !strings.Contains(err.Error(), "not writable") {
			t.Fatalf("unwritable --out: %v", err)
		}
	}
	if err := runGate([]string{"--suite", suite, "stray"}); err == nil {
		t.Fatal("a stray argument was accepted")
	}
}

func mustRead(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// The gate's verdict: a failed check or target fails whatever the A/B
// says; otherwise the worst of the targets' and the A/B's verdicts.
func TestGateVerdict(t *testing.T) {
	ok := []*results.Phase{{Name: "phase6", Passed: true}}
	bad := []*results.Phase{{Name: "phase6", Passed: false}}
	ab := func(v gate.Verdict) *gate.Result { return &gate.Result{Verdict: v} }
	for _, c := range []struct {
		run  results.Run
		want string
	}{
		{results.Run{Phases: ok}, "pass"},
		{results.Run{Phases: ok, AB: ab(gate.Pass)}, "pass"},
		{results.Run{Phases: ok, AB: ab(gate.Regression)}, "regression"},
		{results.Run{Phases: ok, AB: ab(gate.Inconclusive)}, "inconclusive"},
		{results.Run{Phases: ok, Inconclusive: true, AB: ab(gate.Pass)}, "inconclusive"},
		{results.Run{Phases: ok, Inconclusive: true, AB: ab(gate.Regression)}, "regression"},
		{results.Run{Phases: bad, AB: ab(gate.Pass)}, "fail"},
		{results.Run{Phases: bad, AB: ab(gate.Inconclusive)}, "fail"},
	} {
		if got := gateVerdict(&c.run); got != c.want {
			t.Errorf("%+v: %s, want %s", c.run, got, c.want)
		}
	}
}

// A suite may name its profile (the seed suite: the Alder Lake one);
// --profile overrides it; an unknown name is an error at its line.
func TestChooseProfileFromSuite(t *testing.T) {
	profs, err := loadProfiles("")
	if err != nil {
		t.Fatal(err)
	}
	s, err := loadSuite("seed")
	if err != nil {
		t.Fatal(err)
	}
	p, why, err := chooseProfile(profs, "", s)
	if err != nil || p.Name != "alderlake-i7-phi4" || !strings.Contains(why, "suite seed") {
		t.Fatalf("%v %q %v", p, why, err)
	}
	if p, _, err := chooseProfile(profs, "generic", s); err != nil || p.Name != "generic" {
		t.Fatalf("--profile generic: %v %v", p, err)
	}
	s.Profile = "no-such-profile"
	if _, _, err := chooseProfile(profs, "", s); err == nil || !strings.Contains(err.Error(), "seed") {
		t.Fatalf("unknown suite profile: %v", err)
	}
}
