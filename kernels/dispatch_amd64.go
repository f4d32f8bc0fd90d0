//go:build !purego

package kernels

import (
	"unsafe"

	"github.com/klauspost/cpuid/v2"
)

// Registration happens during package variable initialisation, which
// Go completes before any init function runs — so the choice made in
// dispatch.go's init sees every ISA of this build.
var _ = registerAMD64()

func registerAMD64() bool {
	isaTable = append(isaTable, isaEntry{name: "avx2", ranking: 10, ok: hasAVX2, ops: avx2Ops})
	isaTable = append(isaTable, isaEntry{name: "avxvnni", ranking: 15, ok: hasAVXVNNI, ops: avxvnniOps})
	isaTable = append(isaTable, isaEntry{name: "avx512", ranking: 20, ok: hasAVX512, ops: avx512Ops})
	// The seed's float kernel: selectable (ASDSL_ISA=avx2-float), never
	// the default.
	isaTable = append(isaTable, isaEntry{name: "avx2-float", ranking: -10, ok: hasAVX2, ops: avx2FloatOps})
	if ok, _ := hasAVX512(); ok {
		sumU64Fast = func(b []byte) uint64 { return sumU64AVX512(&b[0], len(b)) }
		sumU64PrefetchFast = func(b []byte, pf int) uint64 { return sumU64PrefetchAVX512(&b[0], len(b), pf) }
	} else if ok, _ := hasAVX2(); ok {
		sumU64Fast = func(b []byte) uint64 { return sumU64AVX2(&b[0], len(b)) }
		sumU64PrefetchFast = func(b []byte, pf int) uint64 { return sumU64PrefetchAVX2(&b[0], len(b), pf) }
	}
	return true
}

func hasAVX2() (bool, string) {
	if !cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3, cpuid.F16C) {
		return false, "needs AVX2, FMA and F16C"
	}
	return true, ""
}

