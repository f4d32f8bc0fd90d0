package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkRMSNorm: one token's norm at TinyLlama's and Llama-2-7B's
// widths (a decode step runs two per layer; a batch of T, 2T).
func BenchmarkRMSNorm(b *testing.B) {
	for _, d := range []int{2048, 4096} {
		x, w, out := make([]float32, d), make([]float32, d), make([]float32, d)
		for i := range x {
			x[i], w[i] = float32(i%13)-6, 1+float32(i%5)/8
		}
		b.Run(fmt.Sprint(d), func(b *testing.B) {
			for b.Loop() {
				rmsNorm(out, x, w, 1e-5)
			}
			b.ReportMetric(float64(4*d)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// rmsNorm's four float64 chains give ggml's single-chain result to the
// bit, on odd lengths and on the model widths.
func TestRMSNormLikeGGML(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{1, 3, 4, 7, 33, 255, 2048, 4096, 5120} {
		for rep := 0; rep < 20; rep++ {
			x, w := make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64() * math.Exp(4*r.Float64()-2))
				w[i] = float32(r.NormFloat64())
			}
			var sum float64
			for _, v := range x {
				sum += float64(v * v)
			}
			mean := float32(sum / float64(n))
			scale := 1 / float32(math.Sqrt(float64(mean+1e-5)))
			got := make([]float32, n)
			rmsNorm(got, x, w, 1e-5)
			for i, v := range x {
				if want := v * scale * w[i]; got[i] != want {
					t.Fatalf("n=%d: element %d is %g, ggml's order gives %g", n, i, got[i], want)
				}
			}
		}
	}
}
