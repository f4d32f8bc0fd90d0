package engine

import (
	"math"

	"asdsl-bench/kernels"
)

// Tiled flash attention over an int8 KV cache (roadmap phase 5).
//
// Keys and values are stored as Q8_0 (32 int8 values and one scale per
// block), a quarter of f32's bytes: at long contexts decode reads the
// cache as much as the weights. The scales are fp16 — the format
// llama.cpp's q8_0 cache uses, so the kvq8fa golden fixtures check the
// arithmetic — widened to f32 once per block inside the kernels.
//
// Like llama.cpp's quantized caches (since its PR 21038), keys, queries
// and values are rotated by an orthonormal Hadamard matrix before they
// are quantized: a rotation leaves q·k unchanged, and the output, a
// weighted sum of rotated values, is rotated back. It spreads outlier
// channels over the whole block, so one int8 scale fits them better.
// K and Q use the largest power-of-two block (≥ 64) dividing the head
// size, V blocks of 64; heads not a multiple of 64 are not rotated.
//
// Attention runs per (KV head, block of flashQueries tokens): every
// query head of the group, for every token of the block, walks the keys
// in tiles of flashKeys positions, so a tile (2 × 64 × 136 bytes at
// head size 128) is read from memory once and reused from L1 by up to
// flashQueries × group queries. Softmax is online: a running maximum m
// and sum l per query; when a tile raises m, the partial output and l are
// scaled by exp(m_old − m_new). Tiles start at absolute positions
// (0, 64, ...), so a query's arithmetic does not depend on which tokens
// share its batch: prefill and token-by-token decode give bit-identical
// results.
const (
	flashKeys    = 64
	flashQueries = 16
)

// q8Cache keeps keys and values as Q8_0 blocks, [layer][KV head][pos]
// [headDim/32]: a KV head's positions are contiguous, so a tile of keys
// or values is one sequential stream that the hardware prefetcher
// follows. (Position-major rows put one head's 68-byte rows 4-8 heads
// apart; at depth 1920 on the TinyLlama mock attention then streamed
// about 3 GB/s and cost 10 ms a token.)
type q8Cache struct {
	ops     *kernels.Ops // the session's kernels
	cfg     Config
	cap     int
	k, v    [][]kernels.BlockQ8_0
	scale   float32
	groupSz int
	rowBlks int // blocks per position (all KV heads)
	headBlk int // blocks per head
	kRot    int // Hadamard block for keys and queries (0: none)
	vRot    int // Hadamard block for values (0: none)
	rowBuf  []float32
	rowQ    []kernels.BlockQ8_0 // one position's quantized row, all heads
}

// hadamardBlocks picks llama.cpp's rotation sizes for a head size.
func hadamardBlocks(hd int) (kRot, vRot int) {
	if hd%64 != 0 {
		return 0, 0
	}
	kRot = 64
	for hd%(2*kRot) == 0 {
		kRot *= 2
	}
	return kRot, 64
}

// hadamard rotates x in blocks of n (0: not at all) with the table's
// kernel (kernels.Hadamard is the twin).
func hadamard(ops *kernels.Ops, x []float32, n int) {
	if n > 0 {
		ops.Hadamard(x, n)
	}
}

// flashFits reports whether the model's head size suits Q8_0 blocks.
func flashFits(cfg Config) bool { return cfg.FlashFits() }

// FlashFits reports whether the model's heads fit the Q8_0 cache's
// 32-value blocks; other models always use the f32 cache.
func (c *Config) FlashFits() bool { return c.HeadDim%kernels.QK8_0 == 0 }

func newQ8Cache(cfg Config, capacity int, ops *kernels.Ops) *q8Cache {
	c := &q8Cache{ops: ops, cfg: cfg, cap: capacity, scale: float32(1 / math.Sqrt(float64(cfg.HeadDim))),
		groupSz: cfg.NHead / cfg.NHeadKV, rowBlks: cfg.KVDim() / kernels.QK8_0, headBlk: cfg.HeadDim / kernels.QK8_0,
		rowBuf: make([]float32, cfg.KVDim()), rowQ: make([]kernels.BlockQ8_0, cfg.KVDim()/kernels.QK8_0)}
	c.kRot, c.vRot = hadamardBlocks(cfg.HeadDim)
	c.k = make([][]kernels.BlockQ8_0, cfg.NLayer)
	c.v = make([][]kernels.BlockQ8_0, cfg.NLayer)
	for l := range c.k {
		c.k[l] = make([]kernels.BlockQ8_0, capacity*c.rowBlks)
		c.v[l] = make([]kernels.BlockQ8_0, capacity*c.rowBlks)
	}
	return c
}

func (c *q8Cache) Capacity() int { return c.cap }

// Put rotates the rows and quantizes them as llama.cpp stores an f32 row
// into a q8_0 cache (its x86 quantizer: d = amax/127, round half to
// even). Put runs on one thread (the session's contract), so one row
// buffer serves.
func (c *q8Cache) Put(layer, pos int, k, v []float32) {
	copy(c.rowBuf, k)
	hadamard(c.ops, c.rowBuf, c.kRot) // head size is a multiple of kRot
	c.store(c.k[layer], pos)
	copy(c.rowBuf, v)
	hadamard(c.ops, c.rowBuf, c.vRot)
	c.store(c.v[layer], pos)
}

