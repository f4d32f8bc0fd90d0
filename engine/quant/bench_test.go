package quant_test

import (
	"io"
	"path/filepath"
	"testing"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/mock"
	"asdsl-bench/engine/quant"
)

// BenchmarkQuantizeFile: whole-model Q4_K_M quantization of a 2-layer
// F32 model with TinyLlama-sized matrices (about 37M weights), at 1 and 2
// threads. Reports weights/s.
func BenchmarkQuantizeFile(b *testing.B) {
	shape := mock.Shape{Name: "bench", Arch: "llama", Layers: 2, Embd: 2048, FF: 5632, Heads: 32, KVHeads: 4, Vocab: 1024, Ctx: 2048, RopeBase: 10000}
	path := filepath.Join(b.TempDir(), "f32.gguf")
	if err := mock.WriteFile(path, mock.Options{Shape: shape, Type: gguf.TypeF32, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	in, err := gguf.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	for _, threads := range []int{1, 2} {
		b.Run(map[int]string{1: "threads=1", 2: "threads=2"}[threads], func(b *testing.B) {
			var weights uint64
			for b.Loop() {
				rep, err := quant.Stream(in, io.Discard, quant.Options{Type: quant.FileQ4_KM, Threads: threads})
				if err != nil {
					b.Fatal(err)
				}
				weights += rep.Weights
			}
			b.ReportMetric(float64(weights)/b.Elapsed().Seconds(), "weights/s")
		})
	}
}
