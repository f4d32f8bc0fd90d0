package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"asdsl-bench/kernels"
)

// BenchmarkFlashDecode: one decode token's flash attention over the
// Q8_0 cache at depth, all KV heads of one layer on one thread, in the
// TinyLlama (head 64, 32 query heads over 4 KV heads) and Llama-2-7B
// (head 128, 32 over 32) shapes. ns/op is one layer; the layers of a
// model multiply it (22 for TinyLlama, 32 for 7B), the threads divide
// it.
func BenchmarkFlashDecode(b *testing.B) {
	for _, sh := range []struct {
		name               string
		hd, heads, kvHeads int
	}{{"tinyllama", 64, 32, 4}, {"llama2-7b", 128, 32, 32}} {
		for _, depth := range []int{512, 1920} {
			cfg := Config{NLayer: 1, NHead: sh.heads, NHeadKV: sh.kvHeads, HeadDim: sh.hd, NEmbd: sh.heads * sh.hd}
			r := rand.New(rand.NewPCG(1, 2))
			c := newQ8Cache(cfg, depth+1, kernels.Active())
			row := func(n int) []float32 {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				return x
			}
			for p := 0; p <= depth; p++ {
				c.Put(0, p, row(cfg.KVDim()), row(cfg.KVDim()))
			}
			q, out := row(sh.heads*sh.hd), make([]float32, sh.heads*sh.hd)
			sc := c.NewScratch()
			b.Run(fmt.Sprintf("%s-d%d", sh.name, depth), func(b *testing.B) {
				for b.Loop() {
					for h := 0; h < sh.kvHeads; h++ {
						c.Attend(0, h, depth, 1, q, out, sh.heads*sh.hd, sc)
					}
				}
				tiles := sh.kvHeads * (depth + flashKeys) / flashKeys
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tiles), "ns/tile")
			})
		}
	}
}
