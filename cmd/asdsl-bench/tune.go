package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/mock"
	"asdsl-bench/engine/quant"
	"asdsl-bench/engine/topology"
	"asdsl-bench/harness/machine"
	"asdsl-bench/harness/tune"
)

// runTune searches the engine's speed settings on this machine and
// writes them where bench and generate can apply them (--tuned).
func runTune(args []string) error {
	fs := newFlags("tune", "tune [-m MODEL] [--draft MODEL] [-r 5] [--knobs LIST] [-o tuned.yaml]")
	model := fs.String("m", "", "GGUF model to tune on (default: the TinyLlama-1.1B-shaped Q4_K_M mock, created and cached on first use)")
	draftPath := fs.String("draft", "", "draft model: also tune the speculative draft length")
	rounds := fs.Int("r", 5, fmt.Sprintf("rounds: samples of each candidate, alternated (at least %d)", tune.MinRounds))
	alpha := fs.Float64("alpha", 0.05, "significance a candidate needs to replace the default")
	knobs := fs.String("knobs", "", "comma-separated knobs to search (default: all; see above)")
	gen := fs.Int("n", 32, "tokens generated per decode sample")
	prompt := fs.Int("p", 256, "prompt tokens per prefill sample")
	out := fs.String("o", "tuned.yaml", "settings file to write")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: asdsl-bench tune [-m MODEL] [--draft MODEL] [-r 5] [--knobs LIST] [-o tuned.yaml]\n\n"+
			"Searches, one at a time with the others at their best so far, and writes the result\n"+
			"for bench --tuned and generate --tuned. Knobs, judged by decode, prefill or\n"+
			"speculative tokens/s:\n"+
			"  threads           math threads (default: one per physical P-core)\n"+
			"  repack            interleaved 4-row weight layout (1) or GGUF's (0)\n"+
			"  prefetch          decode GEMV prefetch distance, bytes\n"+
			"  r4-call-blocks    most blocks per AVX-512 repacked GEMV call (0: whole rows)\n"+
			"  tile-rows         rows a thread takes per prompt-GEMM work item\n"+
			"  panel-min-tokens  batch size from which the prompt GEMM widens rows into panels\n"+
			"  panel-depth       super-blocks per panel depth tile (0: whole rows)\n"+
			"  draft             speculative draft length (with --draft only)\n"+
			"A candidate replaces the default only when faster with Mann-Whitney p < alpha.\n\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkAlpha(*alpha); err != nil {
		return err
	}
	if *rounds < tune.MinRounds {
		return usagef("-r %d: at least %d rounds are needed for any difference to be significant", *rounds, tune.MinRounds)
	}
	if *gen < 1 || *prompt < 1 {
		return usagef("-n and -p must be at least 1")
	}
	if st, err := os.Stat(filepath.Dir(*out)); err != nil || !st.IsDir() { // before minutes of measuring, not after
		return usagef("-o %s: no such directory", *out)
	}
	var names []string // nil: every knob
	if *knobs != "" {
		for _, name := range strings.Split(*knobs, ",") {
			name = strings.TrimSpace(name)
			if !slices.ContainsFunc(tune.Knobs(nil, true), func(k tune.Knob) bool { return k.Name == name }) {
				return usagef("--knobs: unknown knob %q (threads, repack, prefetch, r4-call-blocks, tile-rows, panel-min-tokens, panel-depth, draft)", name)
			}
			names = append(names, name)
		}
		if slices.Contains(names, "draft") && *draftPath == "" {
			return usagef("--knobs draft needs a draft model (--draft MODEL)")
		}
	}
	path := *model
	if path == "" {
		var err error
		if path, err = tuneDefaultModel(); err != nil {
			return err
		}
	}
	m, err := engine.Load(path)
	if err != nil {
		return err
	}
	defer m.Close()
	var draft *engine.Model
	if *draftPath != "" {
		if draft, err = engine.Load(*draftPath); err != nil {
			return fmt.Errorf("draft: %w", err)
		}
		defer draft.Close()
	}
	def := len(topology.Detect().MathThreads())
	all := tune.Knobs(threadCandidates(def, runtime.NumCPU()), draft != nil)
	ks := all
	if names != nil {
		ks = slices.DeleteFunc(slices.Clone(all), func(k tune.Knob) bool { return !slices.Contains(names, k.Name) })
	}
	fmt.Fprintf(os.Stderr, "tuning on %s, %d rounds per knob\n", path, *rounds)
	t0 := time.Now()
	best, res, err := tune.Search(tune.Options{Model: m, Draft: draft, Start: tune.Defaults(def), Knobs: ks, Rounds: *rounds,
		Alpha: *alpha, DecodeTokens: *gen, PromptTokens: *prompt, Progress: os.Stderr})
	if err != nil {
		return err
	}
	printTune(res)
	f := tune.File{CPU: tunedCPU(), Model: path, Date: time.Now().UTC().Format(time.RFC3339), Settings: best}
	if err := f.Write(*out); err != nil {
		return err
	}
	fmt.Printf("\nwrote %s in %s: threads %d, repack %v, prefetch %d bytes, %d blocks per GEMV call, tile rows %d, panel from %d tokens, panel depth %d",
		*out, time.Since(t0).Round(time.Second), best.Threads, best.Repack, best.PrefetchBytes, best.R4CallBlocks, best.TileRows, best.PanelMinTokens, best.PanelDepth)
	if best.DraftLength > 0 {
		fmt.Printf(", draft length %d", best.DraftLength)
	}
	fmt.Println()
	return nil
}

