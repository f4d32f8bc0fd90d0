package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
	"asdsl-bench/harness/measure"
)

// runColdStart measures one cold start in this fresh process: the
// model's file is evicted from the page cache, then the time from
// opening it to the first token of a prompt. Phase 6 runs it alternated
// with and without the prefetch thread (measure.ColdStarts).
func runColdStart(args []string) error {
	fs := newFlags("coldstart", "coldstart -m MODEL [-p 32] [-t THREADS] [--no-prefetch] [--no-repack] [--map-in-place] [--warm]")
	model := fs.String("m", "", "GGUF model (required)")
	prompt := fs.Int("p", 32, "prompt tokens")
	threads := fs.Int("t", 0, "threads (0: one per P-core)")
	noPrefetch := fs.Bool("no-prefetch", false, "without the prefetch thread")
	noRepack := fs.Bool("no-repack", false, "on the GGUF layout (no repack at load)")
	mapInPlace := fs.Bool("map-in-place", false, "with a file written by asdsl-bench repack: its matrices read from the mapping, not copied into 2 MiB pages")
	warm := fs.Bool("warm", false, "a warm start: read the file into the page cache first instead of evicting it")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkThreads(*threads, "-t"); err != nil {
		return err
	}
	if *model == "" {
		return usagef("-m MODEL is required")
	}
	if *prompt < 1 || *threads < 0 {
		return usagef("-p must be at least 1 and -t at least 0")
	}
	var cs measure.ColdSample
	var err error
	if *warm {
		if err := readWhole(*model); err != nil {
			return err
		}
		cs.Warm = true
	} else if cs.ResidentBefore, cs.ResidentAfterEvict, err = gguf.Evict(*model); err != nil {
		return err
	}
	t0 := time.Now()
	m, err := engine.Load(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	if *prompt > m.Config.NCtx {
		return fmt.Errorf("prompt of %d tokens is past the model's context (%d)", *prompt, m.Config.NCtx)
	}
	s, err := m.NewSession(engine.SessionOptions{Context: *prompt, Threads: *threads,
		Features: engine.Features{NoPrefetch: *noPrefetch, NoRepack: *noRepack, MapInPlace: *mapInPlace}})
	if err != nil {
		return err
	}
	defer s.Close()
	cs.LoadMs = ms(time.Since(t0))
	rng := rand.New(rand.NewPCG(1, 2))
	toks := make([]int32, *prompt)
	for i := range toks {
		toks[i] = int32(rng.IntN(m.Config.NVocab))
	}
	if _, err := s.Eval(toks, false); err != nil {
		return err
	}
	cs.TTFTMs = ms(time.Since(t0))
	cs.Prefetch, cs.Repack = !*noPrefetch, !*noRepack
	cs.PeakRSS = measure.PeakRSS()
	return json.NewEncoder(os.Stdout).Encode(cs)
}

// readWhole reads a file through, so its pages are in the page cache.
func readWhole(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
