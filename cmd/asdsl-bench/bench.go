package main

import (
	"os"
	"strconv"
	"strings"

	"asdsl-bench/harness/llamabench"
)

func runBench(args []string) error {
	fs := newFlags("bench", "bench [-m MODEL] [-p 512] [-n 128] [-t 1,2] [-r 3] [-o md|json]")
	model := fs.String("m", "", "GGUF model (default: the built-in mock model)")
	prompt := fs.String("p", "512", "prompt lengths to test (comma-separated; 0 skips pp)")
	gen := fs.String("n", "128", "tokens to generate (comma-separated; 0 skips tg)")
	threads := fs.String("t", "", "thread counts (comma-separated; default: one per P-core)")
	reps := fs.Int("r", 3, "repetitions per test")
	format := fs.String("o", "md", "output: md (llama-bench's table) or json (llama-bench's JSON)")
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
	if *threads != "" {
		if ts, err = intList(*threads, "-t"); err != nil {
			return err
		}
	}
	path := *model
	if path == "" {
		if path, err = defaultModel(); err != nil {
			return err
		}
	}
	rs, err := llamabench.Run(llamabench.Config{Model: path, Prompt: ps, Gen: gs, Threads: ts, Reps: *reps, Log: os.Stderr})
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