func avx2Ops(t Tuning) Ops {
	pf := t.Prefetch
	o := genericOps(t)
	o.ISA = "avx2"
	o.Int8Peak = func(n int) (int64, string) { int8PeakAVX2(n); return int64(n) * 12 * 32, "vpmaddubsw ymm" }
	o.DotQ4KQ8K = dotQ4KQ8KAVX2Slices(pf)
	o.DotQ5KQ8K = dotQ5KQ8KAVX2Slices(pf) // every x86 table: no wider Q5_K kernel
	o.DotQ6KQ8K = dotQ6KQ8KAVX2Slices(pf)
	o.GemmQ4KQ8K1x4 = gemmQ4KQ8KAVX2x4Slices
	o.GemvQ4KQ8K4x1 = gemvRowsSlices[BlockQ4K](gemvQ4KQ8KAVX2x4rows, BlockQ4KSize)
	o.GemvQ6KQ8K4x1 = gemvRowsSlices[BlockQ6K](gemvQ6KQ8KAVX2x4rows, BlockQ6KSize)
	o.GemmQ6KQ8K1x4 = gemmQ6KQ8KAVX2x4Slices
	o.GemmQ5KQ8K1x4 = gemmQ5KQ8KAVX2x4Slices
	o.UnpackQ4K = unpackQ4KAVX2Slices
	o.QuantizeRowQ8K = quantizeRowQ8KAVX2
	o.DotQ8_0Q8_0 = dotQ8_0Q8_0AVX2Slices
	o.GemvQ4KR4Q8K4x1 = gemvR4Slices[BlockQ4KR4](gemvQ4KR4Q8KAVX2, pf, oneCall)
	o.GemvQ6KR4Q8K4x1 = gemvR4Slices[BlockQ6KR4](gemvQ6KR4Q8KAVX2, pf, oneCall)
	o.GemmQ6KR4Q8K4x4 = gemmR4Slices[BlockQ6KR4](gemmQ6KR4Q8KAVX2x4, nil)
	o.GemmQ4KR4Q8K4x4 = gemmR4Slices[BlockQ4KR4](gemmQ4KR4Q8KAVX2x4, nil)
	// 2-3 token batches (speculative verification) without the spare
	// columns' arithmetic.
	o.GemmQ4KR4Q8K4x2 = gemmR4xNSlices[BlockQ4KR4](gemmQ4KR4Q8KAVX2x2, 2, nil)
	o.GemmQ4KR4Q8K4x3 = gemmR4xNSlices[BlockQ4KR4](gemmQ4KR4Q8KAVX2x3, 3, nil)
	o.GemmQ6KR4Q8K4x2 = gemmR4xNSlices[BlockQ6KR4](gemmQ6KR4Q8KAVX2x2, 2, nil)
	o.GemmQ6KR4Q8K4x3 = gemmR4xNSlices[BlockQ6KR4](gemmQ6KR4Q8KAVX2x3, 3, nil)
	o.DotF32 = dotF32AVX2Slices
	o.DotF16 = dotF16AVX2Slices
	o.AxpyF32 = axpyF32AVX2Slices
	o.DotQ8_0Rows = dotQ8_0RowsAVX2Slices
	o.DotQ8_0RowsHeads = func(dst []float32, n int, k []BlockQ8_0, stride int, q []BlockQ8_0, nq int) {
		eachHeadDots(dotQ8_0RowsAVX2Slices, dst, n, k, stride, q, nq)
	}
	o.DequantQ8_0Rows = dequantRowsSlices(dequantQ8_0RowsAVX2)
	o.AxpyF32Rows = axpyF32RowsAVX2Slices
	o.AxpyF32RowsHeads = func(out []float32, nh int, p, v []float32) { eachHeadAxpy(axpyF32RowsAVX2Slices, out, nh, p, v) }
	o.ExpSubF32 = expSubF32AVX2Slices
	o.ScaleMaxF32 = scaleMaxF32AVX2Slices
	o.ExpSubF32Heads = func(x []float32, nh int, m, sums []float32) { eachHeadExpSub(expSubF32AVX2Slices, x, nh, m, sums) }
	o.ScaleMaxF32Heads = func(x []float32, nh int, scale float32, m, mt []float32) {
		eachHeadScaleMax(scaleMaxF32AVX2Slices, x, nh, scale, m, mt)
	}
	o.Hadamard = hadamardAVX2Slices
	o.SwiGLU = swiGLUAVX2Slices
	o.QuantizeRowQ8_0 = quantizeRowQ8_0AVX2
	o.GemmPanelQ8K32x4 = gemmPanelSlices(gemmPanelQ8KAVX2x4s32, gemmPanelQ8KAVX2x4s16, PanelRows/2)
	o.PanelFromQ4KR4 = panelFromQ4KR4AVX2
	o.PanelFromQ6KR4 = panelFromQ6KR4AVX2
	return o
}

// hasAVXVNNI: the 256-bit VEX VNNI of Alder Lake and later (and of Zen 5).
func hasAVXVNNI() (bool, string) {
	if ok, why := hasAVX2(); !ok {
		return false, why
	}
	if !cpuid.CPU.Supports(cpuid.AVXVNNI) {
		return false, "needs AVX-VNNI"
	}
	return true, ""
}

