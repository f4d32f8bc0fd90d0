package engine

import (
	"asdsl-bench/engine/gguf"
	"asdsl-bench/engine/pool"
	"asdsl-bench/kernels"
)

// actBuf holds one batch of activations converted to the "vec dot type"
// of a weight type, as ggml does before a matmul: Q8_K for K-quants, Q8_0
// for Q8_0, fp16/bf16 for half weights, float32 for F32. Buffers grow and
// are reused across calls.
type actBuf struct {
	xsum []float32 // float variant: sums of each 32 activations
	q8k  []kernels.BlockQ8K
	// q8kR4 is q8k in the order the repacked Q4_K kernels read
	// (kernels.Q8KToR4Order), made when a repacked Q4_K matrix takes the
	// batch; q8kR6 the same for repacked Q6_K (kernels.Q8KToQ6R4Order).
	// The GGUF rows' kernels and the panels read q8k.
	q8kR4, q8kR6 []kernels.BlockQ8K
	q80          []kernels.BlockQ8_0
	u16          []uint16
	cols         int
	// quant is the Q8_K conversion task, kept here so a decode step
	// allocates nothing.
	quant quantTask
}

// quantTask quantizes tokens [j0, j1) of a batch to Q8_K.
type quantTask struct {
	o                 *kernels.Ops
	x                 []float32
	q8k, q8kR4, q8kR6 []kernels.BlockQ8K // q8kR4, q8kR6 nil: not wanted
	cols, nb          int
}

func (q *quantTask) Run(_, j0, j1 int) {
	for i := j0; i < j1; i++ {
		b := q.q8k[i*q.nb : (i+1)*q.nb]
		q.o.QuantizeRowQ8K(q.x[i*q.cols:(i+1)*q.cols], b)
		if q.q8kR4 != nil {
			kernels.Q8KToR4Order(q.q8kR4[i*q.nb:(i+1)*q.nb], b) // while b is in L1
		}
		if q.q8kR6 != nil {
			kernels.Q8KToQ6R4Order(q.q8kR6[i*q.nb:(i+1)*q.nb], b)
		}
	}
}

// prepare converts x for weights of type t; r4, r6: repacked Q4_K or
// Q6_K rows take it (q8kR4, q8kR6 too). par, when set, runs a task over
// the workers (the K-quant path uses it for batches).
func (a *actBuf) prepare(o *kernels.Ops, t gguf.GGMLType, x []float32, T, cols int, r4, r6 bool, par func(pool.Task, int, int)) {
	a.cols = cols
	if t == gguf.TypeQ4_K && o.FloatQ4K {
		a.xsum = grow(a.xsum, T*cols/32)
		kernels.SubBlockSums32(x[:T*cols], a.xsum)
		return
	}
	switch t {
	case gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K:
		nb := cols / kernels.QK_K
		// Three spare token rows: a batch's last 2-3 tokens go through the
		// 4-token GEMM, whose extra columns read them and are discarded.
		a.q8k = grow(a.q8k, (T+3)*nb)[:T*nb]
		a.quant = quantTask{o: o, x: x, q8k: a.q8k, cols: cols, nb: nb}
		if r4 {
			a.q8kR4 = grow(a.q8kR4, (T+3)*nb)[:T*nb]
			a.quant.q8kR4 = a.q8kR4
		}
		if r6 {
			a.q8kR6 = grow(a.q8kR6, (T+3)*nb)[:T*nb]
			a.quant.q8kR6 = a.q8kR6
		}
		if par != nil {
			par(&a.quant, T, cols) // tokens are independent: spread them over the workers
		} else {
			a.quant.Run(0, 0, T)
		}
	case gguf.TypeQ8_0:
		nb := cols / kernels.QK8_0
		a.q80 = grow(a.q80, T*nb)
		for i := 0; i < T; i++ {
			kernels.QuantizeRowQ8_0(x[i*cols:(i+1)*cols], a.q80[i*nb:(i+1)*nb])
		}
	case gguf.TypeF16:
		a.u16 = grow(a.u16, T*cols)
		kernels.ConvertRowF16(x[:T*cols], a.u16)
	case gguf.TypeBF16:
		a.u16 = grow(a.u16, T*cols)
		kernels.ConvertRowBF16(x[:T*cols], a.u16)
	}
}

func grow[E any](s []E, n int) []E {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]E, n)
}

// dot computes row r of w against token t of the prepared activations
// with the dispatched kernels o.
func (a *actBuf) dot(o *kernels.Ops, w *Matrix, r, t int, x []float32) float32 {
	row := w.Row(r)
	switch w.Type {
	case gguf.TypeQ4_K:
		if o.FloatQ4K {
			return o.DotQ4KF32(kernels.AsQ4K(row), x[t*a.cols:(t+1)*a.cols], a.xsum[t*a.cols/32:(t+1)*a.cols/32])
		}
		nb := a.cols / kernels.QK_K
		return o.DotQ4KQ8K(kernels.AsQ4K(row), a.q8k[t*nb:(t+1)*nb])
	case gguf.TypeQ5_K:
		nb := a.cols / kernels.QK_K
		return o.DotQ5KQ8K(kernels.AsQ5K(row), a.q8k[t*nb:(t+1)*nb])
	case gguf.TypeQ6_K:
		nb := a.cols / kernels.QK_K
		return o.DotQ6KQ8K(kernels.AsQ6K(row), a.q8k[t*nb:(t+1)*nb])
	case gguf.TypeQ8_0:
		nb := a.cols / kernels.QK8_0
		return o.DotQ8_0Q8_0(kernels.AsQ8_0(row), a.q80[t*nb:(t+1)*nb])
	case gguf.TypeF16:
		return o.DotF16(kernels.AsU16(row), a.u16[t*a.cols:(t+1)*a.cols])
	case gguf.TypeBF16:
		return o.DotBF16(kernels.AsU16(row), a.u16[t*a.cols:(t+1)*a.cols])
	default:
		return o.DotF32(kernels.AsF32(row), x[t*a.cols:(t+1)*a.cols])
	}
}
