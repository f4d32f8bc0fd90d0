// Command asdsl-bench runs GGUF language models on the CPU and measures
// them. Run "asdsl-bench help" for the commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"asdsl-bench/kernels"
)

type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{
	"info":       {"show a model's architecture, shapes, tensor types and size", runInfo},
	"run":        {"run roadmap checkpoints: checks, benchmarks, gates, report (the main job)", runCommand},
	"gate":       {"the CI gate: checks, targets, and this build against a baseline build alternated (exit 0 pass, 1 regression/fail, 3 inconclusive)", runGate},
	"cachegrind": {"simulate cache misses of the GEMV kernel under valgrind (when hardware counters are missing)", runCachegrind},
	"db":         {"the results database: import and export run records, list runs", runDB},
	"serve":      {"the results dashboard: history charts, reports, comparisons, failures (or --static DIR)", runServe},
	"coldstart":  {"one cold start: evict the model from the page cache, time open to first token (phase 6)", runColdStart},
	"compare":    {"compare two stored runs (medians, confidence intervals, Mann-Whitney p)", runCompare},
	"report":     {"rebuild the reports and the history index from stored runs", runReport},
	"ab":         {"compare two builds A/B, repetitions alternated ABBA (Mann-Whitney U, and the signed-rank test on each round's ratio)", runAB},
	"bench":      {"llama-bench's pp/tg tests on this engine (-o md|json like llama-bench)", runBench},
	"generate":   {"generate text from a prompt (default: a cached mock model)", runGenerate},
	"logits":     {"write the logits of every prompt position to a file", runLogits},
	"machine":    {"show the CPU, its features, the kernels chosen and the memory bandwidth", runMachine},
	"mock":       {"write a model with random weights in a real shape", runMock},
	"perplexity": {"perplexity of a model on a text file, as llama-perplexity measures it", runPerplexity},
	"repack":     {"write a model with its Q4_K/Q6_K matrices in the decode kernels' 4-row layout, used as is at load", runRepack},
	"quantize":   {"quantize an F32/F16/BF16 model (q4_k_m, q4_k_s, q6_k, q8_0)", runQuantize},
	"tokenize":   {"print the token ids of text (-p) or of a file's {\"text\"} lines (-f --jsonl), as llama.cpp would", runTokenize},
	"tune":       {"search threads, layout, prefetch distance, GEMM tiles and draft length on this machine", runTune},
}

func usage() {
	fmt.Fprintf(os.Stderr, "asdsl-bench: an LLM inference engine for CPUs and the harness that measures it.\n\nUsage: asdsl-bench COMMAND [flags]\n\nCommands:\n")
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(os.Stderr, "\nRun \"asdsl-bench COMMAND --help\" for a command's flags.\n")
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]
	switch name {
	case "help", "-h", "--help", "-help":
		if len(os.Args) > 2 {
			if c, ok := commands[os.Args[2]]; ok {
				c.run([]string{"--help"})
				return
			}
		}
		usage()
		return
	}
	if err := kernels.InitError(); err != nil {
		fmt.Fprintf(os.Stderr, "asdsl-bench: %v\n", err)
		os.Exit(2)
	}
	if name == "kernelbench" { // the workload of "cachegrind"; deliberately unlisted
		if err := runKernelbench(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "asdsl-bench kernelbench: %v\n", err)
			os.Exit(1)
		}
		return
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "asdsl-bench: unknown command %q\n\n", name)
		usage()
		os.Exit(2)
	}
	if err := c.run(os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		var ee exitError
		if errors.As(err, &ee) {
			fmt.Fprintf(os.Stderr, "asdsl-bench %s: %v\n", name, err)
			os.Exit(ee.code)
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "asdsl-bench %s: %v\n", name, err)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "asdsl-bench %s: %v\n", name, err)
		os.Exit(1)
	}
}

// usageError marks bad command-line input (exit code 2).
type usageError struct{ error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// newFlags makes a flag set whose --help prints the command's synopsis.
func newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: asdsl-bench %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may come before, between or after the
// positional arguments ("quantize IN OUT --type q8_0"); a lone "--" ends
// flag parsing.
func parse(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError{err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

// parseTokens reads "1,2,3" into token ids.
func parseTokens(s string) ([]int32, error) {
	if strings.TrimSpace(s) == "" {
		return nil, usagef("--tokens is empty")
	}
	var out []int32
	for i, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil || v < 0 {
			if f == "" {
				return nil, usagef("--tokens: element %d is empty (%q)", i+1, s)
			}
			return nil, usagef("bad token id %q in --tokens", f)
		}
		out = append(out, int32(v))
	}
	return out, nil
}

// checkThreads refuses a negative thread count and warns about one above
// the CPU count: threads then share CPUs, and since every op ends at a
// barrier, each waits for its slowest, descheduled thread.
func checkThreads(n int, flag string) error {
	if n < 0 {
		return usagef("%s must be >= 0 (0: the default), got %d", flag, n)
	}
	if cpus := runtime.NumCPU(); n > cpus {
		fmt.Fprintf(os.Stderr, "warning: %s %d is more threads than the %d CPUs here; they will share CPUs and wait for each other at every op\n", flag, n, cpus)
	}
	return nil
}

// checkAlpha refuses a significance level outside (0, 1).
func checkAlpha(a float64) error {
	if !(a > 0 && a < 1) {
		return usagef("--alpha must be between 0 and 1 (e.g. 0.05), got %v", a)
	}
	return nil
}
