package engine

import (
	"time"

	"asdsl-bench/engine/pool"
	"asdsl-bench/kernels"
)

// exec carries per-session scratch and the worker pool.
type exec struct {
	pool     *pool.Pool
	ops      *kernels.Ops // the session's kernel table
	tiles    Tiles
	noGEMM   bool
	noRepack bool
	act      actBuf
	mm       matmulTask
	group    groupTask
	bd       *Breakdown // the session's time breakdown, when one is kept
}

// prepare quantizes a matmul's activations, clocking it for a breakdown;
// r4, r6: a repacked Q4_K or Q6_K matrix takes them (their orders too).
func (e *exec) prepare(ops *kernels.Ops, w *Matrix, x []float32, T int, r4, r6 bool) {
	if e.bd == nil {
		e.act.prepare(ops, w.Type, x, T, w.Cols, r4, r6, e.parallelTokens)
		return
	}
	t0 := time.Now()
	e.act.prepare(ops, w.Type, x, T, w.Cols, r4, r6, e.parallelTokens)
	e.bd.quant += time.Since(t0)
}

// countBytes adds a matrix's weight bytes to the breakdown's current step.
func (e *exec) countBytes(w *Matrix) {
	if e.bd != nil {
		e.bd.bytes += w.Bytes()
	}
}

// repacked says whether a matmul of w reads its repacked Q4_K (r4) or
// Q6_K (r6) rows: when they exist, the session has not turned the
// layout off, and the kernels can use them (the float Q4_K variant
// cannot).
func (e *exec) repacked(ops *kernels.Ops, w *Matrix) (r4, r6 bool) {
	return w.Q4KR4 != nil && !e.noRepack && !ops.FloatQ4K, w.Q6KR4 != nil && !e.noRepack && ops.GemvQ6KR4Q8K4x1 != nil
}

// parallel runs a decode matmul's rows over the workers with guided
// chunking (pool.ParallelGuided: long runs first, then pieces of a
// sixteenth of a worker's share), inline when the whole loop is too small
// to be worth a fan-out. The op ends when its last piece does: with
// fixed quarter-share chunks the workers finished up to a quarter share
// apart, 5–13% of a 7B matrix's time at 2 threads on average; and pieces
// that small from the start would restart the prefetch stream often.
func (e *exec) parallel(t pool.Task, n, workPerItem int) {
	th := e.pool.Size()
	if th <= 1 || n*workPerItem < 1<<15 {
		t.Run(0, 0, n)
		return
	}
	// Pieces are whole multiples of 4 rows, the GEMV kernels' step.
	e.pool.ParallelGuided(t, n, max(4, n/(16*th)&^3))
}

// parallelTokens runs a per-token task over the workers in chunks of a
// quarter of a worker's share (inline when small, as parallel).
func (e *exec) parallelTokens(t pool.Task, n, workPerItem int) {
	e.parallelChunk(t, n, workPerItem, max(1, n/(4*e.pool.Size())))
}

// parallelChunk is parallel with a fixed chunk size.
func (e *exec) parallelChunk(t pool.Task, n, workPerItem, chunk int) {
	if e.pool.Size() <= 1 || n*workPerItem < 1<<15 {
		t.Run(0, 0, n)
		return
	}
	e.pool.Parallel(t, n, max(1, chunk))
}
