package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime/pprof"
	"strings"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/mock"
	"asdsl-bench/engine/tokenizer"
	"asdsl-bench/internal/progress"
	"asdsl-bench/kernels"
)

// defaultModel returns the cached built-in mock model, creating it once.
func defaultModel() (string, error) {
	s, _ := mock.Lookup("tiny")
	o := mock.Options{Shape: s, Type: gguf.TypeF32, Seed: 1}
	path, err := mock.Cached(o)
	if err != nil {
		return "", fmt.Errorf("creating the default mock model: %w", err)
	}
	return path, nil
}

func runGenerate(args []string) error {
	fs := newFlags("generate", "generate [-m MODEL] (-p TEXT | --tokens 1,2,3) [-n N] [sampling flags]")
	model := fs.String("m", "", "GGUF model (default: the built-in mock model, created and cached on first use)")
	prompt := fs.String("p", "Once upon a time", "prompt text")
	tokens := fs.String("tokens", "", "prompt as token ids, used exactly (no BOS added); overrides -p")
	n := fs.Int("n", 32, "tokens to generate")
	ctx := fs.Int("ctx", 0, "context length (default: min(model context, 4096))")
	threads := fs.Int("t", 0, "math threads (default: one per CPU)")
	llamaOrder := fs.Bool("llamacpp-order", false, "compute in the float order of llama.cpp's x86 build (generic kernels, no repack; slow): llama.cpp's logits to within 1e-4 mean KL on the golden fixtures, for checking parity")
	noFlash := fs.Bool("no-flash", false, "f32 KV cache and plain attention (llama.cpp without -fa and with an f16/f32 cache) instead of the Q8_0 cache with flash attention")
	d := engine.DefaultSampling()
	temp := fs.Float64("temp", d.Temperature, "temperature; 0 = greedy")
	topK := fs.Int("top-k", d.TopK, "keep the k most likely tokens (0 = off)")
	topP := fs.Float64("top-p", d.TopP, "keep the smallest set with this much probability (1 = off)")
	minP := fs.Float64("min-p", d.MinP, "drop tokens below this fraction of the best one (0 = off)")
	seed := fs.Uint64("seed", d.Seed, "random seed")
	quiet := fs.Bool("q", false, "print only the generated text, no statistics")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	draftPath := fs.String("draft", "", "draft model for speculative decoding (same vocabulary; the output keeps the target's distribution)")
	draftK := fs.Int("draft-k", engine.DefaultDraftLength, "tokens the draft proposes per round (3: the target verifies up to 4 tokens in one weight pass; tune measures the best)")
	tuned := fs.String("tuned", "", "settings from asdsl-bench tune (threads, layout, prefetch, GEMM tiles, draft length); flags given explicitly win")
	if err := parse(fs, args); err != nil {
		return err
	}
	var features engine.Features
	var ops *kernels.Ops // nil: the process's table
	var tiles engine.Tiles
	if *tuned != "" {
		f, err := readTuned(*tuned, fs, *model)
		if err != nil {
			return err
		}
		if !flagSet(fs, "t") {
			*threads = f.Threads
		}
		if !flagSet(fs, "draft-k") && f.DraftLength > 0 {
			*draftK = f.DraftLength
		}
		features.NoRepack = !f.Repack
		ops, tiles = f.Kernels(), f.Tiles()
	}
	features.NoFlash = *noFlash
	features.LlamaCppOrder = *llamaOrder
	if *n < 0 {
		return usagef("-n must be >= 0")
	}
	if *draftK < 1 {
		return usagef("--draft-k must be >= 1")
	}
	if !(*temp >= 0) || math.IsInf(*temp, 0) || !(*topP >= 0 && *topP <= 1) || !(*minP >= 0 && *minP <= 1) || *topK < 0 {
		return usagef("sampling flags out of range (0 <= temp < inf, 0 <= top-p <= 1, 0 <= min-p <= 1, top-k >= 0)")
	}
	if err := checkThreads(*threads, "-t"); err != nil {
		return err
	}
	if flagSet(fs, "ctx") && *ctx <= 0 {
		return usagef("--ctx must be > 0 (leave it out for min(model context, 4096)), got %d", *ctx)
	}
	path := *model
	if path == "" {
		var err error
		if path, err = defaultModel(); err != nil {
			return err
		}
	}
	m, tok, err := loadWithTokenizer(path)
	if err != nil {
		return err
	}
	defer m.Close()
	var repackBar *progress.Bar // nil (silent) with -q
	if !*quiet {
		repackBar = progress.New(os.Stderr, "preparing weights for decode: the load-time repack, or a repacked file copied into 2 MiB pages (once per load)", 0, progress.Bytes)
		m.RepackProgress = repackBar.Update
	}
	var ids []int32
	if flagSet(fs, "tokens") {
		if ids, err = parseTokens(*tokens); err != nil {
			return err
		}
	} else {
		ids = tok.Encode(*prompt, true, false)
	}
	sess, err := m.NewSession(engine.SessionOptions{Context: *ctx, Threads: *threads, Features: features, Kernels: ops, Tiles: tiles})
	if err != nil {
		return err
	}
	if repackBar != nil && repackBar.Drew() {
		repackBar.Done()
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	smp := engine.NewSampler(engine.SamplerOptions{Temperature: *temp, TopK: *topK, TopP: *topP, MinP: *minP, Seed: *seed})
	out := bufio.NewWriter(os.Stdout)
	if !flagSet(fs, "tokens") {
		fmt.Fprint(out, *prompt)
	}
	var buf []byte
	emit := func(id int32) bool {
		buf = append(buf, tok.Piece(id)...)
		// Hold back an incomplete UTF-8 sequence until its last byte arrives.
		k := completeUTF8(buf)
		out.Write(buf[:k])
		buf = append(buf[:0], buf[k:]...)
		out.Flush()
		return true
	}
	var st engine.GenerateStats
	var sp *engine.SpecStats
	if *draftPath != "" {
		// No ":=" here: err must stay the function's, or a failed
		// speculative run would report success.
		dm, derr := engine.Load(*draftPath)
		if derr != nil {
			return fmt.Errorf("draft: %w", derr)
		}
		defer dm.Close()
		ds, derr := dm.NewSession(engine.SessionOptions{Context: sess.Capacity(), Threads: *threads, Features: features, Kernels: ops, Tiles: tiles})
		if derr != nil {
			return fmt.Errorf("draft: %w", derr)
		}
		defer ds.Close()
		var s engine.SpecStats
		st, s, err = engine.GenerateSpeculative(sess, ds, ids, *n, *draftK, smp, tok.Vocab().EOS, emit)
		sp = &s
	} else {
		st, err = engine.Generate(sess, ids, *n, smp, tok.Vocab().EOS, emit)
	}
	out.Write(buf)
	fmt.Fprintln(out)
	out.Flush()
	if err != nil {
		return err
	}
	if !*quiet {
		gb := float64(m.WeightBytes()) / 1e9
		pp := float64(st.PromptTokens) / st.PromptTime.Seconds()
		tg := 0.0
		if sp != nil && st.DecodeTime > 0 { // every token comes out of a verification round
			tg = float64(st.GeneratedTokens) / st.DecodeTime.Seconds()
		} else if st.GeneratedTokens > 1 {
			tg = float64(st.GeneratedTokens-1) / st.DecodeTime.Seconds()
		}
		fmt.Fprintf(os.Stderr, "\n%s: prompt %d tokens in %v (%.1f t/s, TTFT %v); generated %d tokens, decode %.2f t/s, %.2f GB/s of weights%s\n",
			strings.TrimSuffix(path, ".gguf"), st.PromptTokens, st.PromptTime.Round(1e5), pp, st.PromptTime.Round(1e5),
			st.GeneratedTokens, tg, tg*gb, map[bool]string{true: " (stopped at EOS)"}[st.StoppedAtEOS])
		if sp != nil {
			fmt.Fprintf(os.Stderr, "speculative: k=%d, %d rounds, %d of %d proposals accepted (%.0f%%), %.2f tokens per target pass\n",
				*draftK, sp.Rounds, sp.Accepted, sp.Drafted, 100*sp.AcceptRate(), float64(st.GeneratedTokens)/float64(max(1, sp.Rounds)))
		}
	}
	return nil
}

// completeUTF8 returns the length of buf's prefix that does not end in
// the middle of a multi-byte character.
func completeUTF8(buf []byte) int {
	for back := 1; back <= 3 && back <= len(buf); back++ {
		c := buf[len(buf)-back]
		if c&0xC0 == 0x80 {
			continue // continuation byte: look further back for the lead
		}
		if c >= 0xC0 { // lead byte: complete only if all its bytes are here
			need := 2
			if c >= 0xE0 {
				need = 3
			}
			if c >= 0xF0 {
				need = 4
			}
			if back < need {
				return len(buf) - back
			}
		}
		return len(buf)
	}
	return len(buf)
}

// loadWithTokenizer loads a model and the tokenizer its file describes.
func loadWithTokenizer(path string) (*engine.Model, tokenizer.Tokenizer, error) {
	m, err := engine.Load(path)
	if err != nil {
		return nil, nil, err
	}
	tok, err := tokenizer.FromGGUF(&m.File.Meta)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("tokenizer: %w", err)
	}
	return m, tok, nil
}
