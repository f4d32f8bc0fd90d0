package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"asdsl-bench/engine"
	"asdsl-bench/harness/llamabench"
	"asdsl-bench/kernels"
)

func runBench(args []string) error {
	fs := newFlags("bench", "bench [-m MODEL] [-p 512] [-n 128] [-t 1,2] [-r 3] [-o md|json]")
	model := fs.String("m", "", "GGUF model (default: the built-in mock model)")
	prompt := fs.String("p", "512", "prompt lengths to test (comma-separated; 0 skips pp)")
	gen := fs.String("n", "128", "tokens to generate (comma-separated; 0 skips tg)")
	depth := fs.String("d", "0", "context depths (comma-separated, llama-bench's -d): each test also runs after that many tokens of context, filled before every repetition and not timed")
	threads := fs.String("t", "", "thread counts (comma-separated; default: one per P-core)")
	reps := fs.Int("r", 3, "repetitions per test")
	format := fs.String("o", "md", "output: md (llama-bench's table) or json (llama-bench's JSON)")
	noRepack := fs.Bool("no-repack", false, "decode and prompt GEMM on the GGUF layout instead of rows repacked four at a time (what phase 6 adds)")
	mapInPlace := fs.Bool("map-in-place", false, "with a file written by asdsl-bench repack: read its matrices from the file mapping (4 KiB pages) instead of copying them into 2 MiB pages at load (faster start, slower decode)")
	noFlash := fs.Bool("no-flash", false, "f32 KV cache and plain attention instead of the Q8_0 cache with flash attention (what phase 5 adds)")
	prefetch := fs.Int("prefetch", -1, "decode GEMV prefetch distance in bytes (default: the kernels' built-in, 6144; 0 turns prefetching off)")
	callBlocks := fs.Int("r4-call-blocks", -1, "most blocks per call of the AVX-512 repacked GEMVs; longer rows are split into calls (default: the kernels' built-in, 8; 0 takes whole rows)")
	tuned := fs.String("tuned", "", "settings from asdsl-bench tune (threads, layout, prefetch, call split, GEMM tiles); flags given explicitly win")
	breakdown := fs.Bool("breakdown", false, "after each tg test, print where a generated token's time went, step by step (matmuls, attention, norms, activation quantization, waiting at op ends), with the matmuls' stream rate against the read bandwidth; with --curve, each step's time per call at every batch size")
	curve := fs.String("curve", "", "instead: the small-batch cost curve, e.g. 1,2,4,8,16 — time to evaluate T tokens after a 64-token context, relative to the first size (what speculative verification pays); the sizes take turns within each of the -r rounds, and the ratio is the median of the rounds' ratios, with their range")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *format != "md" && *format != "json" {
		return usagef("-o %q: want md or json", *format)
	}
	ps, err := intList(*prompt, "-p")
	if err != nil {
		return err
	}
	gs, err := intList(*gen, "-n")
	if err != nil {
		return err
	}
	ts := []int{0}
	kt, tiles := kernels.DefaultTuning, engine.Tiles{}
	if *tuned != "" {
		f, err := readTuned(*tuned, fs, *model)
		if err != nil {
			return err
		}
		ts = []int{f.Threads}
		*noRepack = *noRepack || !f.Repack
		kt, tiles = kernels.Tuning{Prefetch: f.PrefetchBytes, R4CallBlocks: f.R4CallBlocks}, f.Tiles()
	}
	if *prefetch >= 0 {
		kt.Prefetch = *prefetch
	}
	if *callBlocks >= 0 {
		kt.R4CallBlocks = *callBlocks
	}
	ops, err := kernels.SelectTuned("", kt)
	if err != nil {
		return err
	}
	if *threads != "" {
		if ts, err = intList(*threads, "-t"); err != nil {
			return err
		}
		for _, n := range ts {
			if err := checkThreads(n, "-t"); err != nil {
				return err
			}
		}
	}
	path := *model
	if path == "" {
		if path, err = defaultModel(); err != nil {
			return err
		}
	}
	if *curve != "" {
		batches, err := intList(*curve, "--curve")
		if err != nil {
			return err
		}
		return printBatchCurve(llamabench.CurveConfig{Model: path, Batches: batches, Threads: ts[0], Reps: *reps,
			Features: engine.Features{NoRepack: *noRepack, NoFlash: *noFlash, MapInPlace: *mapInPlace}, Kernels: ops, Tiles: tiles,
			Breakdown: *breakdown, Balance: true})
	}
	ds, err := intList(*depth, "-d")
	if err != nil {
		return err
	}
	rs, err := llamabench.Run(llamabench.Config{Model: path, Prompt: ps, Gen: gs, Depth: ds, Threads: ts, Reps: *reps, Log: os.Stderr,
		Features: engine.Features{NoRepack: *noRepack, NoFlash: *noFlash, MapInPlace: *mapInPlace}, Kernels: ops, Tiles: tiles, Slowdown: testSlowdown(),
		Int8Peak: *format == "md", Breakdown: *breakdown})
	if err != nil {
		return err
	}
	if *format == "json" {
		return llamabench.WriteJSON(os.Stdout, rs)
	}
	return llamabench.WriteMarkdown(os.Stdout, rs)
}

