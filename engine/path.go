package engine

import (
	"asdsl-bench/engine/gguf"
	"asdsl-bench/kernels"
)

// path is the kernel family a matmul runs. choosePath picks it once per
// op, in one place, from the session's kernel table, the weight's type
// and layout and the batch size; the row loops (matmulTask.Run) only
// follow it. Each path says what takes the rows or tokens it cannot.
type path int

const (
	// pathDots: one dot per row and token (F32, F16, BF16, Q8_0, Q5_K,
	// and Q4_K under the float variant): Ops.Dot*.
	pathDots path = iota
	// pathGEMVRows4: per token, four GGUF-layout rows per call
	// (GemvQ4KQ8K4x1, GemvQ6KQ8K4x1); rows past the last four: dots.
	pathGEMVRows4
	// pathGEMVR4: per token, four repacked rows per call (GemvQ4KR4Q8K4x1,
	// GemvQ6KR4Q8K4x1).
	pathGEMVR4
	// pathGEMM: GGUF-layout rows against four tokens per call
	// (GemmQ4KQ8K1x4, or GemmQ4KUnpackedQ8K1x4 where the table prefers
	// unpacking; GemmQ5KQ8K1x4, GemmQ6KQ8K1x4); tokens past the last
	// four: dots.
	pathGEMM
	// pathGEMMR4: repacked rows against eight or four tokens per call
	// (Gemm*R4Q8K4x8/4x4); 2-3 tokens, the speculative verification sizes,
	// make one 4-token call with the spare columns dropped; a last single
	// token: GEMV R4. A chunk not on 4-row boundaries: pathGEMM.
	pathGEMMR4
	// pathPanels: 32 rows at a time widened into a kernels.Panel, against
	// four tokens per call (GemmPanelQ8K32x4); a chunk's rows past its last
	// 32: pathGEMMR4 where the weight has it, else pathGEMM.
	pathPanels
)

func (p path) String() string {
	return [...]string{"dots", "gemv-rows4", "gemv-r4", "gemm", "gemm-r4", "panels"}[p]
}

// choosePath decides which kernels a matmul of T tokens runs on a weight
// of type t with the given rows. repacked says the session reads the
// weight's repacked rows (exec.repacked); noGEMM is Features.NoGEMM.
//
// The order is the speed order measured on the mocks: panels from
// tiles.PanelMinTokens tokens (64: panels win by 21-27% there, tie at
// 32), then the repacked GEMM (its 4-token call costs about one GEMV
// pass, so even 2-3 tokens take it), then the GGUF-layout GEMM from 4
// tokens, then the 4-row GEMVs.
func choosePath(ops *kernels.Ops, t gguf.GGMLType, T, rows int, repacked bool, tiles Tiles, noGEMM bool) path {
	if t == gguf.TypeQ5_K {
		// Q5_K (llama.cpp's Q4_K_S and Q5_K_M recipes) has the one-row
		// dots and the 4-column GEMM on the GGUF layout.
		if T >= 4 && !noGEMM && !ops.FloatQ4K && ops.GemmQ5KQ8K1x4 != nil {
			return pathGEMM
		}
		return pathDots
	}
	if t != gguf.TypeQ4_K && t != gguf.TypeQ6_K || t == gguf.TypeQ4_K && ops.FloatQ4K {
		return pathDots
	}
	gemm := T > 1 && !noGEMM && !ops.FloatQ4K
	switch {
	case gemm && T >= tiles.PanelMinTokens && ops.GemmPanelQ8K32x4 != nil && rows >= kernels.PanelRows:
		return pathPanels
	case gemm && hasGEMMR4(ops, t, repacked):
		return pathGEMMR4
	case gemm && T >= 4:
		return pathGEMM
	case repacked:
		return pathGEMVR4
	}
	return pathGEMVRows4
}

// hasGEMMR4: the table has a GEMM for the weight's repacked rows.
func hasGEMMR4(ops *kernels.Ops, t gguf.GGMLType, repacked bool) bool {
	return repacked && (t == gguf.TypeQ4_K && ops.GemmQ4KR4Q8K4x4 != nil || t == gguf.TypeQ6_K && ops.GemmQ6KR4Q8K4x4 != nil)
}
