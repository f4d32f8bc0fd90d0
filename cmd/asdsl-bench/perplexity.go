package main

import (
	"fmt"
	"os"
	"time"

	"asdsl-bench/engine"
	"asdsl-bench/harness/perplexity"
)

// runPerplexity is llama-perplexity's measurement: the file tokenized
// once, chunks of -c tokens each starting with BOS, the second half of
// each scored. Its figure compares with llama.cpp's on the same file.
func runPerplexity(args []string) error {
	fs := newFlags("perplexity", "perplexity -m MODEL -f TEXT [-c 512] [--chunks N] [-t THREADS] [--no-flash]")
	model := fs.String("m", "", "GGUF model (required)")
	file := fs.String("f", "", "text file, e.g. wikitext-2's test.txt (required)")
	ctx := fs.Int("c", 512, "tokens per chunk (the context; at most the model's)")
	chunks := fs.Int("chunks", 0, "at most this many chunks (0: all)")
	threads := fs.Int("t", 0, "threads (0: one per P-core)")
	llamaOrder := fs.Bool("llamacpp-order", false, "compute in the float order of llama.cpp's x86 build (generic kernels, no repack; slow): llama.cpp's logits to within 1e-4 mean KL on the golden fixtures, for checking parity")
	noFlash := fs.Bool("no-flash", false, "f32 KV cache and plain attention instead of the Q8_0 cache with flash attention")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkThreads(*threads, "-t"); err != nil {
		return err
	}
	if *model == "" || *file == "" {
		return usagef("-m MODEL and -f TEXT are required")
	}
	if *chunks < 0 || *threads < 0 {
		return usagef("--chunks and -t must not be negative")
	}
	text, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	m, tok, err := loadWithTokenizer(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	t0 := time.Now()
	ids := tok.Encode(string(text), true, false)
	fmt.Fprintf(os.Stderr, "tokenized %d bytes into %d tokens in %v\n", len(text), len(ids), time.Since(t0).Round(time.Millisecond))
	bos := int32(-1) // each chunk starts with BOS where the vocabulary adds one, as llama.cpp does
	if v := tok.Vocab(); v.AddBOS {
		bos = v.BOS
	}
	r, err := perplexity.Run(m, ids, perplexity.Options{Ctx: *ctx, Chunks: *chunks, BOS: bos, Threads: *threads,
		Features: engine.Features{NoFlash: *noFlash, LlamaCppOrder: *llamaOrder},
		Progress: func(c int, ppl float64) { fmt.Printf("[%d]%.4f,", c, ppl) }})
	fmt.Println()
	if err != nil {
		return err
	}
	fmt.Printf("Final estimate: PPL = %.4f +/- %.5f (%d chunks of %d, %d tokens scored)\n", r.PPL, r.PPLErr, len(r.Running), *ctx, r.Scored)
	return nil
}
