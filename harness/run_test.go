package harness

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"

	"asdsl-bench/harness/profile"
	"asdsl-bench/harness/report"
	"asdsl-bench/harness/results"
	"asdsl-bench/harness/suite"
	"asdsl-bench/internal/testutil"
	"asdsl-bench/kernels"
	"asdsl-bench/phases"
)

func TestExecuteStoresReportsAndGates(t *testing.T) {
	s := fixtureSuite(t, "", `
workloads:
  - {name: w, prompt: 16, generate: 8}
repetitions: 2
targets:
  decode_tps_min: 0.001
  ttft_ms_max: 1000000
`)
	// Every phase has landed; one is marked missing here to prove that a
	// phase without its engine work fails the run and says so.
	lookup := func(name string) *phases.Phase {
		p := phases.ByName(name)
		if name == "phase7" && p != nil {
			c := *p
			c.Missing = "marked missing by the test"
			return &c
		}
		return p
	}
	run, err := Execute(Options{Suite: s, Phases: []string{"phase0", "phase2", "phase3", "phase7"}, BandwidthMiB: 16, Lookup: lookup})
	if err != nil {
		t.Fatal(err)
	}
	if run.Passed {
		t.Fatal("a run with an unimplemented phase passed")
	}
	byName := map[string]*results.Phase{}
	for _, p := range run.Phases {
		byName[p.Name] = p
	}
	if p := byName["phase7"]; p.Implemented || p.Passed || p.Missing == "" {
		t.Fatalf("phase7: %+v", p)
	}
	for _, n := range []string{"phase0", "phase2", "phase3"} {
		p := byName[n]
		want := 1
		if _, err := kernels.Select("avx2-float", -1); n == "phase2" && err == nil { // plus the float-kernel comparison
			want = 2
		}
		if !p.Passed || len(p.Benches) != want || len(p.Checks) == 0 {
			t.Fatalf("%s: %+v", n, p)
		}
	}
	if len(byName["phase3"].Gates) == 0 || len(byName["phase0"].Gates) != 0 {
		t.Fatalf("gates: phase3 %d, phase0 %d", len(byName["phase3"].Gates), len(byName["phase0"].Gates))
	}
	dir := t.TempDir()
	path, err := results.Save(run, filepath.Join(dir, "runs"))
	if err != nil {
		t.Fatal(err)
	}
	back, err := results.Load(path)
	if err != nil || back.ID != run.ID || len(back.Phases) != 4 {
		t.Fatalf("round trip: %v", err)
	}
	// Stock benchstat's reader accepts our export.
	raw, _ := os.ReadFile(strings.TrimSuffix(path, ".json") + ".bench")
	rd := benchfmt.NewReader(bytes.NewReader(raw), "run.bench")
	n := 0
	for rd.Scan() {
		if r, ok := rd.Result().(*benchfmt.Result); ok {
			n++
			if len(r.Values) == 0 {
				t.Fatal("result without values")
			}
		}
	}
	wantResults := 0
	for _, p := range back.Phases {
		wantResults += 2 * len(p.Benches) // 2 repetitions each
	}
	if rd.Err() != nil || n != wantResults {
		t.Fatalf("benchfmt: %d results, %v", n, rd.Err())
	}
	rep, err := report.Write(back, dir)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(rep)
	for _, want := range []string{"phase7", "not implemented", "decode t/s", "per-core usage"} {
		if !strings.Contains(strings.ToLower(string(md)), strings.ToLower(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
	if err := report.Index([]*results.Run{back}, dir); err != nil {
		t.Fatal(err)
	}
	// Comparing a run with itself finds no regression.
	if r := results.Regressions(results.Compare(back, back, 0.05), 0.1); len(r) != 0 {
		t.Fatalf("self-comparison regressed: %+v", r)
	}
}

// A run rewrites the tracked report index under its output directory;
// that must not make the next run's commit "dirty". Changes elsewhere do.
func TestGitCommitIgnoresTheOutputDirectory(t *testing.T) {
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	os.MkdirAll(filepath.Join(dir, "reports"), 0o755)
	os.WriteFile(filepath.Join(dir, "reports", "README.md"), []byte("index\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "code.go"), []byte("package x\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module asdsl-bench\n"), 0o644) // a checkout
	git("init", "-q")
	git("add", ".")
	git("commit", "-qm", "init")
	t.Chdir(dir)
	if _, dirty := gitCommit("reports"); dirty {
		t.Fatal("a clean tree is dirty")
	}
	os.WriteFile(filepath.Join(dir, "reports", "README.md"), []byte("index, rewritten by a run\n"), 0o644)
	if _, dirty := gitCommit("reports"); dirty {
		t.Fatal("the rewritten report index made the tree dirty")
	}
	if _, dirty := gitCommit(filepath.Join(dir, "reports")); dirty {
		t.Fatal("an absolute --out inside the repository is not excluded")
	}
	if _, dirty := gitCommit(""); !dirty {
		t.Fatal("without an output directory the index change is a change")
	}
	os.WriteFile(filepath.Join(dir, "code.go"), []byte("package y\n"), 0o644)
	if _, dirty := gitCommit("reports"); !dirty {
		t.Fatal("a code change is not dirty")
	}
	// Another project's repository is not the code being measured.
	other := t.TempDir()
	git2 := exec.Command("git", "init", "-q")
	git2.Dir = other
	git2.Run()
	t.Chdir(other)
	if c, _ := gitCommit(""); c != "unknown" {
		t.Fatalf("outside a checkout the commit is %q, want unknown", c)
	}
}

// Phase 7 measures speculation with the suite model's draft, and phase 6
// records its cold starts, or why they were not measured.
func TestPhase6And7MeasureWhatTheyDeliver(t *testing.T) {
	s := fixtureSuite(t, "    draft: {path: "+testutil.Golden(t, "llama-Q8_0.gguf")+"}\n", `
workloads:
  - {name: w, prompt: 8, generate: 8}
repetitions: 1
cold_starts: 1
speculative: {k: 3, alphas: [0.5, 0.7], generate: 24}
`)
	run, err := Execute(Options{Suite: s, Phases: []string{"phase6", "phase7"}, BandwidthMiB: 16})
	if err != nil {
		t.Fatal(err)
	}
	p6, p7 := run.Phases[0], run.Phases[1]
	if len(p6.ColdStart) != 1 || !strings.Contains(p6.ColdStart[0].Error, "no asdsl-bench binary") {
		t.Fatalf("phase 6 cold start without a binary: %+v", p6.ColdStart)
	}
	// The draft model, then draft-free prompt lookup.
	if len(p7.Spec) != 2 || p7.Spec[0].Lookup || !p7.Spec[1].Lookup || len(p7.Spec[0].Result.Results) != 2 || p7.Spec[0].At(0.7) == nil {
		t.Fatalf("phase 7 speculation: %+v %+v", p7.Spec[0], p7.Spec[1])
	}
	if lk := p7.Spec[1].At(0.7); lk == nil || lk.DraftCost >= p7.Spec[0].At(0.7).DraftCost {
		t.Fatalf("prompt lookup should cost less than a draft model's step: %+v", lk)
	}
	for _, g := range p7.Gates {
		if strings.Contains(g.Name, "lookup") {
			t.Fatalf("lookup gated: %+v", g)
		}
	}
	r := p7.Spec[0].At(0.7)
	if r.K != 3 || len(r.TPS) != 1 || r.TokensPerPass < 1 || len(p7.Spec[0].Result.Curve) != 4 {
		t.Fatalf("alpha 0.7: %+v", r)
	}
	var md bytes.Buffer
	report.Markdown(&md, run, "")
	for _, want := range []string{"Speculative decoding, fixture", "controlled acceptance", "Leviathan", "prompt lookup", "Cold start, fixture**: not measured"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// Phase 3 is judged on the seed's TTFT ratio (the tiled GEMM against
// the loop of GEMVs), measured side by side within phase 3, round by
// round; phase 2 is not needed for it.
func TestPhase3TTFTAgainstTheGEMVLoop(t *testing.T) {
	s := fixtureSuite(t, "", `
workloads:
  - {name: w, prompt: 32, generate: 2}
repetitions: 1
`)
	for _, c := range []struct {
		min  float64
		pass bool
	}{{0.01, true}, {1000, false}} {
		prof, err := profile.Parse([]byte(fmt.Sprintf("name: p\ntargets:\n  - model: {arch: llama}\n    ttft_over_gemv_loop_min: %v\n", c.min)), "p.yaml")
		if err != nil {
			t.Fatal(err)
		}
		for _, phs := range [][]string{{"phase2", "phase3"}, {"phase3"}} {
			run, err := Execute(Options{Suite: s, Phases: phs, Profile: prof, BandwidthMiB: 16})
			if err != nil {
				t.Fatal(err)
			}
			p3 := run.Phases[len(phs)-1]
			var found []results.Gate
			for _, g := range p3.Gates {
				if strings.Contains(g.Name, "over the GEMV loop") {
					found = append(found, g)
				}
			}
			b := p3.Benches[0]
			if len(b.OverLoop) != 1 || b.OverLoop[0] <= 0 {
				t.Fatalf("%v: side-by-side rounds %v for 1 repetition", phs, b.OverLoop)
			}
			if len(found) != 1 || found[0].Passed != c.pass || found[0].Value != b.OverLoop[0] {
				t.Fatalf("%v, target %v: gates %+v (rounds %v)", phs, c.min, found, b.OverLoop)
			}
			var md bytes.Buffer
			report.Markdown(&md, run, "")
			if !strings.Contains(md.String(), "loop of GEMVs, the two measured side by side") {
				t.Errorf("%v: the report does not show the side-by-side rounds", phs)
			}
			for _, g := range run.Phases[0].Gates {
				if len(phs) == 2 && strings.Contains(g.Name, "over the GEMV loop") {
					t.Fatalf("phase 2 judged against itself: %+v", g)
				}
			}
		}
	}
}

// Rounds on both sides of the TTFT ratio's target make a miss
// inconclusive, as phase 7's straddling repetitions do.
func TestOverLoopStraddle(t *testing.T) {
	var row *target
	ts := profileTargets(profile.Target{TTFTOverGEMVLoopMin: 8.4}, overLoopPhase)
	for i := range ts {
		if strings.Contains(ts[i].name, "GEMV loop") {
			row = &ts[i]
		}
	}
	if row == nil || row.doubt == nil {
		t.Fatal("no TTFT-ratio target with a doubt")
	}
	if why := row.doubt(figures{overLoop: 8.3, overLo: 8.0, overHi: 8.6}); !strings.Contains(why, "straddle") {
		t.Errorf("rounds 8.0-8.6 against 8.4: doubt %q", why)
	}
	if why := row.doubt(figures{overLoop: 6.0, overLo: 5.9, overHi: 6.1}); why != "" {
		t.Errorf("rounds 5.9-6.1 against 8.4: doubt %q", why)
	}
	if why := row.doubt(figures{overLoop: 6.0, overLo: math.NaN(), overHi: math.NaN()}); why != "" {
		t.Errorf("a cross-phase ratio (no rounds): doubt %q", why)
	}
}

// fixtureSuite is a one-thread suite on the golden Q4_K_M fixture: model
// holds extra lines of the model entry, rest the suite's other keys.
func fixtureSuite(t *testing.T, model, rest string) *suite.Suite {
	t.Helper()
	y := "name: unit\nthreads: [1]\nmodels:\n  - name: fixture\n    path: " + testutil.Golden(t, "llama-Q4_K_M.gguf") + "\n" + model + rest
	s, err := suite.Parse([]byte(y), "unit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Phase 1 shows what the format buys on the same weights: fewer bytes
// per token, and a KL to F16 that grows as the format shrinks.
func TestPhase1ComparesFormats(t *testing.T) {
	t.Setenv("ASDSL_CACHE", t.TempDir())
	s, err := suite.Parse([]byte(`
name: unit
models:
  - name: tiny
    mock: {shape: tiny, type: q4_k_m, seed: 3}
workloads:
  - {name: w, prompt: 8, generate: 4}
threads: [1]
repetitions: 1
`), "unit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run, err := Execute(Options{Suite: s, Phases: []string{"phase1"}, BandwidthMiB: 16})
	if err != nil {
		t.Fatal(err)
	}
	fs := run.Phases[0].Formats
	if len(fs) != 1 || len(fs[0].Rows) != 3 {
		t.Fatalf("%+v", fs)
	}
	f16, q8, q4 := fs[0].Rows[0], fs[0].Rows[1], fs[0].Rows[2]
	if f16.Format != "F16" || q8.Format != "Q8_0" || q4.Format != "Q4_K_M" {
		t.Fatalf("%+v", fs[0].Rows)
	}
	if !(f16.BytesPerToken > q8.BytesPerToken && q8.BytesPerToken > q4.BytesPerToken) {
		t.Fatalf("bytes per token %d, %d, %d", f16.BytesPerToken, q8.BytesPerToken, q4.BytesPerToken)
	}
	// Same weights before rounding: Q8_0 is close to F16, Q4_K_M further.
	if f16.KLToF16 != 0 || !(q8.KLToF16 > 0 && q8.KLToF16 < q4.KLToF16 && q8.KLToF16 < 0.05) || q8.Top1ToF16 < 0.8 {
		t.Fatalf("KL to F16: %+v", fs[0].Rows)
	}
	for _, r := range fs[0].Rows {
		if r.DecodeTPS <= 0 {
			t.Fatalf("%s: decode %v", r.Format, r.DecodeTPS)
		}
	}
}

// The int8 peak is measured with the bandwidth, and prefill is gated as
// a fraction of it where a profile asks.
func TestPrefillAgainstTheInt8Peak(t *testing.T) {
	s := fixtureSuite(t, "", "workloads:\n  - {name: w, prompt: 16, generate: 2}\nrepetitions: 1\n")
	prof, err := profile.Parse([]byte("name: p\ntargets:\n  - model: {arch: llama}\n    prefill_peak_fraction_min: 1e-9\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run, err := Execute(Options{Suite: s, Phases: []string{"phase3"}, Profile: prof, BandwidthMiB: 16})
	if err != nil {
		t.Fatal(err)
	}
	if run.Machine.Int8GMACs[1] <= 0 {
		t.Skipf("no int8 peak on this CPU (%q)", run.Machine.Int8Instr) // the generic kernels have no peak to measure
	}
	var g *results.Gate
	for i, x := range run.Phases[0].Gates {
		if strings.Contains(x.Name, "fraction of the int8 peak") {
			g = &run.Phases[0].Gates[i]
		}
	}
	if g == nil || g.Value <= 0 || g.Value > 1.5 || !g.Passed {
		t.Fatalf("prefill peak gate: %+v", g)
	}
}

// Phase 5 measures a real model's perplexity as llama.cpp does (the
// stories260K figure), and says why there is no Q8_0 figure when the
// model's heads do not fit the cache.
func TestPhase5PerplexityOnARealModel(t *testing.T) {
	text := testutil.Fixture(t, "data/wikitext-2/test.txt", "wikitext-2/test-head.txt")
	s, err := suite.Parse([]byte(`
name: unit
models:
  - name: stories
    path: `+filepath.Join(testutil.Root(t), "engine", "testdata", "stories260K-f32.gguf")+`
workloads:
  - {name: w, prompt: 8, generate: 4}
threads: [1]
repetitions: 1
perplexity: {file: `+text+`, ctx: 128, chunks: 50}
`), "unit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run, err := Execute(Options{Suite: s, Phases: []string{"phase5"}, BandwidthMiB: 16})
	if err != nil {
		t.Fatal(err)
	}
	pp := run.Phases[0].Perplexity
	if len(pp) != 1 || pp[0].F32 == nil || pp[0].Q8 != nil || !strings.Contains(pp[0].Q8Note, "head size 8") {
		t.Fatalf("%+v", pp)
	}
	if got := pp[0].F32.PPL; math.Abs(got-279.1330) > 0.3 { // llama.cpp's figure (fixtures/real/README.md)
		t.Fatalf("perplexity %.4f, llama.cpp 279.1330", got)
	}
}

// A suite's mistakes are errors with the suite's file and line before
// anything is measured (the bandwidth measurement alone takes seconds).
func TestSuiteMistakesFoundBeforeMeasuring(t *testing.T) {
	base := "name: s\nmodels:\n  - name: m\n    %s\nworkloads:\n  - {name: w, prompt: %d, generate: 4}\nthreads: [1]\nrepetitions: 2\nwarmup: 0\n"
	for _, c := range []struct {
		model  string
		prompt int
		want   string
	}{
		{"mock: {shape: gpt5, type: f32}", 8, "unit.yaml:3: model \"m\": unknown shape \"gpt5\""},
		{"mock: {shape: tiny, type: q3_zz}", 8, "mock type \"q3_zz\""},
		{"path: /nonexistent/m.gguf", 8, "unit.yaml:3: model \"m\": open /nonexistent/m.gguf"},
		{"mock: {shape: tiny, type: f32}", 5000, "unit.yaml:6: workload \"w\" needs 5005 positions"},
	} {
		s, err := suite.Parse([]byte(fmt.Sprintf(base, c.model, c.prompt)), "unit.yaml")
		if err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		_, err = Execute(Options{Suite: s, Phases: []string{"phase3"}, BandwidthMiB: 16, Log: &log})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.model, err, c.want)
		}
		if strings.Contains(log.String(), "bandwidth") {
			t.Errorf("%s: measured before finding the mistake:\n%s", c.model, log.String())
		}
	}
}
