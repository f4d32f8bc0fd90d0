package tune

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"asdsl-bench/engine"
	"asdsl-bench/internal/testmodel"
	"asdsl-bench/kernels"
)

func TestChooseKeepsIncumbentWithinNoise(t *testing.T) {
	values := []int{6144, 0, 4096}
	samples := [][]float64{{10, 11, 12, 10.5, 11.5}, {10.2, 11.2, 11.9, 10.4, 11.8}, {9, 9.5, 8.5, 9.2, 8.8}}
	win, trials := choose(values, samples, 0, 0.05)
	if win != 0 || !trials[0].Best || !trials[0].Incumbent {
		t.Fatalf("winner %d (%+v): the candidate within noise must not replace the incumbent", win, trials)
	}
	if trials[0].P != 1 || trials[1].P < 0.05 || trials[2].P >= 0.05 {
		t.Fatalf("p values %v %v %v", trials[0].P, trials[1].P, trials[2].P)
	}
}

func TestChoosePicksTheSignificantlyFastest(t *testing.T) {
	values := []int{16, 8, 32, 64}
	samples := [][]float64{{10, 11, 12, 10.5, 11.5}, {20, 21, 22, 20.5, 21.5}, {30, 31, 32, 30.5, 31.5}, {5, 6, 5.5, 6.5, 5.2}}
	win, trials := choose(values, samples, 0, 0.05)
	if win != 2 || !trials[2].Best || trials[0].Best {
		t.Fatalf("winner %d, want 2 (value 32): %+v", win, trials)
	}
	if trials[2].Median != 31 || trials[2].Min != 30 || trials[2].Max != 32 {
		t.Fatalf("summary of the winner: %+v", trials[2])
	}
}

// With three samples each, Mann-Whitney cannot reach p < 0.05: a faster
// candidate stays unproven and the incumbent is kept.
func TestChooseNeedsEnoughSamples(t *testing.T) {
	win, _ := choose([]int{1, 2}, [][]float64{{1, 1.1, 1.2}, {5, 5.1, 5.2}}, 0, 0.05)
	if win != 0 {
		t.Fatalf("winner %d with 3 samples each", win)
	}
	win, _ = choose([]int{1, 2}, [][]float64{{1, 1.1, 1.2, 1.3}, {5, 5.1, 5.2, 5.3}}, 0, 0.05)
	if win != 1 {
		t.Fatalf("winner %d with %d samples each (MinRounds)", win, MinRounds)
	}
}

func TestFileRoundTrip(t *testing.T) {
	f := File{CPU: "test CPU", Model: "m.gguf", Date: "2026-11-27T00:00:00Z",
		Settings: Settings{Threads: 3, Repack: false, PrefetchBytes: 4096, TileRows: 32, PanelMinTokens: 128, PanelDepth: 8, DraftLength: 6}}
	path := filepath.Join(t.TempDir(), "tuned.yaml")
	if err := f.Write(path); err != nil {
		t.Fatal(err)
	}
	g, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if g != f {
		t.Fatalf("read back %+v, wrote %+v", g, f)
	}
}

