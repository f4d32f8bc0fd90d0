package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
)

func runLogits(args []string) error {
	fs := newFlags("logits", "logits -m MODEL --tokens 1,2,3 -o FILE")
	model := fs.String("m", "", "GGUF model (required)")
	tokens := fs.String("tokens", "", "prompt token ids, used exactly as given (no BOS added) (required)")
	out := fs.String("o", "", "output file: float32 little-endian, [positions][vocab] (required)")
	threads := fs.Int("t", 0, "math threads (default: one per CPU)")
	llamaOrder := fs.Bool("llamacpp-order", false, "compute in the float order of llama.cpp's x86 build (generic kernels, no repack; slow): llama.cpp's logits to within 1e-4 mean KL on the golden fixtures, for checking parity")
	noFlash := fs.Bool("no-flash", false, "f32 KV cache and plain attention (llama.cpp without -fa and with an f16/f32 cache) instead of the Q8_0 cache with flash attention")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkThreads(*threads, "-t"); err != nil {
		return err
	}
	if *model == "" || *tokens == "" || *out == "" {
		return usagef("-m, --tokens and -o are required")
	}
	ids, err := parseTokens(*tokens)
	if err != nil {
		return err
	}
	m, err := engine.Load(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	if len(ids) > m.Config.NCtx {
		return fmt.Errorf("%d tokens exceed the model's context of %d", len(ids), m.Config.NCtx)
	}
	sess, err := m.NewSession(engine.SessionOptions{Context: len(ids), Threads: *threads, Features: engine.Features{NoFlash: *noFlash, LlamaCppOrder: *llamaOrder}})
	if err != nil {
		return err
	}
	lg, err := sess.Eval(ids, true)
	if err != nil {
		return err
	}
	f, err := gguf.CreateAtomic(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := binary.Write(w, binary.LittleEndian, lg); err != nil {
		f.Abort()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Abort()
		return err
	}
	if err := f.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %d x %d logits to %s\n", len(ids), m.Config.NVocab, *out)
	return nil
}
