package engine

import (
	"asdsl-bench/engine/gguf"
	"asdsl-bench/kernels"
)

// matmulGroup computes several matrices against the same tokens x (a
// decode step's q, k and v, or gate and up) as one parallel op: their
// rows are one index space, so the activations are quantized once and
// the workers part and meet once instead of once per matrix — at 2
// threads each op's end costs up to one final piece of idle time, and
// TinyLlama's k and v are 10 µs matrices. A small batch (speculative
// verification) joins too when every matrix takes the repacked GEMM:
// like a decode step it streams each weight once. Groups that cannot
// share an op (prompt batches, different widths or activation types,
// row counts not a multiple of 4) run one matmul per matrix.
func (e *exec) matmulGroup(outs [3][]float32, ws []*Matrix, x []float32, T int) {
	ops := e.ops
	g := &e.group
	if T > maxGroupTokens || len(ws) > len(outs) || !e.groupable(ops, ws, T) {
		for i, w := range ws {
			e.matmul(outs[i], w, x, T)
		}
		return
	}
	r4any, r6any := false, false // a repacked matrix wants its order too
	for _, w := range ws {
		r4, r6 := e.repacked(ops, w)
		r4any, r6any = r4any || r4, r6any || r6
	}
	e.prepare(ops, ws[0], x, T, r4any, r6any)
	for _, w := range ws {
		e.countBytes(w)
	}
	if len(g.res) < e.pool.Size() {
		g.res = make([]kernelOut, e.pool.Size())
	}
	g.n, g.rows = len(ws), 0
	for i, w := range ws {
		// The GEMV and repacked-GEMM paths need only the activations and
		// the kernels' results (per worker, shared by the group's
		// matrices: a worker runs one piece at a time).
		r4, r6 := e.repacked(ops, w)
		g.mts[i] = matmulTask{path: choosePath(ops, w.Type, T, w.Rows, r4 || r6, e.tiles, e.noGEMM), gemmR4: hasGEMMR4(ops, w.Type, r4 || r6),
			tiles: e.tiles, act: &e.act, ops: ops, w: w, x: x, out: outs[i], T: T, res: g.res}
		g.off[i] = g.rows
		g.rows += w.Rows
	}
	e.parallel(g, g.rows, ws[0].Cols*T)
	for i := 0; i < g.n; i++ {
		g.mts[i] = matmulTask{}
	}
}

// maxGroupTokens is the largest batch a group takes: the speculative
// verification sizes, whose ops are memory-bound like a decode step's.
const maxGroupTokens = 8

// groupable: one activation buffer serves every matrix (same width, a
// K-quant with the integer kernels), every matrix's rows are whole
// 4-row groups, so pieces of the joint index space split no group, and
// a batch of T > 1 takes the repacked GEMM on every matrix.
func (e *exec) groupable(ops *kernels.Ops, ws []*Matrix, T int) bool {
	if ops.FloatQ4K || len(ws) < 2 {
		return false
	}
	for _, w := range ws {
		switch w.Type {
		case gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K:
		default:
			return false
		}
		if w.Cols != ws[0].Cols || w.Rows%4 != 0 {
			return false
		}
		r4, r6 := e.repacked(ops, w)
		if T > 1 && choosePath(ops, w.Type, T, w.Rows, r4 || r6, e.tiles, e.noGEMM) != pathGEMMR4 {
			return false
		}
	}
	return true
}

// groupTask is matmulGroup's row loop: rows [r0, r1) of the joint index
// space, matrix by matrix.
type groupTask struct {
	n, rows int
	off     [3]int
	mts     [3]matmulTask
	res     []kernelOut // per worker
}

func (g *groupTask) Run(w, r0, r1 int) {
	for i := 0; i < g.n && r0 < r1; i++ {
		lo, hi := g.off[i], g.off[i]+g.mts[i].w.Rows
		if r0 >= hi {
			continue
		}
		end := min(r1, hi)
		g.mts[i].Run(w, r0-lo, end-lo)
		r0 = end
	}
}
