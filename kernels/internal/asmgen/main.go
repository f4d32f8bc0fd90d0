// Command asmgen writes the kernels package's Go assembly with avo:
//
//	go generate ./kernels
//
// reproduces dot_amd64.s and dot_stub_amd64.go byte for byte. Every
// kernel here has a pure-Go twin in package kernels that it must match
// exactly (integer sums) and that the tests compare it against.
//
// One file per kernel family, as in package kernels:
//
//	dotk.go       one-row K-quant dots (Q4_K, Q5_K, Q6_K by Q8_K)
//	dotsmall.go   Q8_0, F32 and F16 dots, axpy
//	gemv4rows.go  decode GEMV, four GGUF-layout rows by one column
//	gemm.go       GGUF-layout GEMM, one row by four columns; unpacked Q4_K
//	q4kr4.go      repacked Q4_K (BlockQ4KR4): GEMV and 4/8-column GEMM
//	q6kr4.go      repacked Q6_K (BlockQ6KR4): the same
//	panel.go      32-row panels for large batches
//	attention.go  flash attention, softmax pieces, Hadamard, SwiGLU
//	quantize.go   activation quantizers (Q8_K, Q8_0)
//	float.go      the seed's float Q4_K variant
//	probes.go     bandwidth and int8-peak probes for the harness
//	layout.go     block layouts (byte offsets) of every format read
//	insn.go       instructions avo lacks (VNNI, GFNI) and idioms
//	vexvnni.go    the AVX-VNNI re-encoding pass over the output
//
// main below fixes the order of the output; moving a generator between
// files changes nothing in it.
package main

import (
	"flag"

	. "github.com/mmcloughlin/avo/build"
)

func main() {
	ConstraintExpr("!purego")
	shuf := scaleShuffles()
	dotQ4KQ8KAVX2(shuf)
	q6kShuf := q6kScaleShuffles()
	dotQ6KQ8KAVX2(q6kShuf)
	sumU64AVX2()
	zshuf := zmmScaleShuffles()
	dotQ4KQ8KAVX512(zshuf)
	gemmQ4KQ8KAVX2(shuf)
	gemmQ6KQ8KAVX2(q6kShuf)
	gemmQ4KQ8KAVX512(zshuf)
	unpackQ4KAVX2(shuf)
	gemmUnpackedQ4KAVX512()
	dotQ4KF32AVX2()
	quantizeQ8KAVX2()
	gemvQ4KQ8KAVX2x4rows(shuf, false)
	gemvQ4KQ8KAVX2x4rows(shuf, true)
	gemvQ4KQ8KAVX512x4rows(zshuf)
	sumU64AVX512()
	gemvQ6KQ8KAVX2x4rows(q6kShuf)
	dotQ8_0Q8_0AVX2()
	dotF32AVX2x8()
	dotF16AVX2x8()
	axpyF32AVX2()
	dotQ8_0RowsAVX2()
	dotQ8_0Rows8AVX2()
	dotQ8_0RowsHeadsAVX512(dotQ8_0Rows8Perm())
	axpyF32RowsHeads2AVX512()
	scaleMaxF32HeadsAVX512()
	expSubF32HeadsAVX512(expConstsN("expConsts16", 16))
	dequantQ8_0RowsAVX2()
	dequantQ8_0RowsAVX512()
	axpyF32RowsKernel("axpyF32RowsAVX2", 4, 32)
	axpyF32RowsKernel("axpyF32RowsAVX2x64", 8, 32)
	axpyF32RowsKernel("axpyF32RowsAVX512", 8, 64)
	ec := expConsts()
	expSubF32AVX2x8(ec)
	swiGLUAVX2(ec)
	scaleMaxF32AVX2x8()
	hadamardAVX2(hadamardSigns())
	quantizeQ8_0AVX2()
	int8PeakAVX512()
	int8PeakAVX2()
	int8PeakAVXVNNI()
	pairsGather := r4PairsGather()
	smc := newR4SMConsts()
	gemvQ4KR4Q8KAVX512(pairsGather, smc, false)
	gemvQ4KR4Q8KAVX512(pairsGather, smc, true)
	gemvQ4KR4Q8KAVX2(smc, true, true)
	gemvQ4KR4Q8KAVX2(smc, false, false)
	gemvQ4KR4Q8KAVX2(smc, true, false)
	splat := r4LaneSplat()
	gemmQ4KR4Q8KAVX512x4(splat, smc)
	gemmQ4KR4Q8KAVX512x2(splat, smc)
	gemmQ4KR4Q8KAVX512x3(splat, smc)
	transposeTab := r4Transpose()
	gemmQ4KR4Q8KAVX512x8(splat, transposeTab, smc)
	for _, n := range []int{4, 2, 3} { // x4T, x2T, x3T: token-major
		gemmQ4KR4Q8KAVX512(n, splat, transposeTab, smc)
	}
	for _, n := range []int{4, 2, 3} {
		gemmQ4KR4Q8KAVX2(n, smc, false)
		gemmQ4KR4Q8KAVX2(n, smc, true)
	}
	gemvQ6KR4Q8KAVX512()
	r6splat := r6LaneSplat()
	gemmQ6KR4Q8KAVX512x4(r6splat)
	gemmQ6KR4Q8KAVX512x2(r6splat)
	gemmQ6KR4Q8KAVX512x3(r6splat)
	gemmQ6KR4Q8KAVX512x8(r6splat, transposeTab)
	gemmQ6KR4Q8KAVX512xNT(r6splat, transposeTab)
	gemvQ6KR4Q8KAVX2(false)
	gemvQ6KR4Q8KAVX2(true)
	for _, n := range []int{4, 2, 3} {
		gemmQ6KR4Q8KAVX2(n, false)
		gemmQ6KR4Q8KAVX2(n, true)
	}
	gemmPanelQ8KAVX512x4(32)
	gemmPanelQ8KAVX512x4(16)
	gemmPanelQ8KAVX2x4(32)
	gemmPanelQ8KAVX2x4(16)
	panelQsQ4KR4AVX2()
	panelQsQ6KR4AVX2()
	panelQsQ4KAVX512()
	panelScalesQ4KAVX512()
	panelQsQ6KAVX512()
	panelR4 := panelR4Tables()
	panelFromQ4KR4AVX512(panelR4)
	panelFromQ6KR4AVX512(panelR4)
	sumU64PrefetchAVX2()
	sumU64PrefetchAVX512()
	dotQ5KQ8KAVX2(shuf)
	gemmQ5KQ8KAVX2(shuf)
	Generate()
	vexVNNI(flag.Lookup("out").Value.String())
}
