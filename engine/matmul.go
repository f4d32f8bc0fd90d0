package engine

import (
	"asdsl-bench/engine/pool"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/kernels"
)

// actBuf holds one batch of activations converted to the "vec dot type"
// of a weight type, as ggml does before a matmul: Q8_K for K-quants, Q8_0
// for Q8_0, fp16/bf16 for half weights, float32 for F32. Buffers grow and
// are reused across calls.
type actBuf struct {
	xsum []float32 // float variant: sums of each 32 activations
	q8k  []kernels.BlockQ8K
	q80  []kernels.BlockQ8_0
	u16  []uint16
	cols int
	// quant is the Q8_K conversion task, kept here so a decode step
	// allocates nothing.
	quant quantTask
}

// quantTask quantizes tokens [j0, j1) of a batch to Q8_K.
type quantTask struct {
	o        *kernels.Ops
	x        []float32
	q8k      []kernels.BlockQ8K
	cols, nb int
}

func (q *quantTask) Run(_, j0, j1 int) {
	for i := j0; i < j1; i++ {
		q.o.QuantizeRowQ8K(q.x[i*q.cols:(i+1)*q.cols], q.q8k[i*q.nb:(i+1)*q.nb])
	}
}

// prepare converts x for weights of type t. par, when set, runs a task
// over the workers (the K-quant path uses it for batches).
func (a *actBuf) prepare(o *kernels.Ops, t gguf.GGMLType, x []float32, T, cols int, par func(pool.Task, int, int)) {
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

// matmul computes out[t][r] = W[r] · x[t] for T tokens: out is [T][w.Rows],
// x is [T][w.Cols]. The activations are quantized once (a batch's tokens
// spread over the workers), then rows are handed out to the workers in
// chunks; each worker writes only its own rows, so nothing is shared
// inside the kernels.
func (e *exec) matmul(out []float32, w *Matrix, x []float32, T int) {
	ops := e.ops
	mt := &e.mm
	mt.tiles = e.tiles
	mt.noGEMM = e.noGEMM || ops.FloatQ4K
	mt.panel = !mt.noGEMM && ops.GemmPanelQ8Kx4 != nil && T >= mt.tiles.PanelMinTokens &&
		w.Rows >= kernels.PanelRows && (w.Type == gguf.TypeQ4_K || w.Type == gguf.TypeQ6_K)
	e.act.prepare(ops, w.Type, x, T, w.Cols, e.parallelTokens)
	mt.act, mt.ops, mt.w, mt.x, mt.out, mt.T = &e.act, ops, w, x, out, T
	mt.r4, mt.r6 = e.repacked(ops, w)
	if len(mt.unp) < e.pool.Size() {
		mt.unp = make([][]kernels.UnpackedQ4K, e.pool.Size())
		mt.res = make([][4]float32, e.pool.Size())
		mt.res16 = make([][16]float32, e.pool.Size())
		mt.panels = make([]panelScratch, e.pool.Size())
	}
	if T > 1 {
		chunk := mt.tiles.Rows
		if mt.panel {
			chunk = (chunk + kernels.PanelRows - 1) / kernels.PanelRows * kernels.PanelRows
		}
		e.parallelChunk(mt, w.Rows, w.Cols*T, chunk)
	} else {
		e.parallel(mt, w.Rows, w.Cols*T)
	}
	mt.w, mt.x, mt.out = nil, nil, nil
}

// matmulTask is the row loop of a matmul; its fields are the op's
// arguments, reused across calls so a decode step allocates nothing.
type matmulTask struct {
	tiles  Tiles
	noGEMM bool
	panel  bool                    // widen rows to panels: see runPanels
	panels []panelScratch          // per worker
	r4     bool                    // decode reads w.R4
	r6     bool                    // decode reads w.R6
	unp    [][]kernels.UnpackedQ4K // per worker: the row being multiplied, unpacked
	res    [][4]float32            // per worker: the 4-row kernels' results
	res16  [][16]float32           // per worker: the 4×4 kernel's results
	act    *actBuf
	ops    *kernels.Ops
	w      *Matrix
	x      []float32
	out    []float32
	T      int
}

func (m *matmulTask) Run(w, r0, r1 int) {
	if m.panel {
		r0 = m.runPanels(w, r0, r1)
		if r0 == r1 {
			return
		}
	}
	if !m.noGEMM && (m.w.Type == gguf.TypeQ4_K || m.w.Type == gguf.TypeQ6_K) &&
		(m.T >= 4 || m.T >= 2 && r0%4 == 0 && r1%4 == 0 && m.smallBatchGEMM()) {
		m.runGEMM(w, r0, r1)
		return
	}
	kind := m.rows4Kernel()
	nb := m.w.Cols / kernels.QK_K
	res := &m.res[w] // a local would escape through the kernels' func values
	for t := 0; t < m.T; t++ {
		o := m.out[t*m.w.Rows:]
		r := r0
		if kind != noRows4 {
			// Four rows per call share the activation loads and the
			// per-block bookkeeping; repacked rows are also one stream.
			a := m.act.q8k[t*nb : (t+1)*nb]
			for ; r+4 <= r1; r += 4 {
				switch kind {
				case q4kR4:
					m.ops.GemvQ4KR4Q8K(m.w.R4[r/4*nb:(r/4+1)*nb], a, res)
				case q4kRows:
					m.ops.GemvQ4KQ8Kx4Rows(kernels.AsQ4K(m.w.Rows4(r)), a, res)
				case q6kR4:
					m.ops.GemvQ6KR4Q8K(m.w.R6[r/4*nb:(r/4+1)*nb], a, res)
				case q6kRows:
					m.ops.GemvQ6KQ8Kx4Rows(kernels.AsQ6K(m.w.Rows4(r)), a, res)
				}
				o[r], o[r+1], o[r+2], o[r+3] = res[0], res[1], res[2], res[3]
			}
		}
		for ; r < r1; r++ {
			o[r] = m.act.dot(m.ops, m.w, r, t, m.x)
		}
	}
}

// smallBatchGEMM: 2-3 tokens (speculative verification) go through one
// 4-token call of the repacked GEMM, spare columns discarded, instead of
// one GEMV pass per token: the rows are read once. Measured on the
// TinyLlama mock, 2 threads (bench --curve): 2 tokens 2.2 -> 1.6 decode
// steps, 3 tokens 2.5 -> 1.6. The GGUF layout's GEMM has no such tail.
func (m *matmulTask) smallBatchGEMM() bool {
	return m.r4 && m.ops.GemmQ4KR4Q8Kx4 != nil || m.r6 && m.ops.GemmQ6KR4Q8Kx4 != nil
}

// The 4-row GEMV kernels, by weight layout.
const (
	noRows4 = iota // one row at a time (F32, F16, Q8_0, the float variant)
	q4kR4          // Q4_K repacked (BlockQ4KR4)
	q4kRows        // Q4_K, GGUF layout
	q6kR4          // Q6_K repacked (BlockQ6KR4)
	q6kRows        // Q6_K, GGUF layout
)

// rows4Kernel picks the 4-row kernel for this matmul's weights.
func (m *matmulTask) rows4Kernel() int {
	switch {
	case m.r4:
		return q4kR4
	case m.w.Type == gguf.TypeQ4_K && !m.ops.FloatQ4K:
		return q4kRows
	case m.r6:
		return q6kR4
	case m.w.Type == gguf.TypeQ6_K:
		return q6kRows
	}
	return noRows4
}

// Tiles is the blocking of batched matmuls (prompt processing and
// speculative verification): a thread takes Rows weight rows at a time
// (TILE_M) and walks the tokens in tiles of Tokens (TILE_N); inside a
// tile every weight row is unpacked once per 4 tokens (the kernel's
// column count) while its bytes are still in L1. The K dimension is the
// 256-weight super-block.
type Tiles struct {
	Rows   int
	Tokens int
	// K is the panel GEMM's depth tile in super-blocks (0: whole rows).
	K int
	// PanelMinTokens: batches of at least this many tokens widen their
	// Q4_K/Q6_K rows into panels (where the ISA has the kernel). Widening
	// reads every row once, as the K-quant GEMMs do, plus about 10 ns
	// per block and row; A/B on the mocks, 2 threads: at 32 tokens the
	// paths tie, at 64 panels win by 21-27% — so 64, and speculative
	// verification's 2-16 tokens keep the K-quant kernels.
	PanelMinTokens int
}

// DefaultTiles: 16 rows keep a thread's share of a 4096-row matrix in 64
// work items at 2 threads (dynamic chunking has slack); 64 tokens of
// Q8_K activations of a 4096-wide input are 300 KB, which stays in L2
// while the rows stream past. The panel path takes rows 32 at a time.
// `asdsl-bench tune` searches Rows, PanelMinTokens and K per machine and
// hands them to sessions (SessionOptions.Tiles).
func DefaultTiles() Tiles { return Tiles{Rows: 16, Tokens: 64, PanelMinTokens: 64} }

// orDefault fills t's zero fields from DefaultTiles (K's zero means
// whole rows, its default).
func (t Tiles) orDefault() Tiles {
	d := DefaultTiles()
	if t.Rows <= 0 {
		t.Rows = d.Rows
	}
	if t.Tokens <= 0 {
		t.Tokens = d.Tokens
	}
	if t.PanelMinTokens <= 0 {
		t.PanelMinTokens = d.PanelMinTokens
	}
	t.K = max(t.K, 0)
	return t
}

// runGEMM is the batched path for Q4_K and Q6_K weights: for each token
// tile, each row meets the tile's tokens four at a time.
func (m *matmulTask) runGEMM(w, r0, r1 int) {
	nb := m.w.Cols / kernels.QK_K
	rows := m.w.Rows
	tileN := max(4, m.tiles.Tokens)
	if r0%4 == 0 && r1%4 == 0 {
		if m.r4 && m.ops.GemmQ4KR4Q8Kx4 != nil {
			runGEMMR4(m, w, r0, r1, nb, tileN, m.w.R4, m.ops.GemmQ4KR4Q8Kx8, m.ops.GemmQ4KR4Q8Kx4, m.ops.GemvQ4KR4Q8K)
			return
		}
		if m.r6 && m.ops.GemmQ6KR4Q8Kx4 != nil {
			runGEMMR4(m, w, r0, r1, nb, tileN, m.w.R6, m.ops.GemmQ6KR4Q8Kx8, m.ops.GemmQ6KR4Q8Kx4, m.ops.GemvQ6KR4Q8K)
			return
		}
	}
	unpacked := m.w.Type == gguf.TypeQ4_K && m.ops.PreferUnpacked
	var unp []kernels.UnpackedQ4K
	if unpacked {
		m.unp[w] = grow(m.unp[w], nb)
		unp = m.unp[w]
	}
	var res [4]float32
	for t0 := 0; t0 < m.T; t0 += tileN {
		t1 := min(m.T, t0+tileN)
		for r := r0; r < r1; r++ {
			t := t0
			if unpacked && t+4 <= t1 {
				// Unpack the row once for the whole token tile (it stays in
				// L1: 9 KB for 4096 weights) and stream it four tokens at a time.
				m.ops.UnpackQ4K(kernels.AsQ4K(m.w.Row(r)), unp)
				for ; t+4 <= t1; t += 4 {
					m.ops.GemmUnpackedQ4KQ8Kx4(unp, m.act.q8k[t*nb:], nb, &res)
					m.out[t*rows+r] = res[0]
					m.out[(t+1)*rows+r] = res[1]
					m.out[(t+2)*rows+r] = res[2]
					m.out[(t+3)*rows+r] = res[3]
				}
			}
			for ; t+4 <= t1; t += 4 {
				if m.w.Type == gguf.TypeQ4_K {
					m.ops.GemmQ4KQ8Kx4(kernels.AsQ4K(m.w.Row(r)), m.act.q8k[t*nb:], nb, &res)
				} else {
					m.ops.GemmQ6KQ8Kx4(kernels.AsQ6K(m.w.Row(r)), m.act.q8k[t*nb:], nb, &res)
				}
				m.out[t*rows+r] = res[0]
				m.out[(t+1)*rows+r] = res[1]
				m.out[(t+2)*rows+r] = res[2]
				m.out[(t+3)*rows+r] = res[3]
			}
			for ; t < t1; t++ {
				m.out[t*rows+r] = m.act.dot(m.ops, m.w, r, t, m.x)
			}
		}
	}
}

// runGEMMR4 is runGEMM on repacked rows (Q4_K or Q6_K): four rows
// against four tokens per kernel call (a group's blocks of a 4096-wide
// matrix, 9-13 KB, stay in L1 across the token tile); tokens left over
// (T not a multiple of 4) go through the repacked GEMV.
func runGEMMR4[B any](m *matmulTask, w, r0, r1, nb, tileN int, rp []B,
	gemm8 func([]B, []kernels.BlockQ8K, int, []float32, int),
	gemm func([]B, []kernels.BlockQ8K, int, *[16]float32), gemv func([]B, []kernels.BlockQ8K, *[4]float32)) {
	rows := m.w.Rows
	res, res4 := &m.res16[w], &m.res[w]
	for t0 := 0; t0 < m.T; t0 += tileN {
		t1 := min(m.T, t0+tileN)
		for r := r0; r < r1; r += 4 {
			g := rp[r/4*nb : (r/4+1)*nb]
			t := t0
			for ; gemm8 != nil && t+8 <= t1; t += 8 {
				gemm8(g, m.act.q8k[t*nb:], nb, m.out[t*rows+r:], rows) // writes token-major
			}
			for ; t+4 <= t1; t += 4 {
				gemm(g, m.act.q8k[t*nb:], nb, res)
				for i := 0; i < 4; i++ {
					for c := 0; c < 4; c++ {
						m.out[(t+c)*rows+r+i] = res[4*i+c]
					}
				}
			}
			if n := t1 - t; n >= 2 {
				// 2-3 tokens (speculative verification sizes): one 4-token
				// call costs about what one GEMV's memory traffic does;
				// the spare columns are discarded.
				gemm(g, m.act.q8k[t*nb:(t+4)*nb], nb, res)
				for i := 0; i < 4; i++ {
					for c := 0; c < n; c++ {
						m.out[(t+c)*rows+r+i] = res[4*i+c]
					}
				}
				t = t1
			}
			for ; t < t1; t++ {
				gemv(g, m.act.q8k[t*nb:(t+1)*nb], res4)
				copy(m.out[t*rows+r:t*rows+r+4], res4[:])
			}
		}
	}
}

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
}

