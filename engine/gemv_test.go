package engine

import (
	"math/rand/v2"
	"testing"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/kernels"
)

// MulEachBatch gives every token column exactly the GEMV's product of
// that column (the repacked GEMMs and the GEMVs are bit-identical to the
// same dot products), for every batch width the GEMMs take, on odd row
// counts, through three matrices (Q4_K twice, Q5_K) in one hand-over.
func TestMulEachBatchMatchesMul(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	// Q4_K (repacked) and Q5_K (dots; the 4-column GEMM from 4 tokens).
	ws := []*Matrix{randMatrix(r, 36, 512), randMatrix(r, 44, 768), randQ5KMatrix(r, 37, 768)}
	g, err := NewGEMV(2)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	const cols = 768
	for _, T := range []int{1, 2, 3, 4, 5, 8} {
		x := make([]float32, T*cols)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for _, w := range ws {
			xs := make([]float32, T*w.Cols) // T columns of this matrix's width
			for c := 0; c < T; c++ {
				copy(xs[c*w.Cols:(c+1)*w.Cols], x[c*cols:])
			}
			got := make([]float32, T*w.Rows)
			if err := g.MulEachBatch(got, []*Matrix{w}, xs, T); err != nil {
				t.Fatal(err)
			}
			want := make([]float32, w.Rows)
			for c := 0; c < T; c++ {
				if err := g.Mul(want, w, xs[c*w.Cols:(c+1)*w.Cols]); err != nil {
					t.Fatal(err)
				}
				for i, v := range want {
					if got[c*w.Rows+i] != v {
						t.Fatalf("T=%d %dx%d: column %d row %d: batch %g, GEMV %g", T, w.Rows, w.Cols, c, i, got[c*w.Rows+i], v)
					}
				}
			}
		}
	}
	if err := g.MulEachBatch(make([]float32, 10), ws[:1], make([]float32, 2*512), 2); err == nil {
		t.Error("a short output was accepted")
	}
	if err := g.MulEachBatch(nil, ws[:1], nil, 0); err == nil {
		t.Error("a batch of 0 tokens was accepted")
	}
}

// randQ5KMatrix is a Q5_K matrix of random blocks with sane fp16 scales.
func randQ5KMatrix(r *rand.Rand, rows, cols int) *Matrix {
	nb := cols / kernels.QK_K
	data := make([]byte, rows*nb*kernels.BlockQ5KSize)
	for i := range data {
		data[i] = byte(r.IntN(256))
	}
	blocks := kernels.AsQ5K(data)
	for i := range blocks {
		blocks[i].D = kernels.F32ToFP16(r.Float32() * 0.01)
		blocks[i].Dmin = kernels.F32ToFP16(r.Float32() * 0.01)
	}
	return &Matrix{Name: "q5k", Type: gguf.TypeQ5_K, Rows: rows, Cols: cols, RowBytes: nb * kernels.BlockQ5KSize, Data: data}
}