// threadCandidates: 1, powers of two and the CPU count, and the
// default (one per physical P-core), in increasing order.
func threadCandidates(def, cpus int) []int {
	var ts []int
	for t := 1; t < cpus; t *= 2 {
		ts = append(ts, t)
	}
	ts = append(ts, cpus, def)
	slices.Sort(ts)
	return slices.Compact(ts)
}

func printTune(res []tune.KnobResult) {
	for _, k := range res {
		fmt.Printf("\n%s (%s tokens/s)\n", k.Knob, k.Judge)
		fmt.Printf("  %-8s %10s %21s %8s %7s\n", "value", "median", "range", "vs def", "p")
		var inc tune.Trial
		for _, t := range k.Trials {
			if t.Incumbent {
				inc = t
			}
		}
		for _, t := range k.Trials {
			mark := ""
			switch {
			case t.Best && t.Incumbent:
				mark = "  default, kept"
			case t.Best:
				mark = "  chosen"
			case t.Incumbent:
				mark = "  default"
			}
			fmt.Printf("  %-8d %10.2f %10.2f – %-8.2f %+7.1f%% %7.3f%s\n", t.Value, t.Median, t.Min, t.Max,
				100*(t.Median/inc.Median-1), t.P, mark)
		}
	}
}

// tuneDefaultModel is a model whose knobs matter: the TinyLlama-shaped
// Q4_K_M mock (the built-in default mock is tiny and f32).
func tuneDefaultModel() (string, error) {
	s, err := mock.Lookup("tinyllama-1.1b")
	if err != nil {
		return "", err
	}
	ft, err := quant.ParseFileType("q4_k_m")
	if err != nil {
		return "", err
	}
	fmt.Fprintln(os.Stderr, "model: the TinyLlama-1.1B-shaped Q4_K_M mock (cached; created in a few seconds the first time)")
	path, err := mock.Cached(mock.Options{Shape: s, Type: gguf.TypeF32, Quant: ft, Seed: 1})
	if err != nil {
		return "", fmt.Errorf("creating the mock model: %w", err)
	}
	return path, nil
}

// readTuned reads a settings file from asdsl-bench tune, applies its
// process-wide settings (prefetch distance, GEMM tiles) and says so; the
// caller takes threads and the layout where its flags did not set them.
// tunedCPU names this machine's CPU as a tuned-settings file records it.
func tunedCPU() string {
	c := machine.DetectCPU()
	return fmt.Sprintf("%s (family %d, model %d), %d CPUs", c.Brand, c.Family, c.Model, c.OSCPUs)
}

// readTuned reads and applies a settings file; settings tuned on another
// CPU or for another model (model is the -m value, "" for the default)
// are applied with a warning, since the best tile or thread count on one
// machine says little about another.
func readTuned(path string, fs *flag.FlagSet, model string) (tune.File, error) {
	f, err := tune.Read(path)
	if err != nil {
		return f, err
	}
	if cpu := tunedCPU(); f.CPU != cpu {
		fmt.Fprintf(os.Stderr, "warning: %s was tuned on %q, this is %q: its settings may not be this machine's best\n", path, f.CPU, cpu)
	}
	if model == "" {
		model = "(the default model)"
	}
	if filepath.Base(f.Model) != filepath.Base(model) {
		fmt.Fprintf(os.Stderr, "warning: %s was tuned for %s, this run is %s\n", path, filepath.Base(f.Model), filepath.Base(model))
	}
	fmt.Fprintf(os.Stderr, "tuned settings from %s (%s): threads %d, repack %v, prefetch %d bytes, tile rows %d, panel from %d tokens, panel depth %d\n",
		path, f.CPU, f.Threads, f.Repack, f.PrefetchBytes, f.TileRows, f.PanelMinTokens, f.PanelDepth)
	return f, nil
}

// flagSet reports whether the named flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
