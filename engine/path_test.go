package engine

import (
	"testing"

	"asdsl-bench/engine/gguf"
	"asdsl-bench/kernels"
)

// Which kernels run for a weight type, batch size and layout, per kind
// of kernel table. The tables are built here from the generic one so
// the test runs on any CPU: "avx512" has every kernel (panels, repacked
// GEMMs), "avx2" lacks the panel kernel, "generic" has only the Go
// twins (no repacked GEMM, no repacked Q6_K GEMV), "float" is the seed's
// float Q4_K variant.
func TestChoosePath(t *testing.T) {
	generic := kernels.GenericOps
	avx2 := generic
	avx2.GemmQ4KR4Q8K4x4 = kernels.GemmQ4KR4Q8K4x4
	avx2.GemmQ6KR4Q8K4x4 = kernels.GemmQ6KR4Q8K4x4
	avx2.GemvQ6KR4Q8K4x1 = kernels.GemvQ6KR4Q8K4x1
	avx512 := avx2
	avx512.GemmPanelQ8K32x4 = kernels.GemmPanelQ8K32x4
	float := avx2
	float.FloatQ4K = true
	tables := map[string]*kernels.Ops{"avx512": &avx512, "avx2": &avx2, "generic": &generic, "float": &float}
	tiles := DefaultTiles() // panels from 64 tokens
	const Q4, Q5, Q6, Q8, F32 = gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K, gguf.TypeQ8_0, gguf.TypeF32
	for _, c := range []struct {
		isa      string
		typ      gguf.GGMLType
		T, rows  int
		repacked bool
		noGEMM   bool
		want     path
	}{
		// Decode: the 4-row GEMV of the layout the session reads.
		{"avx512", Q4, 1, 4096, true, false, pathGEMVR4},
		{"avx512", Q4, 1, 4096, false, false, pathGEMVRows4},
		{"avx2", Q6, 1, 4096, true, false, pathGEMVR4},
		{"generic", Q4, 1, 4096, true, false, pathGEMVR4},
		{"avx512", F32, 1, 4096, false, false, pathDots},
		{"avx512", Q8, 1, 4096, false, false, pathDots},
		// Speculative verification, 2-3 tokens: one padded repacked GEMM
		// call; the GGUF layout has no such tail, so GEMVs per token.
		{"avx512", Q4, 2, 4096, true, false, pathGEMMR4},
		{"avx2", Q6, 3, 4096, true, false, pathGEMMR4},
		{"avx512", Q4, 3, 4096, false, false, pathGEMVRows4},
		{"generic", Q4, 3, 4096, true, false, pathGEMVR4},
		// Batches of 4 to 63 tokens: the GEMMs.
		{"avx512", Q4, 4, 4096, true, false, pathGEMMR4},
		{"avx512", Q6, 16, 4096, false, false, pathGEMM},
		{"generic", Q4, 16, 4096, true, false, pathGEMM},
		// 64 tokens and more: panels where the table has them.
		{"avx512", Q4, 64, 4096, true, false, pathPanels},
		{"avx512", Q6, 512, 4096, false, false, pathPanels},
		{"avx512", Q4, 512, 16, true, false, pathGEMMR4}, // fewer rows than a panel
		{"avx2", Q4, 512, 4096, true, false, pathGEMMR4},
		{"avx2", Q4, 512, 4096, false, false, pathGEMM},
		// Features.NoGEMM: GEMVs per token, whatever the batch.
		{"avx512", Q4, 512, 4096, true, true, pathGEMVR4},
		{"avx512", Q6, 64, 4096, false, true, pathGEMVRows4},
		// The float variant: Q4_K by float dots, no GEMM for any type.
		{"float", Q4, 64, 4096, false, false, pathDots},
		{"float", Q6, 64, 4096, true, false, pathGEMVR4},
		{"float", Q6, 64, 4096, false, false, pathGEMVRows4},
		// Q5_K: one-row dots, the 4-column GEMM from four tokens.
		{"avx512", Q5, 1, 4096, false, false, pathDots},
		{"avx512", Q5, 3, 4096, false, false, pathDots},
		{"avx2", Q5, 4, 4096, false, false, pathGEMM},
		{"generic", Q5, 512, 4096, false, false, pathGEMM},
		{"avx512", Q5, 512, 4096, false, true, pathDots},
		{"float", Q5, 64, 4096, false, false, pathDots},
	} {
		got := choosePath(tables[c.isa], c.typ, c.T, c.rows, c.repacked, tiles, c.noGEMM)
		if got != c.want {
			t.Errorf("%s %v T=%d rows=%d repacked=%v noGEMM=%v: %v, want %v", c.isa, c.typ, c.T, c.rows, c.repacked, c.noGEMM, got, c.want)
		}
	}
}
