package engine

import (
	"asdsl-bench/engine/gguf"
	"asdsl-bench/kernels"
)

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
	// Whole groups of four rows: a chunk boundary inside a repacked group
	// would send its rows to the GGUF layout.
	t.Rows = (t.Rows + 3) &^ 3
	if t.Tokens <= 0 {
		t.Tokens = d.Tokens
	}
	if t.PanelMinTokens <= 0 {
		t.PanelMinTokens = d.PanelMinTokens
	}
	t.K = max(t.K, 0)
	return t
}

// runGEMM is the batched path for Q4_K, Q5_K and Q6_K weights (pathGEMM and
// pathGEMMR4): for each token tile, each row meets the tile's tokens four
// at a time.
func (m *matmulTask) runGEMM(w, r0, r1 int) {
	nb := m.w.Cols / kernels.QK_K
	rows := m.w.Rows
	tileN := max(4, m.tiles.Tokens)
	if m.gemmR4 && r0%4 == 0 && r1%4 == 0 {
		o := m.ops
		if m.w.Type == gguf.TypeQ4_K {
			runGEMMR4(m, w, r0, r1, nb, tileN, m.w.Q4KR4, m.act.q8kR4, r4Kernels[kernels.BlockQ4KR4]{
				t:    [9]func([]kernels.BlockQ4KR4, []kernels.BlockQ8K, int, []float32, int){2: o.GemmQ4KR4Q8K4x2T, 3: o.GemmQ4KR4Q8K4x3T, 4: o.GemmQ4KR4Q8K4x4T, 8: o.GemmQ4KR4Q8K4x8},
				x:    [5]func([]kernels.BlockQ4KR4, []kernels.BlockQ8K, int, *[16]float32){2: o.GemmQ4KR4Q8K4x2, 3: o.GemmQ4KR4Q8K4x3, 4: o.GemmQ4KR4Q8K4x4},
				gemv: o.GemvQ4KR4Q8K4x1})
		} else {
			runGEMMR4(m, w, r0, r1, nb, tileN, m.w.Q6KR4, m.act.q8kR6, r4Kernels[kernels.BlockQ6KR4]{
				t:    [9]func([]kernels.BlockQ6KR4, []kernels.BlockQ8K, int, []float32, int){2: o.GemmQ6KR4Q8K4x2T, 3: o.GemmQ6KR4Q8K4x3T, 4: o.GemmQ6KR4Q8K4x4T, 8: o.GemmQ6KR4Q8K4x8},
				x:    [5]func([]kernels.BlockQ6KR4, []kernels.BlockQ8K, int, *[16]float32){2: o.GemmQ6KR4Q8K4x2, 3: o.GemmQ6KR4Q8K4x3, 4: o.GemmQ6KR4Q8K4x4},
				gemv: o.GemvQ6KR4Q8K4x1})
		}
		return
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
					m.ops.GemmQ4KUnpackedQ8K1x4(unp, m.act.q8k[t*nb:], nb, &res)
					m.out[t*rows+r] = res[0]
					m.out[(t+1)*rows+r] = res[1]
					m.out[(t+2)*rows+r] = res[2]
					m.out[(t+3)*rows+r] = res[3]
				}
			}
			for ; t+4 <= t1; t += 4 {
				switch m.w.Type {
				case gguf.TypeQ4_K:
					m.ops.GemmQ4KQ8K1x4(kernels.AsQ4K(m.w.Row(r)), m.act.q8k[t*nb:], nb, &res)
				case gguf.TypeQ5_K:
					m.ops.GemmQ5KQ8K1x4(kernels.AsQ5K(m.w.Row(r)), m.act.q8k[t*nb:], nb, &res)
				default:
					m.ops.GemmQ6KQ8K1x4(kernels.AsQ6K(m.w.Row(r)), m.act.q8k[t*nb:], nb, &res)
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

// r4Kernels are the repacked GEMMs runGEMMR4 takes, by column count:
// t[n] stores token-major (nil where the table has none), x[n] writes
// 16 results as 4r+c, gemv one column.
type r4Kernels[B any] struct {
	t    [9]func([]B, []kernels.BlockQ8K, int, []float32, int)
	x    [5]func([]B, []kernels.BlockQ8K, int, *[16]float32)
	gemv func([]B, []kernels.BlockQ8K, *[4]float32)
}

// runGEMMR4 is runGEMM on repacked rows (Q4_K or Q6_K): four rows
// against up to eight tokens per kernel call (a group's blocks of a
// 4096-wide matrix, 9-13 KB, stay in L1 across the token tile); tokens
// left over (T not a multiple of 4) go through the 2- or 3-column kernel
// where there is one, the 4-column one padded, or the repacked GEMV.
// act is the batch's Q8_K activations in the order the kernels read
// (actBuf.q8kR4 for Q4_K, q8kR6 for Q6_K).
//
// Where the table has them (k.t), the kernels store their results
// straight into the token-major output. Reading the 4-column kernel's 16
// results back to scatter them waited on the end of the kernel's last
// block, the longest dependency chain it has, every call: 6% of a
// 4-token TinyLlama call in a profile was that loop, and with the kernel
// storing them a 4-token call cost 15.1-15.3 ms against 16.6-16.7 (1.33x
// against 1.49x one token; the 7B mock 80.1-84.9 ms against 87.5-88.6),
// bench --curve 1,4 at 2 threads, alternated.
func runGEMMR4[B any](m *matmulTask, w, r0, r1, nb, tileN int, rp []B, act []kernels.BlockQ8K, k r4Kernels[B]) {
	rows := m.w.Rows
	res, res4 := &m.res[w].r16, &m.res[w].r4
	for t0 := 0; t0 < m.T; t0 += tileN {
		t1 := min(m.T, t0+tileN)
		for r := r0; r < r1; r += 4 {
			g := rp[r/4*nb : (r/4+1)*nb]
			t := t0
			for ; k.t[8] != nil && t+8 <= t1; t += 8 {
				k.t[8](g, act[t*nb:], nb, m.out[t*rows+r:], rows)
			}
			// Four tokens per call; a last 2-3 (speculative verification
			// sizes) take the 2- or 3-column kernel, or a 4-column call
			// with the spare columns discarded (it costs about what one
			// GEMV's memory traffic does).
			for t+2 <= t1 {
				n := min(4, t1-t)
				if k.t[n] != nil {
					k.t[n](g, act[t*nb:(t+n)*nb], nb, m.out[t*rows+r:], rows)
					t += n
					continue
				}
				cols := n
				if k.x[n] == nil {
					cols = 4
				}
				k.x[cols](g, act[t*nb:(t+cols)*nb], nb, res)
				for i := 0; i < 4; i++ {
					for c := 0; c < n; c++ {
						m.out[(t+c)*rows+r+i] = res[4*i+c]
					}
				}
				t += n
			}
			for ; t < t1; t++ {
				k.gemv(g, act[t*nb:(t+1)*nb], res4)
				copy(m.out[t*rows+r:t*rows+r+4], res4[:])
			}
		}
	}
}