func intList(s, flag string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, usagef("%s: bad value %q", flag, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// printBatchCurve times Eval of T tokens at position 64, for each T
// (with breakdown, also where each call's time went, step by step),
// with the machine's balance beside it: each call's weight stream
// against the read bandwidth and its multiply-adds against the int8
// peak, both measured on the curve's threads in the same run.
func printBatchCurve(c llamabench.CurveConfig) error {
	cv, err := llamabench.BatchCurve(c)
	if err != nil {
		return err
	}
	pts := cv.Points
	// "vs first" is the median over rounds of each call over the first
	// size's call in its round, with the rounds' range.
	fmt.Printf("%6s %12s %12s %10s %14s %16s %16s %11s\n", "tokens", "ms per call", "ms per token", "vs first", "rounds' range",
		"weights GB/s", "matmul GMAC/s", "flat needs")
	for i, p := range pts {
		gbs, gmacs := fmt.Sprintf("%.1f", cv.WeightGBs(i)), fmt.Sprintf("%.0f", cv.GMACs(i))
		flat := "-"
		if cv.ReadGBs > 0 {
			gbs += fmt.Sprintf(" (%.0f%%)", 100*cv.WeightGBs(i)/cv.ReadGBs)
		}
		if cv.Peak.GMACs > 0 {
			gmacs += fmt.Sprintf(" (%.0f%%)", 100*cv.GMACs(i)/cv.Peak.GMACs)
			flat = fmt.Sprintf("%.0f%%", 100*cv.FlatShare(i))
		}
		fmt.Printf("%6d %12.2f %12.2f %9.2fx %14s %16s %16s %11s\n", p.Tokens, p.Ms, p.Ms/float64(p.Tokens), p.Ratio,
			fmt.Sprintf("%.2f-%.2f", p.RatioLo, p.RatioHi), gbs, gmacs, flat)
	}
	fmt.Printf("\n%d thread(s). Weights %.2f GB per call", cv.Threads, float64(cv.WeightBytes)/1e9)
	if cv.ReadGBs > 0 {
		fmt.Printf("; read bandwidth %.1f GB/s (best pass between the rounds)", cv.ReadGBs)
	}
	fmt.Printf(". Multiply-adds %.2f G per token", float64(cv.MACs)/1e9)
	if cv.Peak.GMACs > 0 {
		fmt.Printf("; int8 peak %.0f GMAC/s (%s)", cv.Peak.GMACs, cv.Peak.Instr)
	}
	fmt.Println(". Rates are over the whole call.")
	if cv.Peak.GMACs > 0 {
		fmt.Println("flat needs: the share of the int8 peak a size's multiply-adds would take in the first size's time. The kernels'")
		fmt.Println("other work (unpacking weights, scaling, reducing) shares the multiply ports: a size that needs much of the peak")
		fmt.Println("cannot cost one decode step on this machine.")
	}
	if c.Breakdown {
		fmt.Println()
		llamabench.WriteCurveBreakdown(os.Stdout, pts)
	}
	return nil
}