// avxvnniOps: the AVX2 table with the decode GEMV's multiply-adds fused
// by AVX-VNNI's vpdpwssd.
func avxvnniOps(t Tuning) Ops {
	pf := t.Prefetch
	o := avx2Ops(t)
	o.ISA = "avxvnni"
	o.Int8Peak = func(n int) (int64, string) { int8PeakAVXVNNI(n); return int64(n) * 12 * 32, "vpdpbusd ymm (VEX)" }
	o.GemvQ4KQ8K4x1 = gemvRowsSlices[BlockQ4K](gemvQ4KQ8KAVXVNNIx4rows, BlockQ4KSize)
	o.GemvQ4KR4Q8K4x1 = gemvR4Slices[BlockQ4KR4](gemvQ4KR4Q8KAVXVNNI, pf, oneCall)
	if cpuid.CPU.Supports(cpuid.GFNI) {
		// Paired sub-blocks, high nibbles by one instruction (Alder Lake
		// and later hybrids and Zen 5 have GFNI).
		o.GemvQ4KR4Q8K4x1 = gemvR4Slices[BlockQ4KR4](gemvQ4KR4Q8KAVXVNNIGFNI, pf, oneCall)
	}
	o.GemvQ6KR4Q8K4x1 = gemvR4Slices[BlockQ6KR4](gemvQ6KR4Q8KAVXVNNI, pf, oneCall)
	o.GemmQ6KR4Q8K4x4 = gemmR4Slices[BlockQ6KR4](gemmQ6KR4Q8KAVXVNNIx4, nil)
	o.GemmQ4KR4Q8K4x4 = gemmR4Slices[BlockQ4KR4](gemmQ4KR4Q8KAVXVNNIx4, nil)
	o.GemmQ4KR4Q8K4x2 = gemmR4xNSlices[BlockQ4KR4](gemmQ4KR4Q8KAVXVNNIx2, 2, nil)
	o.GemmQ4KR4Q8K4x3 = gemmR4xNSlices[BlockQ4KR4](gemmQ4KR4Q8KAVXVNNIx3, 3, nil)
	o.GemmQ6KR4Q8K4x2 = gemmR4xNSlices[BlockQ6KR4](gemmQ6KR4Q8KAVXVNNIx2, 2, nil)
	o.GemmQ6KR4Q8K4x3 = gemmR4xNSlices[BlockQ6KR4](gemmQ6KR4Q8KAVXVNNIx3, 3, nil)
	return o
}

func hasAVX512() (bool, string) {
	if ok, why := hasAVX2(); !ok {
		return false, why
	}
	if !cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX512VNNI) {
		return false, "needs AVX-512 F, BW, VL and VNNI"
	}
	return true, ""
}