// repacked says whether a matmul of w reads its repacked Q4_K (r4) or
// Q6_K (r6) rows: when they exist, the session has not turned the
// layout off, and the kernels can use them (the float Q4_K variant
// cannot).
func (e *exec) repacked(ops *kernels.Ops, w *Matrix) (r4, r6 bool) {
	return w.R4 != nil && !e.noRepack && !ops.FloatQ4K, w.R6 != nil && !e.noRepack && ops.GemvQ6KR4Q8K != nil
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

// matmulGroup computes several matrices against the same single token x
// (a decode step's q, k and v, or gate and up) as one parallel op: their
// rows are one index space, so the activations are quantized once and
// the workers part and meet once instead of once per matrix — at 2
// threads each op's end costs up to one final piece of idle time, and
// TinyLlama's k and v are 10 µs matrices. Groups that cannot share an op
// (batches, different widths or activation types, row counts not a
// multiple of 4) run one matmul per matrix.
func (e *exec) matmulGroup(outs [3][]float32, ws []*Matrix, x []float32, T int) {
	ops := e.ops
	if T != 1 || len(ws) > len(outs) || !e.groupable(ops, ws) {
		for i, w := range ws {
			e.matmul(outs[i], w, x, T)
		}
		return
	}
	e.act.prepare(ops, ws[0].Type, x, 1, ws[0].Cols, e.parallelTokens)
	g := &e.group
	if len(g.res) < e.pool.Size() {
		g.res = make([][4]float32, e.pool.Size())
	}
	g.n, g.rows = len(ws), 0
	for i, w := range ws {
		// A single token takes matmulTask's 4-row GEMV path, which needs
		// only the activations and the 4-row results (per worker, shared
		// by the group's matrices: a worker runs one piece at a time).
		g.mts[i] = matmulTask{tiles: e.tiles, act: &e.act, ops: ops, w: w, x: x, out: outs[i], T: 1, res: g.res}
		g.mts[i].r4, g.mts[i].r6 = e.repacked(ops, w)
		g.off[i] = g.rows
		g.rows += w.Rows
	}
	e.parallel(g, g.rows, ws[0].Cols)
	for i := 0; i < g.n; i++ {
		g.mts[i] = matmulTask{}
	}
}

// groupable: one activation buffer serves every matrix (same width, a
// K-quant with the integer kernels) and every matrix's rows are whole
// 4-row groups, so pieces of the joint index space split no group.
func (e *exec) groupable(ops *kernels.Ops, ws []*Matrix) bool {
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
	}
	return true
}

// groupTask is matmulGroup's row loop: rows [r0, r1) of the joint index
// space, matrix by matrix.
type groupTask struct {
	n, rows int
	off     [3]int
	mts     [3]matmulTask
	res     [][4]float32 // per worker
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
