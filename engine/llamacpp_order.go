package engine

import (
	"asdsl-bench/kernels"
	"asdsl-bench/kernels/llamaorder"
)

// Features.LlamaCppOrder: the session computes in the float order of the
// llama.cpp build that made the golden fixtures (kernels/llamaorder),
// to match its logits to within 1e-4 mean KL on Q4_K_M files instead of
// 2-4e-4. It runs the generic kernels with llama.cpp's Q4_K order on the
// GGUF layout (no repack) and wraps the KV cache so that attention runs
// as llama.cpp runs it: plain attention over the f32 cache as
// ggml_vec_dot_f32, ggml_vec_soft_max_f32 and tinyBLAS's value sums;
// flash attention over the q8_0 cache one key at a time with libm's
// expf. Both are scalar Go, tens of times slower than the engine's
// kernels: a mode for checking parity, not for speed.

// llamaOrderCache wraps a session's cache for LlamaCppOrder.
func llamaOrderCache(c KVCache) KVCache {
	switch c := c.(type) {
	case *f32Cache:
		return llamaOrderF32{c}
	case *q8Cache:
		return llamaOrderQ8{c}
	}
	return c
}

// llamaOrderF32 is the f32 cache with attention in llama.cpp's order: the
// scores by ggml_vec_dot_f32, the scale as a separate multiply, its
// softmax, and each output value as tinyBLAS sums it over the
// transposed cache.
type llamaOrderF32 struct{ *f32Cache }

func (c llamaOrderF32) Attend(layer, kvh, pos0, T int, q, out []float32, qStride int, sc *attnScratch) {
	hd, d := c.cfg.HeadDim, c.cfg.KVDim()
	ks, vs := c.k[layer], c.v[layer]
	col := make([]float32, pos0+T)
	for t := 0; t < T; t++ {
		n := pos0 + t + 1
		for h := kvh * c.groupSz; h < (kvh+1)*c.groupSz; h++ {
			o := t*qStride + h*hd
			s := sc.scores[:n]
			for j := range s {
				s[j] = llamaorder.DotF32(ks[j*d+kvh*hd:][:hd], q[o:o+hd]) * c.scale
			}
			llamaorder.SoftMax(s)
			for i := 0; i < hd; i++ {
				for j := range s {
					col[j] = vs[j*d+kvh*hd+i]
				}
				out[o+i] = llamaorder.SgemmDot(col[:n], s)
			}
		}
	}
}

// llamaOrderQ8 is the q8_0 cache with flash attention in llama.cpp's
// one-key-at-a-time order (llamaorder.FlashAttend), the queries rotated
// and quantized and the outputs rotated back as the tiled path does.
type llamaOrderQ8 struct{ *q8Cache }

func (c llamaOrderQ8) Attend(layer, kvh, pos0, T int, q, out []float32, qStride int, sc *attnScratch) {
	hd, g, nb := c.cfg.HeadDim, c.groupSz, c.headBlk
	ks, vs := c.k[layer], c.v[layer]
	qq := make([]kernels.BlockQ8_0, nb)
	v32 := make([]float32, hd)
	key := func(j int) []kernels.BlockQ8_0 { return ks[c.at(kvh, j):][:nb] }
	value := func(j int) []kernels.BlockQ8_0 { return vs[c.at(kvh, j):][:nb] }
	for t := 0; t < T; t++ {
		for i := 0; i < g; i++ {
			o := t*qStride + (kvh*g+i)*hd
			copy(sc.qrot, q[o:o+hd])
			hadamard(c.ops, sc.qrot, c.kRot)
			c.ops.QuantizeRowQ8_0(sc.qrot, qq)
			llamaorder.FlashAttend(qq, pos0+t+1, key, value, c.scale, out[o:o+hd], v32)
			hadamard(c.ops, out[o:o+hd], c.vRot)
		}
	}
}
