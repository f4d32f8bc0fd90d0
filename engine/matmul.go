package engine

import (
	"asdsl-bench/engine/gguf"
	"asdsl-bench/kernels"
)

// matmul computes out[t][r] = W[r] · x[t] for T tokens: out is [T][w.Rows],
// x is [T][w.Cols]. The activations are quantized once (a batch's tokens
// spread over the workers), then rows are handed out to the workers in
// chunks; each worker writes only its own rows, so nothing is shared
// inside the kernels.
func (e *exec) matmul(out []float32, w *Matrix, x []float32, T int) {
	ops := e.ops
	mt := &e.mm
	r4, r6 := e.repacked(ops, w)
	mt.tiles, mt.act, mt.ops, mt.w, mt.x, mt.out, mt.T = e.tiles, &e.act, ops, w, x, out, T
	mt.path = choosePath(ops, w.Type, T, w.Rows, r4 || r6, e.tiles, e.noGEMM)
	mt.gemmR4 = hasGEMMR4(ops, w.Type, r4 || r6)
	e.prepare(ops, w, x, T, r4, r6)
	e.countBytes(w)
	if len(mt.unp) < e.pool.Size() {
		mt.unp = make([][]kernels.UnpackedQ4K, e.pool.Size())
		mt.res = make([]kernelOut, e.pool.Size())
		mt.panels = make([]panelScratch, e.pool.Size())
	}
	// The repacked GEMM's batches (speculative verification, prompts
	// below the panels' size, every prompt on a table without panels)
	// read each weight once, as a decode step does, so they take its
	// guided pieces: fixed 16-row chunks restarted the
	// prefetch stream every 36 KB and cost a 2-token batch on the 7B mock
	// 1.4x a decode step at 2 threads instead of 1.13x.
	if T > 1 && mt.path != pathGEMMR4 {
		chunk := mt.tiles.Rows
		if mt.path == pathPanels {
			chunk = (chunk + kernels.PanelRows - 1) / kernels.PanelRows * kernels.PanelRows
		}
		e.parallelChunk(mt, w.Rows, w.Cols*T, chunk)
	} else {
		e.parallel(mt, w.Rows, w.Cols*T)
	}
	mt.w, mt.x, mt.out = nil, nil, nil
}

// kernelOut is one worker's kernel results. A kernel call writes them
// and the worker reads them back at once, every few hundred nanoseconds
// in a decode GEMV; two workers' results in one cache line (or in one
// pair of lines that the adjacent-line prefetcher fetches together)
// would bounce that line between the cores on every call. Each worker's
// therefore takes 256 bytes: TinyLlama decode at 2 threads spent 18% of
// its time reading them back when they were packed 16 bytes apart.
type kernelOut struct {
	r4  [4]float32  // the 4-row GEMVs' and 1×4 GEMMs' results
	r16 [16]float32 // the 4×4 GEMMs' results
	_   [256 - 80]byte
}

// matmulTask is the row loop of a matmul; its fields are the op's
// arguments, reused across calls so a decode step allocates nothing.
type matmulTask struct {
	path   path // choosePath's decision
	gemmR4 bool // the weight's repacked rows have a GEMM (panel tails)
	tiles  Tiles
	panels []panelScratch          // per worker
	unp    [][]kernels.UnpackedQ4K // per worker: the row being multiplied, unpacked
	res    []kernelOut             // per worker: the kernels' results
	act    *actBuf
	ops    *kernels.Ops
	w      *Matrix
	x      []float32
	out    []float32
	T      int
}

// Run multiplies rows [r0, r1) by every token along m.path.
func (m *matmulTask) Run(w, r0, r1 int) {
	switch m.path {
	case pathPanels:
		if r0 = m.runPanels(w, r0, r1); r0 < r1 {
			m.runGEMM(w, r0, r1)
		}
	case pathGEMM, pathGEMMR4:
		m.runGEMM(w, r0, r1)
	default:
		m.runRows(w, r0, r1)
	}
}

// runRows is the per-token loop of the GEMV paths and of dots.
func (m *matmulTask) runRows(w, r0, r1 int) {
	nb := m.w.Cols / kernels.QK_K
	q4 := m.w.Type == gguf.TypeQ4_K
	res := &m.res[w].r4 // a local would escape through the kernels' func values
	for t := 0; t < m.T; t++ {
		o := m.out[t*m.w.Rows:]
		r := r0
		if m.path != pathDots {
			// Four rows per call share the activation loads and the
			// per-block bookkeeping; repacked rows are also one stream.
			a := m.act.q8k[t*nb : (t+1)*nb]
			for ; r+4 <= r1; r += 4 {
				switch {
				case m.path == pathGEMVR4 && q4:
					m.ops.GemvQ4KR4Q8K4x1(m.w.Q4KR4[r/4*nb:(r/4+1)*nb], m.act.q8kR4[t*nb:(t+1)*nb], res)
				case m.path == pathGEMVR4:
					m.ops.GemvQ6KR4Q8K4x1(m.w.Q6KR4[r/4*nb:(r/4+1)*nb], m.act.q8kR6[t*nb:(t+1)*nb], res)
				case q4:
					m.ops.GemvQ4KQ8K4x1(kernels.AsQ4K(m.w.Rows4(r)), a, res)
				default:
					m.ops.GemvQ6KQ8K4x1(kernels.AsQ6K(m.w.Rows4(r)), a, res)
				}
				o[r], o[r+1], o[r+2], o[r+3] = res[0], res[1], res[2], res[3]
			}
		}
		for ; r < r1; r++ {
			o[r] = m.act.dot(m.ops, m.w, r, t, m.x)
		}
	}
}