func TestParseRejectsBadFiles(t *testing.T) {
	good := "threads: 2\nrepack: true\nprefetch_bytes: 6144\ntile_rows: 16\npanel_min_tokens: 64\n"
	if f, err := Parse([]byte(good)); err != nil {
		t.Fatalf("good file: %v", err)
	} else if f.R4CallBlocks != kernels.DefaultR4CallBlocks {
		// A file from before the call split was tuned keeps the default.
		t.Fatalf("r4_call_blocks missing: read %d, want the default %d", f.R4CallBlocks, kernels.DefaultR4CallBlocks)
	}
	if f, err := Parse([]byte(good + "r4_call_blocks: 0\n")); err != nil || f.R4CallBlocks != 0 {
		t.Fatalf("r4_call_blocks: 0 read as %d (%v), want 0: whole rows", f.R4CallBlocks, err)
	}
	for name, text := range map[string]string{
		"empty":         "",
		"not yaml":      "threads: [2\n",
		"unknown key":   good + "tile_cols: 8\n",
		"zero threads":  strings.Replace(good, "threads: 2", "threads: 0", 1),
		"odd tile":      strings.Replace(good, "tile_rows: 16", "tile_rows: 6", 1),
		"negative pf":   strings.Replace(good, "prefetch_bytes: 6144", "prefetch_bytes: -1", 1),
		"missing":       "cpu: x\n",
		"wrong type":    strings.Replace(good, "repack: true", "repack: sometimes", 1),
		"huge draft":    good + "draft_length: 1000\n",
		"deep panel":    good + "panel_depth: -2\n",
		"negative call": good + "r4_call_blocks: -1\n",
		"float tile":    strings.Replace(good, "tile_rows: 16", "tile_rows: 16.5", 1),
		"no prefetch":   strings.Replace(good, "prefetch_bytes: 6144\n", "", 1),
	} {
		if _, err := Parse([]byte(text)); err == nil {
			t.Errorf("%s: accepted %q", name, text)
		} else if name == "no prefetch" && !strings.Contains(err.Error(), "missing prefetch_bytes") {
			t.Errorf("%s: error %q does not name the missing key", name, err)
		} else if !strings.Contains(err.Error(), "tuned settings") {
			t.Errorf("%s: error %q does not say what it was reading", name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("threads: 2\nrepack: true\nprefetch_bytes: 6144\ntile_rows: 16\npanel_min_tokens: 64\n"))
	f.Add([]byte("cpu: x\nthreads: 1\nrepack: false\nprefetch_bytes: 0\ntile_rows: 4\npanel_min_tokens: 1\ndraft_length: 3\n"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			return
		}
		if err := file.Validate(); err != nil {
			t.Fatalf("parsed but invalid: %v", err)
		}
		out, err := yaml.Marshal(file)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(out)
		if err != nil || again != file {
			t.Fatalf("round trip: %+v, %v (from %+v)", again, err, file)
		}
	})
}

// A whole search on the small mock: every candidate measured every
// round, the chosen values among the candidates, and nothing of the
// process changed. (Which values win is the machine's business, not the
// test's.)
func TestSearchOnSmallMock(t *testing.T) {
	m := testmodel.SmallQ4KM(t)
	start := Defaults(1)
	all := Knobs([]int{1, 2}, false)
	var ks []Knob
	for _, k := range all {
		if k.Name == "prefetch" || k.Name == "tile-rows" || k.Name == "repack" || k.Name == "panel-depth" {
			ks = append(ks, k)
		}
	}
	if _, _, err := Search(Options{Model: m, Start: start, Knobs: ks, Rounds: MinRounds - 1, Alpha: 0.05, DecodeTokens: 4, PromptTokens: 16}); err == nil {
		t.Fatal("accepted too few rounds")
	}
	if _, _, err := Search(Options{Model: m, Start: start, Knobs: ks, Rounds: MinRounds, Alpha: 0.05, DecodeTokens: 4,
		PromptTokens: m.Config.NCtx + 1}); err == nil || !strings.Contains(err.Error(), "context") {
		t.Fatalf("a prompt past the context: %v", err)
	}
	best, res, err := Search(Options{Model: m, Start: start, Knobs: ks, Rounds: MinRounds, Alpha: 0.05, DecodeTokens: 4, PromptTokens: 16})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(ks) {
		t.Fatalf("%d knob results for %d knobs", len(res), len(ks))
	}
	for i, r := range res {
		k := ks[i]
		if r.Knob != k.Name || r.Judge != k.Judge || len(r.Trials) != len(k.Values) {
			t.Fatalf("%s: %+v", k.Name, r)
		}
		best := 0
		for _, tr := range r.Trials {
			if len(tr.Samples) != MinRounds || slices.ContainsFunc(tr.Samples, func(x float64) bool { return !(x > 0) }) {
				t.Fatalf("%s=%d: samples %v", k.Name, tr.Value, tr.Samples)
			}
			if tr.Best {
				best++
				if tr.Value != r.Chosen {
					t.Fatalf("%s: best trial %d, chosen %d", k.Name, tr.Value, r.Chosen)
				}
			}
		}
		if best != 1 || !slices.Contains(k.Values, r.Chosen) {
			t.Fatalf("%s: %d best trials, chosen %d of %v", k.Name, best, r.Chosen, k.Values)
		}
	}
	if kernels.Active().Prefetch != kernels.DefaultPrefetch || engine.DefaultTiles() != Defaults(1).Tiles() {
		t.Fatalf("the search changed the process: prefetch %d, tiles %+v", kernels.Active().Prefetch, engine.DefaultTiles())
	}
	if o := best.SessionOptions(0); o.Kernels.Prefetch != best.PrefetchBytes || o.Tiles.Rows != best.TileRows || o.Tiles.K != best.PanelDepth {
		t.Fatalf("session options %+v do not carry the choice %+v", o, best)
	}
	if best.Threads != 1 || best.PanelMinTokens != start.PanelMinTokens {
		t.Fatalf("knobs not searched changed: %+v", best)
	}
}