// store quantizes rowBuf (Q8_0 blocks are independent, so quantizing the
// whole row and splitting it by head gives each head's blocks) and puts
// each head's blocks at its own position.
func (c *q8Cache) store(dst []kernels.BlockQ8_0, pos int) {
	c.ops.QuantizeRowQ8_0(c.rowBuf, c.rowQ)
	nb := c.headBlk
	for h := 0; h < c.cfg.NHeadKV; h++ {
		copy(dst[c.at(h, pos):c.at(h, pos)+nb], c.rowQ[h*nb:(h+1)*nb])
	}
}

// at is the index of KV head h's first block at position pos.
func (c *q8Cache) at(h, pos int) int { return (h*c.cap + pos) * c.headBlk }

func (c *q8Cache) NewScratch() *attnScratch {
	n := flashQueries * c.groupSz
	return &attnScratch{scores: isolated(c.groupSz * flashKeys), m: isolated(n), l: isolated(n),
		mt: isolated(c.groupSz), sums: isolated(c.groupSz),
		q8: make([]kernels.BlockQ8_0, n*c.headBlk), qrot: isolated(c.cfg.HeadDim),
		vtile: isolated(flashKeys * c.cfg.HeadDim)}
}

// Attend: T may exceed flashQueries (the caller normally splits by it);
// longer ranges are done a block at a time.
func (c *q8Cache) Attend(layer, kvh, pos0, T int, q, out []float32, qStride int, sc *attnScratch) {
	for t0 := 0; t0 < T; t0 += flashQueries {
		n := min(flashQueries, T-t0)
		c.attendBlock(layer, kvh, pos0+t0, n, q[t0*qStride:], out[t0*qStride:], qStride, sc)
	}
}

func (c *q8Cache) attendBlock(layer, kvh, pos0, T int, q, out []float32, qStride int, sc *attnScratch) {
	ops := c.ops
	hd, g, nb, stride := c.cfg.HeadDim, c.groupSz, c.headBlk, c.headBlk
	ks, vs := c.k[layer], c.v[layer]
	// Queries are quantized to Q8_0 as llama.cpp converts Q to the key
	// type's dot-product type; their outputs start at zero.
	for t := 0; t < T; t++ {
		for i := 0; i < g; i++ {
			o, qi := t*qStride+(kvh*g+i)*hd, t*g+i
			copy(sc.qrot, q[o:o+hd])
			hadamard(c.ops, sc.qrot, c.kRot)
			ops.QuantizeRowQ8_0(sc.qrot, sc.q8[qi*nb:(qi+1)*nb])
			sc.m[qi], sc.l[qi] = float32(math.Inf(-1)), 0
			clear(out[o : o+hd])
		}
	}
	for k0 := 0; k0 < pos0+T; k0 += flashKeys {
		kt, vt := ks[c.at(kvh, k0):], vs[c.at(kvh, k0):]
		// The value tile, widened once for every query of the block.
		ops.DequantQ8_0Rows(sc.vtile, vt, stride, min(flashKeys, pos0+T-k0), hd)
		for t := 0; t < T; t++ {
			n := min(flashKeys, pos0+t+1-k0) // causal: keys up to pos0+t
			if n <= 0 {
				continue
			}
			// The group's queries meet each key once (one kernel call).
			scores, m, l := sc.scores[:g*n], sc.m[t*g:(t+1)*g], sc.l[t*g:(t+1)*g]
			ops.DotQ8_0RowsHeads(scores, n, kt, stride, sc.q8[t*g*nb:(t+1)*g*nb], g)
			// Online softmax, every head at once: scale and running max,
			// then (rarely, once the maximum settles) rescale what earlier
			// tiles added, then the exponentials and their sums.
			ops.ScaleMaxF32Heads(scores, g, c.scale, m, sc.mt)
			for i, mt := range sc.mt[:g] {
				if mt > m[i] {
					if l[i] != 0 {
						o := t*qStride + (kvh*g+i)*hd
						alpha := kernels.ExpF32(m[i] - mt)
						l[i] *= alpha
						for d := range out[o : o+hd] {
							out[o+d] *= alpha
						}
					}
					m[i] = mt
				}
			}
			ops.ExpSubF32Heads(scores, g, m, sc.sums)
			for i, e := range sc.sums[:g] {
				l[i] += e
			}
			// Every head's weighted values in one pass over the tile.
			o := t*qStride + kvh*g*hd
			ops.AxpyF32RowsHeads(out[o:o+g*hd], g, scores, sc.vtile[:n*hd])
		}
	}
	for t := 0; t < T; t++ {
		for i := 0; i < g; i++ {
			o, qi := t*qStride+(kvh*g+i)*hd, t*g+i
			inv := 1 / sc.l[qi]
			for d := range out[o : o+hd] {
				out[o+d] *= inv
			}
			hadamard(c.ops, out[o:o+hd], c.vRot) // values were stored rotated
		}
	}
}
