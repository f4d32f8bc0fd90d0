package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"asdsl-bench/engine"
	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/hugemem"
	"asdsl-bench/internal/numerics"
	"asdsl-bench/internal/testutil"
	"asdsl-bench/kernels"
)

// A file written by repack is loaded and used as is: the same logits as
// the original file, bit for bit, for a batched prompt (panels where the
// table has them), token-by-token decode, a batch of 3 (speculative
// verification), the GGUF layout (NoRepack, which unpacks once) and the
// generic kernels (which read the GGUF layout); the file is the
// original's size, and repacking it again is refused.
func TestRepackedFileGivesTheSameLogits(t *testing.T) {
	src := testutil.Golden(t, "llama-Q4_K_M.gguf")
	out := filepath.Join(t.TempDir(), "packed.gguf")
	if err := runRepack([]string{src, out}); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	packed := 0
	for _, ti := range f.Tensors {
		if ti.Type == gguf.TypeQ4_K_R4 || ti.Type == gguf.TypeQ6_K_R4 {
			packed++
		}
	}
	f.Close()
	if packed == 0 {
		t.Fatal("no matrix was repacked")
	}
	a, _ := os.Stat(src)
	b, _ := os.Stat(out)
	if b.Size() > a.Size()+64*1024 || b.Size() < a.Size() {
		t.Errorf("repacked file %d bytes, original %d", b.Size(), a.Size())
	}
	if err := runRepack([]string{out, out + "2"}); err == nil || !strings.Contains(err.Error(), "already repacked") {
		t.Errorf("repacking twice: %v", err)
	}
	prompt, _, err := numerics.ReadGreedy(testutil.Golden(t, "llama-Q4_K_M.p64.greedy.txt"))
	if err != nil {
		t.Fatal(err)
	}
	generic, _ := kernels.Select("generic", -1)
	run := func(path string, o engine.SessionOptions) []float32 {
		// Warm: the copy into 2 MiB pages is for a file in the page cache
		// (repack leaves its output evicted; a cold start maps in place).
		if _, err := os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
		m, err := engine.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		o.Context = 128
		s, err := m.NewSession(o)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		// The repacked file's matrices are copied out of the mapping (into
		// 2 MiB pages where the OS has them) unless the session maps them
		// in place or needs the GGUF layout.
		wantCopy := path == out && hugemem.Available() && !o.Features.MapInPlace && !o.Features.NoRepack && o.Kernels == nil
		if got := m.CopiedFromFile(); (got > 0) != wantCopy {
			t.Errorf("%s: %d bytes copied out of the mapping, want a copy: %v", path, got, wantCopy)
		}
		lg, err := s.Eval(prompt, true)
		if err != nil {
			t.Fatal(err)
		}
		all := append([]float32(nil), lg...)
		for _, toks := range [][]int32{{7}, {9}, {3, 4, 5}} {
			lg, err := s.Eval(toks, true)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, lg...)
		}
		return all
	}
	for _, c := range []struct {
		name string
		o    engine.SessionOptions
	}{
		{"default", engine.SessionOptions{Threads: 2}},
		{"panels from 1 token", engine.SessionOptions{Threads: 2, Tiles: engine.Tiles{PanelMinTokens: 1}}},
		{"mapped in place", engine.SessionOptions{Threads: 2, Features: engine.Features{MapInPlace: true}}},
		{"GGUF layout", engine.SessionOptions{Threads: 2, Features: engine.Features{NoRepack: true}}},
		{"generic kernels", engine.SessionOptions{Threads: 1, Kernels: generic}},
	} {
		want, got := run(src, c.o), run(out, c.o)
		if len(want) != len(got) {
			t.Fatalf("%s: %d logits, want %d", c.name, len(got), len(want))
		}
		for i := range want {
			if want[i] != got[i] {
				t.Fatalf("%s: logit %d is %v from the repacked file, %v from the original", c.name, i, got[i], want[i])
			}
		}
	}
}
