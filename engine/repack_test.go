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
		case w.R4 != nil:
			p = unsafe.Slice((*byte)(unsafe.Pointer(&w.R4[0])), len(w.R4)*kernels.BlockQ4KR4Size)
		case w.R6 != nil:
			p = unsafe.Slice((*byte)(unsafe.Pointer(&w.R6[0])), len(w.R6)*kernels.BlockQ6KR4Size)
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
		if alone.R4 != nil {
			q = unsafe.Slice((*byte)(unsafe.Pointer(&alone.R4[0])), len(alone.R4)*kernels.BlockQ4KR4Size)
		} else {
			q = unsafe.Slice((*byte)(unsafe.Pointer(&alone.R6[0])), len(alone.R6)*kernels.BlockQ6KR4Size)
		}
		if string(p) != string(q) {
			t.Fatalf("%s: arena copy differs from RepackR4's", w.Name)
		}
		alone.Release()
		if alone.R4 != nil || alone.R6 != nil {
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
		if w.R4 != nil || w.R6 != nil {
			t.Fatalf("%s: still repacked after Close", w.Name)
		}
	}
}
