package engine

import (
	"testing"
	"unsafe"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/internal/testutil"
	"asdsl-bench/kernels"
)

// A session repacks every Q4_K projection into the model's one arena:
// copies in forward order, each on a cache line, none overlapping; each
// equals a standalone RepackR4 of the same matrix. Close drops them.
func TestRepackArena(t *testing.T) {
	m, err := Load(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.NewSession(SessionOptions{Context: 64, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	var end uintptr
	repacked := 0
	for _, w := range m.projections() {
		var p []byte
		switch {
		case w.Q4KR4 != nil:
			p = unsafe.Slice((*byte)(unsafe.Pointer(&w.Q4KR4[0])), len(w.Q4KR4)*kernels.BlockQ4KR4Size)
		case w.Q6KR4 != nil:
			p = unsafe.Slice((*byte)(unsafe.Pointer(&w.Q6KR4[0])), len(w.Q6KR4)*kernels.BlockQ6KR4Size)
		default:
			if w.Type == gguf.TypeQ4_K && w.Rows%4 == 0 {
				t.Fatalf("%s (Q4_K, %d rows) not repacked", w.Name, w.Rows)
			}
			continue
		}
		repacked++
		a := uintptr(unsafe.Pointer(&p[0]))
		if a%64 != 0 || (end != 0 && a < end) {
			t.Fatalf("%s at %#x: misaligned or overlapping the previous copy (ends %#x)", w.Name, a, end)
		}
		end = a + uintptr(len(p))
		alone := &Matrix{Name: w.Name, Type: w.Type, Rows: w.Rows, Cols: w.Cols, RowBytes: w.RowBytes, Data: w.Data}
		alone.RepackR4()
		var q []byte
		if alone.Q4KR4 != nil {
			q = unsafe.Slice((*byte)(unsafe.Pointer(&alone.Q4KR4[0])), len(alone.Q4KR4)*kernels.BlockQ4KR4Size)
		} else {
			q = unsafe.Slice((*byte)(unsafe.Pointer(&alone.Q6KR4[0])), len(alone.Q6KR4)*kernels.BlockQ6KR4Size)
		}
		if string(p) != string(q) {
			t.Fatalf("%s: arena copy differs from RepackR4's", w.Name)
		}
		alone.Release()
		if alone.Q4KR4 != nil || alone.Q6KR4 != nil {
			t.Fatalf("%s: Release kept the copy", w.Name)
		}
	}
	if repacked == 0 {
		t.Fatal("nothing repacked")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for _, w := range m.projections() {
		if w.Q4KR4 != nil || w.Q6KR4 != nil {
			t.Fatalf("%s: still repacked after Close", w.Name)
		}
	}
}

// Every verification size (2..13 tokens: the repacked GEMM takes 2-3 as
// one 2- or 3-column call, 4-13 as 8/4 steps with tails), with the
// default row tiles and with 12-row ones (three groups a work item), on
// both weight layouts gives the logits of the same tokens fed one at a
// time, bit for bit (TestSmallBatchesEqualTokenByToken covers sequences
// of batches).
func TestVerifyBatchesOnBothLayouts(t *testing.T) {
	m, err := Load(testutil.Golden(t, "llama-Q4_K_M.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	prompt := make([]int32, 40)
	for i := range prompt {
		prompt[i] = int32(3 + (i*37)%1000)
	}
	for _, f := range []Features{{}, {NoRepack: true}} {
		for _, tiles := range []Tiles{{}, {Rows: 12}} {
			for T := 2; T <= 13; T++ {
				batch := evalAfterTiles(t, m, f, tiles, prompt[:27], prompt[27:27+T], true)
				single := evalAfterTiles(t, m, f, tiles, prompt[:27], prompt[27:27+T], false)
				for i := range batch {
					if batch[i] != single[i] {
						t.Fatalf("repacked=%v tiles %+v T=%d: logit %d is %v batched, %v token by token", !f.NoRepack, tiles, T, i, batch[i], single[i])
					}
				}
			}
		}
	}
}

// evalAfter evaluates ctx, then toks in one batch or one by one, and
// returns the logits of every token of toks.
func evalAfter(t *testing.T, m *Model, f Features, ctx, toks []int32, batched bool) []float32 {
	t.Helper()
	return evalAfterTiles(t, m, f, Tiles{}, ctx, toks, batched)
}

// evalAfterTiles is evalAfter with the session's matmul tiles.
func evalAfterTiles(t *testing.T, m *Model, f Features, tiles Tiles, ctx, toks []int32, batched bool) []float32 {
	t.Helper()
	s, err := m.NewSession(SessionOptions{Context: 64, Features: f, Tiles: tiles})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Eval(ctx, false); err != nil {
		t.Fatal(err)
	}
	if batched {
		lg, err := s.Eval(toks, true)
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), lg...)
	}
	var out []float32
	for _, tok := range toks {
		lg, err := s.Eval([]int32{tok}, false)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, lg...)
	}
	return out
}
