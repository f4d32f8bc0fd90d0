package engine

import (
	"asdsl-bench/engine/gguf"
	"asdsl-bench/kernels"
)

// panelScratch is one worker's widened rows and the 4-token output of a
// batch's last 1-3 tokens.
type panelScratch struct {
	p    kernels.Panel
	tail [4 * kernels.PanelRows]float32
}

// runPanels is the prompt GEMM for large batches: each 32 rows of
// [r0, r1) are widened once into a panel (kernels.Panel, about 40 bytes
// per column, L2-resident), which then meets every token of the batch
// four at a time, in depth tiles of tiles.K super-blocks. It returns
// where it stopped: rows past the last whole 32 are left to the caller.
func (m *matmulTask) runPanels(w, r0, r1 int) int {
	nb := m.w.Cols / kernels.QK_K
	rows, T := m.w.Rows, m.T
	kt := m.tiles.K
	if kt <= 0 || kt > nb {
		kt = nb
	}
	sc := &m.panels[w]
	a := m.act.q8k[:(T+3)*nb]
	for ; r0+kernels.PanelRows <= r1; r0 += kernels.PanelRows {
		// The repacked rows where this session reads them: a matrix
		// repacked at load keeps its GGUF rows only in the file mapping,
		// whose pages left the resident set; widening those faulted the
		// whole file back in for every prompt (a 14B prefill peaked at
		// twice the file's size). Features.NoRepack keeps the GGUF rows.
		switch {
		case m.gemmR4 && m.w.Q4KR4 != nil:
			m.ops.PanelFromQ4KR4(&sc.p, m.w.Q4KR4[r0/4*nb:(r0/4+kernels.PanelRows/4)*nb], nb)
		case m.gemmR4 && m.w.Q6KR4 != nil:
			m.ops.PanelFromQ6KR4(&sc.p, m.w.Q6KR4[r0/4*nb:(r0/4+kernels.PanelRows/4)*nb], nb)
		case m.w.Type == gguf.TypeQ4_K:
			m.ops.PanelFromQ4K(&sc.p, kernels.AsQ4K(m.w.Data[r0*m.w.RowBytes:(r0+kernels.PanelRows)*m.w.RowBytes]), nb)
		default:
			m.ops.PanelFromQ6K(&sc.p, kernels.AsQ6K(m.w.Data[r0*m.w.RowBytes:(r0+kernels.PanelRows)*m.w.RowBytes]), nb)
		}
		for k0 := 0; k0 < nb; k0 += kt {
			kn := min(kt, nb-k0)
			t := 0
			for ; t+4 <= T; t += 4 {
				m.ops.GemmPanelQ8K32x4(&sc.p, k0, kn, a[t*nb+k0:], nb, m.out[t*rows+r0:], rows, k0 > 0)
			}
			if t < T {
				// The last 1-3 tokens: the activations have spare rows;
				// the spare columns' results are dropped.
				m.ops.GemmPanelQ8K32x4(&sc.p, k0, kn, a[t*nb+k0:], nb, sc.tail[:], kernels.PanelRows, k0 > 0)
			}
		}
		for c := 0; c < T%4; c++ { // the tail's columns kept
			t := T/4*4 + c
			copy(m.out[t*rows+r0:t*rows+r0+kernels.PanelRows], sc.tail[c*kernels.PanelRows:])
		}
	}
	return r0
}