// avx512Ops: the AVX-512 Q4_K kernel, AVX2 for the rest.
func avx512Ops(t Tuning) Ops {
	pf, calls := t.Prefetch, r4CallPlan(t.R4CallBlocks)
	o := avx2Ops(t)
	o.ISA = "avx512"
	o.Int8Peak = func(n int) (int64, string) { int8PeakAVX512(n); return int64(n) * 12 * 64, "vpdpbusd zmm" }
	o.DotQ4KQ8K = dotQ4KQ8KAVX512Slices(pf)
	o.GemmQ4KQ8K1x4 = gemmQ4KQ8KAVX512x4Slices
	o.GemvQ4KQ8K4x1 = gemvRowsSlices[BlockQ4K](gemvQ4KQ8KAVX512x4rows, BlockQ4KSize)
	o.GemvQ4KR4Q8K4x1 = gemvR4Slices[BlockQ4KR4](gemvQ4KR4Q8KAVX512, pf, calls)
	if cpuid.CPU.Supports(cpuid.GFNI) {
		// One instruction for the high nibbles (Ice Lake, Zen 4 and later).
		o.GemvQ4KR4Q8K4x1 = gemvR4Slices[BlockQ4KR4](gemvQ4KR4Q8KAVX512GFNI, pf, calls)
	}
	o.GemvQ6KR4Q8K4x1 = gemvR4Slices[BlockQ6KR4](gemvQ6KR4Q8KAVX512, pf, calls)
	o.GemmQ6KR4Q8K4x4 = gemmR4Slices[BlockQ6KR4](gemmQ6KR4Q8KAVX512x4, oneCall)
	o.GemmQ6KR4Q8K4x2 = gemmR4xNSlices[BlockQ6KR4](gemmQ6KR4Q8KAVX512x2, 2, calls)
	o.GemmQ6KR4Q8K4x3 = gemmR4xNSlices[BlockQ6KR4](gemmQ6KR4Q8KAVX512x3, 3, calls)
	o.GemmQ4KR4Q8K4x4 = gemmR4Slices[BlockQ4KR4](gemmQ4KR4Q8KAVX512x4, oneCall)
	o.GemmQ4KR4Q8K4x2 = gemmR4xNSlices[BlockQ4KR4](gemmQ4KR4Q8KAVX512x2, 2, calls)
	o.GemmQ4KR4Q8K4x3 = gemmR4xNSlices[BlockQ4KR4](gemmQ4KR4Q8KAVX512x3, 3, oneCall)
	o.GemmQ4KR4Q8K4x8 = gemmR4x8Slices[BlockQ4KR4](gemmQ4KR4Q8KAVX512x8)
	o.GemmQ6KR4Q8K4x8 = gemmR4x8Slices[BlockQ6KR4](gemmQ6KR4Q8KAVX512x8)
	o.GemmQ4KR4Q8K4x4T = gemmR4TSlices[BlockQ4KR4](gemmQ4KR4Q8KAVX512x4T, 4, nil)
	o.GemmQ6KR4Q8K4x4T = gemmR4TSlices[BlockQ6KR4](gemmQ6KR4Q8KAVX512x4T, 4, nil)
	o.GemmQ4KR4Q8K4x2T = gemmR4TSlices[BlockQ4KR4](gemmQ4KR4Q8KAVX512x2T, 2, calls)
	o.GemmQ4KR4Q8K4x3T = gemmR4TSlices[BlockQ4KR4](gemmQ4KR4Q8KAVX512x3T, 3, oneCall)
	o.GemmQ6KR4Q8K4x2T = gemmR4TSlices[BlockQ6KR4](gemmQ6KR4Q8KAVX512x2T, 2, calls)
	o.GemmQ6KR4Q8K4x3T = gemmR4TSlices[BlockQ6KR4](gemmQ6KR4Q8KAVX512x3T, 3, calls)
	o.GemmQ4KUnpackedQ8K1x4 = gemmUnpackedQ4KAVX512x4Slices
	o.PreferUnpacked = true
	o.GemmPanelQ8K32x4 = gemmPanelSlices(gemmPanelQ8KAVX512x4s32, gemmPanelQ8KAVX512x4s16, PanelRows)
	o.AxpyF32Rows = axpyF32RowsAVX512Slices
	o.DotQ8_0RowsHeads = dotQ8_0RowsHeadsAVX512Slices
	o.AxpyF32RowsHeads = axpyF32RowsHeadsAVX512Slices
	o.ExpSubF32Heads = expSubF32HeadsAVX512Slices
	o.DequantQ8_0Rows = dequantRowsSlices(dequantQ8_0RowsAVX512)
	o.ScaleMaxF32Heads = scaleMaxF32HeadsAVX512Slices
	o.PanelFromQ4K = panelFromQ4KAVX512
	o.PanelFromQ4KR4 = panelFromR4Slices[BlockQ4KR4](panelFromQ4KR4AVX512, BlockQ4KR4Size, 32)
	o.PanelFromQ6KR4 = panelFromR4Slices[BlockQ6KR4](panelFromQ6KR4AVX512, BlockQ6KR4Size, 16)
	o.PanelFromQ6K = panelFromQ6KAVX512
	return o
}

// avx2FloatOps: AVX2 kernels, but Q4_K GEMV in the seed's float form.
func avx2FloatOps(t Tuning) Ops {
	o := avx2Ops(t)
	o.ISA = "avx2-float"
	o.FloatQ4K = true
	o.DotQ4KF32 = func(w []BlockQ4K, x, xsum []float32) float32 {
		if len(w) == 0 {
			return 0
		}
		_ = x[len(w)*QK_K-1]
		_ = xsum[len(w)*8-1]
		return dotQ4KF32AVX2((*byte)(unsafe.Pointer(&w[0])), &x[0], &xsum[0], len(w))
	}
	return o
}
