package engine

import (
	"math/rand/v2"
	"testing"

	"asdsl-bench/engine/gguf"
)

// MulEachBatch gives every token column exactly the GEMV's product of
// that column (the repacked GEMMs and the GEMVs are bit-identical to the
// same dot products), for every batch width the GEMMs take, on odd row
// counts, through Q4_K and Q6_K matrices (repacked) and a Q5_K one.
func TestMulEachBatchMatchesMul(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	// Q4_K and Q6_K (repacked) and Q5_K (dots; the 4-column GEMM from 4
	// tokens).
	ws := []*Matrix{randMatrix(r, 36, 512), randMatrix(r, 44, 768), randMatrixOf(r, gguf.TypeQ6_K, 40, 768), randMatrixOf(r, gguf.TypeQ5_K, 37, 768)}
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
