package engine

import (
	"bytes"
	"testing"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/internal/numerics"
	"asdsl-bench/internal/testutil"
)

// Our Q4_K / Q6_K quantizers on the fixture F32 weights against
// llama-quantize's output for the same tensors: per tensor, the RMSE of
// our decoded weights must be no worse than llama.cpp's, and we report how
// many blocks are byte-identical. They all are (the stretch goal of the
// quantizer issue), so any drift from llama-quantize's bytes fails too.
func TestQuantizerAgainstLlamaQuantize(t *testing.T) {
	for _, c := range []struct{ arch, file string }{{"llama", "Q4_K_M"}, {"phi3", "Q4_K_M"}, {"llama", "Q8_0"}, {"phi3", "Q8_0"}} {
		arch := c.arch
		src, err := gguf.Open(testutil.Golden(t, arch+"-f32.gguf"))
		if err != nil {
			t.Fatal(err)
		}
		ref, err := gguf.Open(testutil.Golden(t, arch+"-"+c.file+".gguf"))
		if err != nil {
			t.Fatal(err)
		}
		for _, rt := range ref.Tensors {
			if rt.Type != gguf.TypeQ4_K && rt.Type != gguf.TypeQ6_K && rt.Type != gguf.TypeQ8_0 {
				continue
			}
			st, _ := src.Tensor(rt.Name)
			x := make([]float32, st.Elements())
			DequantizeRows(gguf.TypeF32, src.TensorData(st), x)
			refBytes := ref.TensorData(&rt)
			enc := make([]byte, len(refBytes))
			if err := QuantizeRows(rt.Type, x, enc); err != nil {
				t.Fatal(err)
			}
			ours := make([]float32, len(x))
			theirs := make([]float32, len(x))
			DequantizeRows(rt.Type, enc, ours)
			DequantizeRows(rt.Type, refBytes, theirs)
			bs := int(rt.Type.TypeSize())
			same := 0
			for i := 0; i < len(enc); i += bs {
				if bytes.Equal(enc[i:i+bs], refBytes[i:i+bs]) {
					same++
				}
			}
			rO, rT := numerics.RMSE(x, ours), numerics.RMSE(x, theirs)
			t.Logf("%s %-26s %s rmse ours %.6g llama.cpp %.6g, identical blocks %d/%d", arch, rt.Name, rt.Type, rO, rT, same, len(enc)/bs)
			if rO > rT*(1+1e-6) {
				t.Errorf("%s %s: our RMSE %.6g is worse than llama.cpp's %.6g", arch, rt.Name, rO, rT)
			}
			if same != len(enc)/bs {
				t.Errorf("%s %s: %d of %d blocks differ from llama-quantize's", arch, rt.Name, len(enc)/bs-same, len(enc)/bs)
			}
		}
		src.Close()
		ref.Close()
	}
}
