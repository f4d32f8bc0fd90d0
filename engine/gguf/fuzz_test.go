package gguf

import (
	"os"
	"testing"

	"asdsl-bench/internal/testutil"
)

// FuzzParse: any byte string parses or fails with an error; tensor views
// of a parsed file stay inside the input.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"llama-Q4_K_M.gguf", "phi3-Q8_0.gguf"} {
		raw, err := os.ReadFile(testutil.Golden(f, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
		f.Add(raw[:4096])
	}
	f.Add([]byte("GGUF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data)
		if err != nil {
			return
		}
		for i := range g.Tensors {
			_ = g.TensorData(&g.Tensors[i])
		}
		for _, kv := range g.Meta.KVs {
			_ = kv.Value.Format()
		}
	})
}
