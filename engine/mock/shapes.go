// Package mock writes GGUF models with random weights in the shapes of
// real models, so speed can be measured without downloading weights.
// Output is deterministic for a seed and is streamed tensor by tensor:
// memory stays bounded by one row chunk whatever the model size.
package mock

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Shape is a model family's hyper-parameters.
type Shape struct {
	Name     string
	Arch     string // llama or phi3
	Layers   int
	Embd     int
	FF       int
	Heads    int
	KVHeads  int
	Vocab    int
	Ctx      int
	RopeBase float32
}

// Shapes are the built-in model shapes.
var Shapes = map[string]Shape{
	"tiny":           {"tiny", "llama", 2, 256, 768, 4, 2, 1024, 2048, 10000},
	"tiny-phi3":      {"tiny-phi3", "phi3", 2, 256, 768, 4, 2, 1024, 2048, 10000},
	"small":          {"small", "llama", 4, 1024, 2816, 16, 4, 8000, 2048, 10000},
	"tinyllama-1.1b": {"tinyllama-1.1b", "llama", 22, 2048, 5632, 32, 4, 32000, 2048, 10000},
	"llama2-7b":      {"llama2-7b", "llama", 32, 4096, 11008, 32, 32, 32000, 4096, 10000},
	"phi3-mini":      {"phi3-mini", "phi3", 32, 3072, 8192, 32, 32, 32064, 4096, 10000},
	"phi4-14b":       {"phi4-14b", "phi3", 40, 5120, 17920, 40, 10, 100352, 16384, 250000},
	// Speculative drafts: a target's vocabulary on a much smaller body.
	// tinyllama-draft is "small" with TinyLlama's 32000 tokens (~25 MB
	// of Q4_K_M body, 3% of the target's decode bytes); phi4-draft is the
	// seed's "Phi-mini" draft for Phi-4: Phi-4's 100352-token vocabulary
	// and 128-wide heads on 10 layers of 3072 (1.6 B parameters, about
	// 0.9 GB in Q4_K_M).
	"tinyllama-draft": {"tinyllama-draft", "llama", 4, 1024, 2816, 16, 4, 32000, 2048, 10000},
	"phi4-draft":      {"phi4-draft", "phi3", 10, 3072, 8192, 24, 8, 100352, 16384, 250000},
}

// ShapeNames lists the shapes, sorted.
func ShapeNames() []string {
	return slices.Sorted(maps.Keys(Shapes))
}

// Lookup finds a shape by name.
func Lookup(name string) (Shape, error) {
	s, ok := Shapes[strings.ToLower(name)]
	if !ok {
		return s, fmt.Errorf("unknown shape %q (known: %s)", name, strings.Join(ShapeNames(), ", "))
	}
	return s, nil
}

// Params is the number of weights in the shape.
func (s Shape) Params() int64 {
	hd := s.Embd / s.Heads
	attn := int64(s.Embd) * int64(s.Embd+2*s.KVHeads*hd) // q, k, v
	attn += int64(s.Embd) * int64(s.Embd)                // output
	ffn := 3 * int64(s.Embd) * int64(s.FF)
	return int64(s.Layers)*(attn+ffn+2*int64(s.Embd)) + 2*int64(s.Vocab)*int64(s.Embd) + int64(s.Embd)
}
