package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/pool"
	"asdsl-bench/kernels"
)

// BenchmarkPromptMatmul: a 7B-shaped Q4_K matmul (4096 rows × 4096 or
// 11008 columns, random weights, larger than L2) against a 512-token
// prompt on one thread, by path: the K-quant GEMMs, and panels whole-depth or in depth
// tiles of 4 super-blocks. GMAC/s is the figure
// to compare with asdsl-bench machine's int8 peak.
func BenchmarkPromptMatmul(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, cols := range []int{4096, 11008} {
		for _, T := range []int{32, 64, 512} {
			w := randMatrix(r, 4096, cols)
			x := make([]float32, T*cols)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			out := make([]float32, T*w.Rows)
			for _, c := range []struct {
				name  string
				tiles Tiles
			}{
				{"kquant", Tiles{Rows: 16, Tokens: 64, PanelMinTokens: 1 << 30}},
				{"panel", Tiles{Rows: 16, Tokens: 64, PanelMinTokens: 1}},
				{"panel-K4", Tiles{Rows: 16, Tokens: 64, PanelMinTokens: 1, K: 4}},
			} {
				b.Run(fmt.Sprintf("%dx%d-T%d-%s", w.Rows, cols, T, c.name), func(b *testing.B) {
					e := exec{pool: pool.New(1, nil), ops: kernels.Active(), tiles: c.tiles}
					for b.Loop() {
						e.matmul(out, w, x, T)
					}
					b.ReportMetric(float64(w.Rows)*float64(cols)*float64(T)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
				})
			}
		}
	}
}

// randMatrix is a Q4_K matrix of random blocks, repacked as a loaded
// model's is.
func randMatrix(r *rand.Rand, rows, cols int) *Matrix {
	return randMatrixOf(r, gguf.TypeQ4_K, rows, cols)
}

// randMatrixOf is a Q4_K, Q5_K or Q6_K matrix of random blocks with sane
// fp16 scales, repacked as a loaded model's is where the type has a
// repacked layout and the rows come in fours.
func randMatrixOf(r *rand.Rand, t gguf.GGMLType, rows, cols int) *Matrix {
	nb := cols / kernels.QK_K
	size := int(t.TypeSize())
	data := make([]byte, rows*nb*size)
	for i := range data {
		data[i] = byte(r.IntN(256))
	}
	scale := func() uint16 { return kernels.F32ToFP16(r.Float32() * 0.01) }
	switch t {
	case gguf.TypeQ4_K:
		bs := kernels.AsQ4K(data)
		for i := range bs {
			bs[i].D, bs[i].Dmin = scale(), scale()
		}
	case gguf.TypeQ5_K:
		bs := kernels.AsQ5K(data)
		for i := range bs {
			bs[i].D, bs[i].Dmin = scale(), scale()
		}
	case gguf.TypeQ6_K:
		bs := kernels.AsQ6K(data)
		for i := range bs {
			bs[i].D = scale()
		}
	}
	m := &Matrix{Name: t.String(), Type: t, Rows: rows, Cols: cols, RowBytes: nb * size, Data: data}
	m.RepackR4()
	return m
}

// BenchmarkSmallBatchMatmul: the matmuls of speculative verification
// and decode, T = 1..8 tokens, on eight 4096×4096 Q4_K matrices (75 MB,
// past the last-level cache, so weights stream from memory as in a 7B
// decode step), repacked, at 1 and 2 threads. Compare ns/op across T:
// the weights are read once either way, so a flat curve means the
// multiply-adds hide under the stream.
func BenchmarkSmallBatchMatmul(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	const n, cols = 8, 4096
	ws := make([]*Matrix, n)
	for i := range ws {
		ws[i] = randMatrix(r, 4096, cols)
	}
	x := make([]float32, 8*cols)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	out := make([]float32, 8*4096)
	for _, threads := range []int{1, 2} {
		for _, T := range []int{1, 2, 3, 4, 8} {
			b.Run(fmt.Sprintf("t%d-T%d", threads, T), func(b *testing.B) {
				e := exec{pool: pool.New(threads, nil), ops: kernels.Active(), tiles: DefaultTiles()}
				for b.Loop() {
					for _, w := range ws {
						e.matmul(out, w, x, T)
					}
				}
				b.ReportMetric(float64(n*ws[0].RowBytes*ws[0].Rows)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}
