// Package engine runs transformer language models stored as GGUF files:
// weights stay in the memory-mapped file, activations are quantized per
// matmul the way llama.cpp does, and all arithmetic goes through package
// kernels.
package engine

import (
	"fmt"

	"asdsl-bench/engine/gguf"
)

// Config holds a model's hyper-parameters, read from GGUF metadata.
type Config struct {
	Arch     string
	NEmbd    int
	NLayer   int
	NFF      int
	NHead    int
	NHeadKV  int
	HeadDim  int
	NVocab   int
	NCtx     int // trained context length
	RopeDim  int // rotated dims per head (<= HeadDim)
	RopeBase float32
	RopeNeox bool // rotate halves (NEOX) instead of adjacent pairs
	NormEps  float32
}

// QDim is the width of the query projection.
func (c *Config) QDim() int { return c.NHead * c.HeadDim }

// KVDim is the width of the key (and value) projection.
func (c *Config) KVDim() int { return c.NHeadKV * c.HeadDim }

func readConfig(f *gguf.File, arch string, neox bool) (Config, error) {
	c := Config{Arch: arch, RopeNeox: neox}
	m := &f.Meta
	geti := func(key string, dst *int, def int) error {
		v, err := m.UintOr(arch+"."+key, uint64(def))
		if err != nil {
			return err
		}
		if def < 0 && v == uint64(def) {
			return fmt.Errorf("metadata key %q is missing", arch+"."+key)
		}
		if v > 1<<24 {
			return fmt.Errorf("metadata key %q = %d is absurd", arch+"."+key, v)
		}
		*dst = int(v)
		return nil
	}
	const required = -1
	for _, g := range []struct {
		key string
		dst *int
		def int
	}{
		{"embedding_length", &c.NEmbd, required},
		{"block_count", &c.NLayer, required},
		{"feed_forward_length", &c.NFF, required},
		{"attention.head_count", &c.NHead, required},
		{"context_length", &c.NCtx, 2048},
	} {
		if err := geti(g.key, g.dst, g.def); err != nil {
			return c, err
		}
	}
	if c.NEmbd == 0 || c.NLayer == 0 || c.NHead == 0 || c.NFF == 0 {
		return c, fmt.Errorf("model has a zero dimension (embd %d, layers %d, heads %d, ffn %d)", c.NEmbd, c.NLayer, c.NHead, c.NFF)
	}
	if err := geti("attention.head_count_kv", &c.NHeadKV, c.NHead); err != nil {
		return c, err
	}
	if c.NHeadKV == 0 || c.NHead%c.NHeadKV != 0 {
		return c, fmt.Errorf("head_count %d is not a multiple of head_count_kv %d", c.NHead, c.NHeadKV)
	}
	if c.NEmbd%c.NHead != 0 {
		return c, fmt.Errorf("embedding_length %d is not a multiple of head_count %d", c.NEmbd, c.NHead)
	}
	c.HeadDim = c.NEmbd / c.NHead
	if err := geti("rope.dimension_count", &c.RopeDim, c.HeadDim); err != nil {
		return c, err
	}
	if c.RopeDim > c.HeadDim || c.RopeDim%2 != 0 {
		return c, fmt.Errorf("rope.dimension_count %d does not fit head size %d", c.RopeDim, c.HeadDim)
	}
	base, err := m.FloatOr(arch+".rope.freq_base", 10000)
	if err != nil {
		return c, err
	}
	eps, err := m.FloatOr(arch+".attention.layer_norm_rms_epsilon", 1e-5)
	if err != nil {
		return c, err
	}
	c.RopeBase, c.NormEps = float32(base), float32(eps)
	if c.NCtx == 0 {
		return c, fmt.Errorf("metadata key %q is 0: the model's trained context is unknown", arch+".context_length")
	}
	return c, nil
}
