package engine

import (
	"runtime"
	"sync"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/kernels"
)

// actBuf holds one batch of activations converted to the "vec dot type"
// of a weight type, as ggml does before a matmul: Q8_K for K-quants, Q8_0
// for Q8_0, fp16/bf16 for half weights, float32 for F32. Buffers grow and
// are reused across calls.
type actBuf struct {
	q8k  []kernels.BlockQ8K
	q80  []kernels.BlockQ8_0
	u16  []uint16
	cols int
}

func (a *actBuf) prepare(t gguf.GGMLType, x []float32, T, cols int) {
	a.cols = cols
	switch t {
	case gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K:
		nb := cols / kernels.QK_K
		a.q8k = grow(a.q8k, T*nb)
		for i := 0; i < T; i++ {
			kernels.QuantizeRowQ8K(x[i*cols:(i+1)*cols], a.q8k[i*nb:(i+1)*nb])
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

// matmul computes out[t][r] = W[r] · x[t] for T tokens: out is [T][w.Rows],
// x is [T][w.Cols]. Rows are split across threads; each thread writes only
// its own rows, so no synchronisation is needed inside the loop.
func (e *exec) matmul(out []float32, w *Matrix, x []float32, T int) {
	a := &e.act
	a.prepare(w.Type, x, T, w.Cols)
	ops := kernels.Active()
	e.parallelRows(w.Rows, w.Cols*T, func(r0, r1 int) {
		for t := 0; t < T; t++ {
			o := out[t*w.Rows:]
			for r := r0; r < r1; r++ {
				o[r] = a.dot(ops, w, r, t, x)
			}
		}
	})
}

// exec carries per-session scratch and the thread count.
type exec struct {
	threads int
	act     actBuf
}

// parallelRows splits [0,rows) into contiguous chunks over the threads.
// Small jobs run inline: goroutine start-up would cost more than the work.
func (e *exec) parallelRows(rows, workPerRow int, f func(r0, r1 int)) {
	n := e.threads
	if n <= 1 || rows*workPerRow < 1<<16 {
		f(0, rows)
		return
	}
	if n > rows {
		n = rows
	}
	var wg sync.WaitGroup
	chunk := (rows + n - 1) / n
	for r0 := 0; r0 < rows; r0 += chunk {
		r1 := min(r0+chunk, rows)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(r0, r1)
		}()
	}
	wg.Wait()
}

// DefaultThreads is one thread per available CPU.
func DefaultThreads() int { return runtime.GOMAXPROCS(0) }
