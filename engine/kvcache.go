package engine

import (
	"math"

	"asdsl-bench/kernels"
)

// KVCache stores the keys and values of past positions for every layer
// and answers attention queries over them. Implementations differ in
// storage (f32 now; int8 with f32 scales in phase 5).
//
// Concurrency contract: one session owns its cache; calls for different
// heads of the same layer and position may run concurrently, Put may not
// run concurrently with Attend on the same layer.
type KVCache interface {
	// Capacity is the number of positions the cache can hold.
	Capacity() int
	// Put stores k and v (each KVDim floats) for layer at position pos.
	Put(layer, pos int, k, v []float32)
	// Attend computes, for query head h of q (HeadDim floats), the
	// softmax-weighted sum of values over positions [0, n) into out.
	// scratch must hold AttendScratch(n) floats and belongs to the caller's
	// thread.
	Attend(layer, h int, q []float32, n int, out, scratch []float32)
	// AttendScratch is the scratch size Attend needs for n positions.
	AttendScratch(n int) int
}

// f32Cache keeps keys and values as float32, [layer][pos][kvDim].
type f32Cache struct {
	cfg     Config
	cap     int
	k, v    [][]float32
	scale   float32
	groupSz int
}

func newF32Cache(cfg Config, capacity int) *f32Cache {
	c := &f32Cache{cfg: cfg, cap: capacity, scale: float32(1 / math.Sqrt(float64(cfg.HeadDim))), groupSz: cfg.NHead / cfg.NHeadKV}
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

func (c *f32Cache) AttendScratch(n int) int { return n }

func (c *f32Cache) Attend(layer, h int, q []float32, n int, out, scratch []float32) {
	d, hd := c.cfg.KVDim(), c.cfg.HeadDim
	kvh := h / c.groupSz // grouped-query attention: heads share a KV head
	ks, vs := c.k[layer], c.v[layer]
	s := scratch[:n]
	dot := kernels.Active().DotF32 // SIMD, bit-identical to kernels.DotF32
	for j := 0; j < n; j++ {
		s[j] = dot(ks[j*d+kvh*hd:j*d+kvh*hd+hd], q) * c.scale
	}
	softmaxInPlace(s)
	clear(out[:hd])
	axpy := kernels.Active().AxpyF32 // SIMD, bit-identical to kernels.AxpyF32
	for j := 0; j < n; j++ {
		axpy(s[j], vs[j*d+kvh*hd:j*d+kvh*hd+hd], out[:hd])
	}
}
