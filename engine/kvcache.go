package engine

import (
	"math"

	"asdsl-bench/kernels"
)

// KVCache stores the keys and values of past positions for every layer
// and answers attention queries over them: f32Cache (f32 storage, one
// query at a time) and q8Cache (Q8_0 storage, tiled flash attention).
//
// Concurrency contract: one session owns its cache; Attend calls for
// different KV heads of the same layer, or different token ranges, may
// run concurrently; Put may not run concurrently with Attend.
type KVCache interface {
	// Capacity is the number of positions the cache can hold.
	Capacity() int
	// Put stores k and v (each KVDim floats) for layer at position pos.
	Put(layer, pos int, k, v []float32)
	// Attend runs causal attention for the query heads that share KV
	// head kvh, for T consecutive tokens: token t is at position pos0+t
	// and sees positions 0..pos0+t. Query head h of token t is
	// q[t·qStride+h·HeadDim:][:HeadDim]; its result goes to the same
	// place in out. sc is the calling thread's scratch.
	Attend(layer, kvh, pos0, T int, q, out []float32, qStride int, sc *attnScratch)
	// NewScratch allocates one thread's scratch for Attend.
	NewScratch() *attnScratch
}

// attnScratch is one thread's working memory for KVCache.Attend.
type attnScratch struct {
	scores []float32           // the group's scores over a key tile, query by query
	m, l   []float32           // per query: running max and softmax sum
	mt     []float32           // per head of the group: a tile's max
	sums   []float32           // per head of the group: a tile's exponentials' sum
	q8     []kernels.BlockQ8_0 // the queries quantized, flashQueries of them
	qrot   []float32           // one query, rotated
	vtile  []float32           // one value tile of one KV head, widened
}

// isolated is n float32s with 128 bytes of unused memory on each side.
// Workers' scratch slices are small and allocated one after another, so
// the allocator would place one worker's running maxima and sums in the
// cache lines of the other's; written every key tile, such a line would
// bounce between the cores.
func isolated(n int) []float32 {
	const pad = 32
	return make([]float32, pad+n+pad)[pad : pad+n : pad+n]
}

// f32Cache keeps keys and values as float32, [layer][pos][kvDim].
type f32Cache struct {
	ops     *kernels.Ops // the session's kernels
	cfg     Config
	cap     int
	k, v    [][]float32
	scale   float32
	groupSz int
}

func newF32Cache(cfg Config, capacity int, ops *kernels.Ops) *f32Cache {
	c := &f32Cache{ops: ops, cfg: cfg, cap: capacity, scale: float32(1 / math.Sqrt(float64(cfg.HeadDim))), groupSz: cfg.NHead / cfg.NHeadKV}
	c.k = make([][]float32, cfg.NLayer)
	c.v = make([][]float32, cfg.NLayer)
	for l := range c.k {
		c.k[l] = make([]float32, capacity*cfg.KVDim())
		c.v[l] = make([]float32, capacity*cfg.KVDim())
	}
	return c
}

func (c *f32Cache) Capacity() int { return c.cap }

func (c *f32Cache) Put(layer, pos int, k, v []float32) {
	d := c.cfg.KVDim()
	copy(c.k[layer][pos*d:(pos+1)*d], k)
	copy(c.v[layer][pos*d:(pos+1)*d], v)
}

func (c *f32Cache) NewScratch() *attnScratch {
	return &attnScratch{scores: isolated(c.cap)}
}

// Attend answers one query at a time: all scores, softmax, weighted sum.
func (c *f32Cache) Attend(layer, kvh, pos0, T int, q, out []float32, qStride int, sc *attnScratch) {
	hd := c.cfg.HeadDim
	for t := 0; t < T; t++ {
		for h := kvh * c.groupSz; h < (kvh+1)*c.groupSz; h++ {
			o := t*qStride + h*hd
			c.attend(layer, kvh, q[o:o+hd], pos0+t+1, out[o:o+hd], sc.scores)
		}
	}
}

func (c *f32Cache) attend(layer, kvh int, q []float32, n int, out, scratch []float32) {
	d, hd := c.cfg.KVDim(), c.cfg.HeadDim
	ks, vs := c.k[layer], c.v[layer]
	s := scratch[:n]
	dot := c.ops.DotF32 // SIMD, bit-identical to kernels.DotF32
	for j := 0; j < n; j++ {
		s[j] = dot(ks[j*d+kvh*hd:j*d+kvh*hd+hd], q) * c.scale
	}
	softmaxInPlace(s)
	clear(out[:hd])
	axpy := c.ops.AxpyF32 // SIMD, bit-identical to kernels.AxpyF32
	for j := 0; j < n; j++ {
		axpy(s[j], vs[j*d+kvh*hd:j*d+kvh*hd+hd], out[:hd])
	}
}
