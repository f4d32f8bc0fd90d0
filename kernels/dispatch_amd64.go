//go:build !purego

package kernels

import (
	"fmt"
	"math"
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
	o.DotQ6KQ8K = dotQ6KQ8KAVX2Slices(pf)
	o.GemmQ4KQ8K1x4 = gemmQ4KQ8KAVX2x4Slices
	o.GemvQ4KQ8K4x1 = gemvRowsSlices[BlockQ4K](gemvQ4KQ8KAVX2x4rows, BlockQ4KSize)
	o.GemvQ6KQ8K4x1 = gemvRowsSlices[BlockQ6K](gemvQ6KQ8KAVX2x4rows, BlockQ6KSize)
	o.GemmQ6KQ8K1x4 = gemmQ6KQ8KAVX2x4Slices
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

// swiGLUAVX2Slices: the kernel takes the multiple of 8, the twin's code
// the tail.
func swiGLUAVX2Slices(gate, up []float32) {
	n := len(gate) &^ 7
	if n > 0 {
		_ = up[n-1]
		swiGLUAVX2(&gate[0], &up[0], n)
	}
	SwiGLU(gate[n:], up[n:len(gate)])
}

func hadamardAVX2Slices(x []float32, n int) {
	if n < 16 || n&(n-1) != 0 {
		Hadamard(x, n)
		return
	}
	if blocks := len(x) / n; blocks > 0 {
		hadamardAVX2(&x[0], n, blocks, float32(1/math.Sqrt(float64(n))))
	}
}

func quantizeRowQ8_0AVX2(x []float32, out []BlockQ8_0) {
	if len(out) == 0 {
		return
	}
	_ = x[len(out)*QK8_0-1]
	quantizeQ8_0AVX2(&x[0], (*byte)(unsafe.Pointer(&out[0])), len(out))
}

func dotQ8_0RowsAVX2Slices(dst []float32, k []BlockQ8_0, stride int, q []BlockQ8_0) {
	if len(dst) == 0 {
		return
	}
	if len(q) == 0 {
		clear(dst)
		return
	}
	_ = k[(len(dst)-1)*stride+len(q)-1]
	// Eight rows at a time, the rest one by one.
	g := len(dst) / 8
	if g > 0 {
		dotQ8_0Rows8AVX2((*byte)(unsafe.Pointer(&k[0])), (*byte)(unsafe.Pointer(&q[0])), len(q), g, stride*BlockQ8_0Size, &dst[0])
	}
	if rest := len(dst) - 8*g; rest > 0 {
		dotQ8_0RowsAVX2((*byte)(unsafe.Pointer(&k[8*g*stride])), (*byte)(unsafe.Pointer(&q[0])), len(q), rest, stride*BlockQ8_0Size, &dst[8*g])
	}
}

// dotQ8_0RowsHeadsAVX512Slices: keys eight at a time for every query in
// the VNNI kernel (up to dotQ8_0RowsHeadsMax query blocks, eight per
// query), the last n%8 keys per query through the AVX2 kernel.
func dotQ8_0RowsHeadsAVX512Slices(dst []float32, n int, k []BlockQ8_0, stride int, q []BlockQ8_0, nq int) {
	if n == 0 || nq == 0 {
		return
	}
	nb := len(q) / nq
	g := n / 8
	if nb == 0 || nb > 8 || nb*nq > 64 {
		g = 0
	}
	_ = dst[nq*n-1]
	if g > 0 {
		_ = k[(n-1)*stride+nb-1]
		dotQ8_0RowsHeadsAVX512((*byte)(unsafe.Pointer(&k[0])), stride*BlockQ8_0Size, g,
			(*byte)(unsafe.Pointer(&q[0])), nb, nq, &dst[0], n)
	}
	if done := 8 * g; done < n {
		for h := 0; h < nq; h++ {
			dotQ8_0RowsAVX2Slices(dst[h*n+done:(h+1)*n], k[done*stride:], stride, q[h*nb:(h+1)*nb])
		}
	}
}

// axpyF32RowsHeadsAVX512Slices: heads two at a time in the AVX-512
// kernel when the head size is a multiple of 64, an odd last head (or
// other head sizes) through the one-head kernel.
func axpyF32RowsHeadsAVX512Slices(out []float32, nh int, p []float32, v []float32) {
	if nh == 0 || len(out) == 0 || len(p) == 0 {
		return
	}
	hd, rows := len(out)/nh, len(p)/nh
	h := 0
	if hd%64 == 0 && rows > 0 {
		_ = v[rows*hd-1]
		_ = out[nh*hd-1]
		_ = p[nh*rows-1]
		for ; h+2 <= nh; h += 2 {
			axpyF32RowsHeads2AVX512(&out[h*hd], &p[h*rows], &v[0], rows, hd/64, rows)
		}
	}
	if h < nh {
		eachHeadAxpy(axpyF32RowsAVX512Slices, out[h*hd:], nh-h, p[h*rows:], v)
	}
}

// expSubF32HeadsAVX512Slices: every head in one kernel call when the
// scores per head are a multiple of 16 (64-key tiles), else the AVX2
// kernel per head; the lanes are combined as the twin combines them.
func expSubF32HeadsAVX512Slices(x []float32, nh int, m, sums []float32) {
	n := len(x) / nh
	if n == 0 || n%16 != 0 || nh > maxHeads {
		eachHeadExpSub(expSubF32AVX2Slices, x, nh, m, sums)
		return
	}
	_, _ = m[nh-1], sums[nh-1]
	var s [8 * maxHeads]float32
	expSubF32HeadsAVX512(&x[0], n, nh, &m[0], &s[0])
	for h := 0; h < nh; h++ {
		sums[h] = sumLanes8((*[8]float32)(s[8*h:]))
	}
}

// scaleMaxF32HeadsAVX512Slices is expSubF32HeadsAVX512Slices's
// counterpart for ScaleMaxF32 (the lane fold is the twin's).
func scaleMaxF32HeadsAVX512Slices(x []float32, nh int, scale float32, m, mt []float32) {
	n := len(x) / nh
	if n == 0 || n%16 != 0 || nh > maxHeads {
		eachHeadScaleMax(scaleMaxF32AVX2Slices, x, nh, scale, m, mt)
		return
	}
	_, _ = m[nh-1], mt[nh-1]
	var c [8 * maxHeads]float32
	scaleMaxF32HeadsAVX512(&x[0], n, nh, scale, &m[0], &c[0])
	for h := 0; h < nh; h++ {
		mt[h] = scaleMaxTail(x[h*n:(h+1)*n], n, scale, (*[8]float32)(c[8*h:]))
	}
}

// maxHeads bounds the heads one call of the multi-head softmax kernels
// takes (their lane results live on the caller's stack).
const maxHeads = 16

// dequantRowsSlices wraps a value-tile widening kernel (AVX2 or
// AVX-512: one generator, dequantQ8_0RowsKernel) with its bounds checks.
func dequantRowsSlices(k func(dst *float32, v *byte, stride, rows, nb int)) func([]float32, []BlockQ8_0, int, int, int) {
	return func(dst []float32, v []BlockQ8_0, stride, rows, n int) {
		nb := n / QK8_0
		if rows <= 0 || nb == 0 {
			return
		}
		_ = v[(rows-1)*stride+nb-1]
		_ = dst[rows*nb*QK8_0-1]
		k(&dst[0], (*byte)(unsafe.Pointer(&v[0])), stride*BlockQ8_0Size, rows, nb)
	}
}

// axpyF32RowsAVX2Slices: the kernel takes whole chunks of 64 values, or
// of 32; other sizes (never, for head sizes that are multiples of 32) go
// to the twin's loop, which sums each element in the same row order.
func axpyF32RowsAVX2Slices(out []float32, p []float32, v []float32) {
	n := len(out)
	if len(p) == 0 || n == 0 {
		return
	}
	_ = v[len(p)*n-1]
	switch {
	case n%64 == 0:
		axpyF32RowsAVX2x64(&out[0], &p[0], &v[0], len(p), n/64)
	case n%32 == 0:
		axpyF32RowsAVX2(&out[0], &p[0], &v[0], len(p), n/32)
	default:
		AxpyF32Rows(out, p, v)
	}
}

// axpyF32RowsAVX512Slices: chunks of 128 values (a whole head of the 7B
// and Phi-4 shapes in eight registers), else the AVX2 kernels.
func axpyF32RowsAVX512Slices(out []float32, p []float32, v []float32) {
	n := len(out)
	if len(p) == 0 || n == 0 {
		return
	}
	_ = v[len(p)*n-1]
	if n%128 == 0 {
		axpyF32RowsAVX512(&out[0], &p[0], &v[0], len(p), n/128)
		return
	}
	axpyF32RowsAVX2Slices(out, p, v)
}

// scaleMaxF32AVX2Slices: the kernel's eight lane maxima, then the
// twin's tail and fold.
func scaleMaxF32AVX2Slices(x []float32, scale, m float32) float32 {
	var c [8]float32
	n := len(x) &^ 7
	if n > 0 {
		scaleMaxF32AVX2x8(&x[0], n, scale, m, &c[0])
	} else {
		for k := range c {
			c[k] = m
		}
	}
	return scaleMaxTail(x, n, scale, &c)
}

// expSubF32AVX2Slices: the kernel keeps ExpSubF32's eight partial sums
// in a YMM register; the tail and the combination are the twin's code.
func expSubF32AVX2Slices(x []float32, m float32) float32 {
	var s [8]float32
	n := len(x) &^ 7
	if n > 0 {
		expSubF32AVX2x8(&x[0], n, m, &s[0])
	}
	expSubTail(x, n, m, &s)
	return sumLanes8(&s)
}

func dotQ8_0Q8_0AVX2Slices(w, a []BlockQ8_0) float32 {
	if len(w) == 0 {
		return 0
	}
	_ = a[len(w)-1]
	return dotQ8_0Q8_0AVX2((*byte)(unsafe.Pointer(&w[0])), (*byte)(unsafe.Pointer(&a[0])), len(w))
}

// dotF32AVX2Slices: the kernel keeps DotF32's eight partial sums in a
// YMM register; the tail and the final combination are DotF32's own code.
func dotF32AVX2Slices(w, a []float32) float32 {
	var s [8]float32
	n := len(w) &^ 7
	if n > 0 {
		_ = a[n-1]
		dotF32AVX2x8(&w[0], &a[0], n, &s[0])
	}
	dotF32Tail(w, a, n, &s)
	return sumLanes8(&s)
}

func dotF16AVX2Slices(w, a []uint16) float32 {
	var s [8]float32
	n := len(w) &^ 7
	if n > 0 {
		_ = a[n-1]
		dotF16AVX2x8(&w[0], &a[0], n, &s[0])
	}
	dotF16Tail(w, a, n, &s)
	return sumLanes8(&s)
}

func quantizeRowQ8KAVX2(x []float32, out []BlockQ8K) {
	if len(out) == 0 {
		return
	}
	_ = x[len(out)*QK_K-1] // the kernel reads 256 values per block
	quantizeQ8KAVX2(&x[0], (*byte)(unsafe.Pointer(&out[0])), len(out))
}

func unpackQ4KAVX2Slices(b []BlockQ4K, u []UnpackedQ4K) {
	if len(b) == 0 {
		return
	}
	_ = u[len(b)-1]
	unpackQ4KAVX2((*byte)(unsafe.Pointer(&b[0])), (*byte)(unsafe.Pointer(&u[0])), len(b))
}

func gemmQ6KQ8KAVX2x4Slices(w []BlockQ6K, a []BlockQ8K, stride int, out *[4]float32) {
	if len(w) == 0 {
		*out = [4]float32{}
		return
	}
	_ = a[3*stride+len(w)-1]
	gemmQ6KQ8KAVX2x4((*byte)(unsafe.Pointer(&w[0])), (*byte)(unsafe.Pointer(&a[0])), stride*BlockQ8KSize, len(w), &out[0])
}

func gemmQ4KQ8KAVX2x4Slices(w []BlockQ4K, a []BlockQ8K, stride int, out *[4]float32) {
	if len(w) == 0 {
		*out = [4]float32{}
		return
	}
	_ = a[3*stride+len(w)-1] // the kernel reads four columns
	gemmQ4KQ8KAVX2x4((*byte)(unsafe.Pointer(&w[0])), (*byte)(unsafe.Pointer(&a[0])), stride*BlockQ8KSize, len(w), &out[0])
}

func dotQ6KQ8KAVX2Slices(pf int) func([]BlockQ6K, []BlockQ8K) float32 {
	return func(w []BlockQ6K, a []BlockQ8K) float32 {
		if len(w) == 0 {
			return 0
		}
		_ = a[len(w)-1]
		return dotQ6KQ8KAVX2((*byte)(unsafe.Pointer(&w[0])), (*byte)(unsafe.Pointer(&a[0])), len(w), pf)
	}
}

func dotQ4KQ8KAVX2Slices(pf int) func([]BlockQ4K, []BlockQ8K) float32 {
	return func(w []BlockQ4K, a []BlockQ8K) float32 {
		if len(w) == 0 {
			return 0
		}
		_ = a[len(w)-1] // the kernel reads len(w) activation blocks
		return dotQ4KQ8KAVX2((*byte)(unsafe.Pointer(&w[0])), (*byte)(unsafe.Pointer(&a[0])), len(w), pf)
	}
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
	o.GemmQ6KR4Q8K4x2 = gemmR4xNSlices[BlockQ6KR4](gemmQ6KR4Q8KAVX512x2, 2, oneCall)
	o.GemmQ6KR4Q8K4x3 = gemmR4xNSlices[BlockQ6KR4](gemmQ6KR4Q8KAVX512x3, 3, oneCall)
	o.GemmQ4KR4Q8K4x4 = gemmR4Slices[BlockQ4KR4](gemmQ4KR4Q8KAVX512x4, oneCall)
	o.GemmQ4KR4Q8K4x2 = gemmR4xNSlices[BlockQ4KR4](gemmQ4KR4Q8KAVX512x2, 2, calls)
	o.GemmQ4KR4Q8K4x3 = gemmR4xNSlices[BlockQ4KR4](gemmQ4KR4Q8KAVX512x3, 3, oneCall)
	o.GemmQ4KR4Q8K4x8 = gemmR4x8Slices[BlockQ4KR4](gemmQ4KR4Q8KAVX512x8)
	o.GemmQ6KR4Q8K4x8 = gemmR4x8Slices[BlockQ6KR4](gemmQ6KR4Q8KAVX512x8)
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

// panelFromQ4KAVX512: per super-block, the headers of all 32 rows
// (transposed four at a time, ScaleMinK4 as vector shifts and masks) and
// their weights (a 16×16 dword transpose per nibble kind) in two kernels.
func panelFromQ4KAVX512(p *Panel, src []BlockQ4K, nb int) {
	if len(src) < PanelRows*nb {
		panic(fmt.Sprintf("kernels: PanelFromQ4K needs %d blocks, got %d", PanelRows*nb, len(src)))
	}
	p.reset(nb*QK_K, 32)
	for i := 0; i < nb; i++ {
		b := (*byte)(unsafe.Pointer(&src[i]))
		panelScalesQ4KAVX512(b, nb*BlockQ4KSize, &p.Sc[i*8*PanelRows], &p.Mn[i*8*PanelRows], &p.DM[i*2*PanelRows])
		panelQsQ4KAVX512(b, nb*BlockQ4KSize, &p.Qs[i*QK_K*PanelRows])
	}
}

// panelFromR4Slices wraps a repacked-row panel kernel (blocks of size
// bytes, sub weights per scale) that widens one super-block of the
// eight groups per call, after checking the sizes.
func panelFromR4Slices[R any](k func(src *byte, groupStride int, dst *byte, sc *int32, mn *uint32, dm *float32), size, sub int) func(*Panel, []R, int) {
	return func(p *Panel, src []R, nb int) {
		resetR4Panel(p, len(src), nb, sub)
		for i := 0; i < nb; i++ {
			k((*byte)(unsafe.Pointer(&src[i])), nb*size, &p.Qs[i*QK_K*PanelRows],
				&p.Sc[i*QK_K/sub*PanelRows], &p.Mn[i*8*PanelRows], &p.DM[i*2*PanelRows])
		}
	}
}

// panelFromQ6KAVX512: the scales in Go (a few stores per row and
// block), the weights in the kernel, a super-block of 32 rows per call.
func panelFromQ6KAVX512(p *Panel, src []BlockQ6K, nb int) {
	panelScalesQ6K(p, src, nb)
	for i := 0; i < nb; i++ {
		panelQsQ6KAVX512((*byte)(unsafe.Pointer(&src[i])), nb*BlockQ6KSize, &p.Qs[i*QK_K*PanelRows])
	}
}

// panelKernel is a panel GEMM kernel's signature (gemmPanelQ8KAVX512x4s32
// and the rest): the panel's arrays from super-block k0, the columns,
// out and the accumulate flag.
type panelKernel func(qs *byte, sc *int32, mn *uint32, dm *float32, a *byte, stride int, nb int, out *float32, ostride int, acc int)

// gemmPanelSlices wraps a pair of panel kernels (sub-blocks of 32: Q4_K,
// of 16: Q6_K) with rows rows each call (16: the AVX2 kernels, called
// for rows 0-15 and 16-31, whose quads, scales, mins and d start 64
// bytes into each 32-row vector; 32: AVX-512): it checks every slice
// the kernels read or write, then calls the one for the panel's
// sub-block size.
func gemmPanelSlices(k32, k16 panelKernel, rows int) func(p *Panel, k0, nb int, a []BlockQ8K, stride int, out []float32, ostride int, acc bool) {
	return func(p *Panel, k0, nb int, a []BlockQ8K, stride int, out []float32, ostride int, acc bool) {
		if nb <= 0 {
			GemmPanelQ8K32x4(p, k0, 0, a, stride, out, ostride, acc)
			return
		}
		ns := QK_K / p.Sub
		_ = p.Qs[(k0+nb)*QK_K*PanelRows-1]
		_ = p.Sc[(k0+nb)*ns*PanelRows-1]
		_ = p.Mn[(k0+nb)*8*PanelRows-1]
		_ = p.DM[(k0+nb)*2*PanelRows-1]
		_ = a[3*stride+nb-1]
		_ = out[3*ostride+PanelRows-1]
		kernel := k32
		if p.Sub == 16 {
			kernel = k16
		}
		flag := 0
		if acc {
			flag = 1
		}
		for r := 0; r < PanelRows; r += rows {
			kernel(&p.Qs[k0*QK_K*PanelRows+4*r], &p.Sc[k0*ns*PanelRows+r], &p.Mn[k0*8*PanelRows+r], &p.DM[k0*2*PanelRows+r],
				(*byte)(unsafe.Pointer(&a[0])), stride*BlockQ8KSize, nb, &out[r], ostride*4, flag)
		}
	}
}

// panelFromQ4KR4AVX2: the scales in Go (panelScalesQ4KR4, which also
// checks src's length), the weights one super-block of the 32 rows per
// kernel call.
func panelFromQ4KR4AVX2(p *Panel, src []BlockQ4KR4, nb int) {
	panelScalesQ4KR4(p, src, nb)
	for i := 0; i < nb; i++ {
		panelQsQ4KR4AVX2((*byte)(unsafe.Pointer(&src[i])), nb*BlockQ4KR4Size, &p.Qs[i*QK_K*PanelRows])
	}
}

// panelFromQ6KR4AVX2 is panelFromQ4KR4AVX2 for repacked Q6_K rows.
func panelFromQ6KR4AVX2(p *Panel, src []BlockQ6KR4, nb int) {
	panelScalesQ6KR4(p, src, nb)
	for i := 0; i < nb; i++ {
		panelQsQ6KR4AVX2((*byte)(unsafe.Pointer(&src[i])), nb*BlockQ6KR4Size, &p.Qs[i*QK_K*PanelRows])
	}
}

func gemmUnpackedQ4KAVX512x4Slices(u []UnpackedQ4K, a []BlockQ8K, stride int, out *[4]float32) {
	if len(u) == 0 {
		*out = [4]float32{}
		return
	}
	_ = a[3*stride+len(u)-1]
	gemmUnpackedQ4KAVX512x4((*byte)(unsafe.Pointer(&u[0])), (*byte)(unsafe.Pointer(&a[0])), stride*BlockQ8KSize, len(u), &out[0])
}

func gemmQ4KQ8KAVX512x4Slices(w []BlockQ4K, a []BlockQ8K, stride int, out *[4]float32) {
	if len(w) == 0 {
		*out = [4]float32{}
		return
	}
	_ = a[3*stride+len(w)-1]
	gemmQ4KQ8KAVX512x4((*byte)(unsafe.Pointer(&w[0])), (*byte)(unsafe.Pointer(&a[0])), stride*BlockQ8KSize, len(w), &out[0])
}

func dotQ4KQ8KAVX512Slices(pf int) func([]BlockQ4K, []BlockQ8K) float32 {
	return func(w []BlockQ4K, a []BlockQ8K) float32 {
		if len(w) == 0 {
			return 0
		}
		_ = a[len(w)-1]
		return dotQ4KQ8KAVX512((*byte)(unsafe.Pointer(&w[0])), (*byte)(unsafe.Pointer(&a[0])), len(w), pf)
	}
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

// gemvRowsSlices wraps a 4-row GEMV kernel: bounds are checked here, once
// per call, so the kernel can trust its pointers.
//
// Prefetch: the four rows are read side by side, so a fixed distance
// past each row would mostly land in the next of the same four rows
// (already being read). Each row instead prefetches the same block of the
// row four further on — what the next call reads. On the 7B mock this
// beat the fixed 6 KiB (2.3–2.4 against 2.0–2.1 t/s at 1 thread, same
// run), and no prefetch at all gave 1.8.
func gemvRowsSlices[B any](k func(w, a *byte, nb, pf int, out *float32), size int) func([]B, []BlockQ8K, *[4]float32) {
	return func(w []B, a []BlockQ8K, out *[4]float32) {
		nb := len(a)
		if nb == 0 {
			*out = [4]float32{}
			return
		}
		_ = w[4*nb-1]
		k((*byte)(unsafe.Pointer(&w[0])), (*byte)(unsafe.Pointer(&a[0])), nb, 4*nb*size, &out[0])
	}
}

// gemvR4Slices wraps a repacked 4-row kernel, which adds to out: out is
// zeroed here and the row group multiplied in calls(nb) calls of
// near-equal length (r4CallPlan or oneCall). The group of four rows is
// one contiguous stream, so a fixed distance ahead (pf bytes) is always
// the data the kernel reads next, whichever call reads it; and each call
// continues the float chain the last one left, so the sums are the same,
// bit for bit.
func gemvR4Slices[B any](k func(w, a *byte, nb, pf int, out *float32), pf int, calls func(nb int) int) func([]B, []BlockQ8K, *[4]float32) {
	return func(w []B, a []BlockQ8K, out *[4]float32) {
		*out = [4]float32{}
		nb := len(w)
		if nb == 0 {
			return
		}
		_ = a[nb-1]
		n := calls(nb)
		for i, b0 := 0, 0; i < n; i++ {
			b1 := (i + 1) * nb / n
			k((*byte)(unsafe.Pointer(&w[b0])), (*byte)(unsafe.Pointer(&a[b0])), b1-b0, pf, &out[0])
			b0 = b1
		}
	}
}

// oneCall multiplies a row group in one call.
func oneCall(int) int { return 1 }

// r4CallPlan is how many calls the AVX-512 repacked GEMVs, and the
// 2-column Q4_K GEMM, split a row group of nb blocks into, for at most
// max blocks per call (Ops.R4CallBlocks; 0: one call): none up to max
// blocks, past that equal calls of max/2 to max blocks where nb has such
// a divisor, else near-equal ones. With the default 8: 16 blocks as 8+8,
// 20 as 5×4, 22 as 7+7+8, 43 as 7×5+8.
//
// Why: these kernels load each block's weights a block ahead (asmgen's
// blockAhead), and streaming from memory on one Zen 5 core they ran at
// 24–27 GB/s on rows of 16, 20, 22 and 43 blocks (the 7B's and
// TinyLlama's widths) but at 30–34 GB/s, the plain read rate, on rows of
// 8, and on the longer rows cut into calls of 4–8 blocks (kernel level,
// 512 MB of matrices, alternated). The split itself, not the addresses,
// makes the difference: the data read is the same, in the same order.
// Why it helps is not understood, and not every split does: uneven ones
// mixing a call of 6 with calls of 7 or 8 ran at 22–24 GB/s (20 as
// 6+7+7, 22 as 6+8+8), while 22 as 7+7+8 and 43 as 8+8+8+8+11 ran at
// 31–34. So the plan prefers equal calls. 7B mock decode: 5.9–6.4 →
// 6.9–7.5 t/s at 1 thread, 11.1–11.5 → 13.1–13.4 at 2 (alternated
// rounds); TinyLlama's down (22 blocks, Q6_K) 24.3 → 27.9 GB/s. The AVX2
// kernels, which do not load ahead, ran no faster split (20 against 22–24
// GB/s on 16 blocks), so they are called once, and so are the AVX-512
// Q6_K GEMMs, which do not load ahead either (unchanged split: 22.4–22.6
// against 22.7–22.9 GB/s at two columns).
//
// The plan is asked once per row group, tens of thousands of times a
// decode step, and its divisor search costs up to five integer
// divisions (TinyLlama's 22-block rows: about 0.3 ms a token), so the
// answers for rows of up to planBlocks blocks are worked out once, here.
func r4CallPlan(max int) func(nb int) int {
	if max <= 0 {
		return oneCall
	}
	calls := func(nb int) int {
		if nb <= max {
			return 1
		}
		for d := max; d >= (max+1)/2; d-- {
			if nb%d == 0 {
				return nb / d
			}
		}
		return (nb + max - 1) / max
	}
	var table [planBlocks + 1]uint16 // read-only once built: the workers share it
	for nb := range table {
		table[nb] = uint16(calls(nb))
	}
	return func(nb int) int {
		if nb <= planBlocks {
			return int(table[nb])
		}
		return calls(nb)
	}
}

// planBlocks is the longest row r4CallPlan tabulates: 1024 blocks,
// 262144 columns, past any model's width.
const planBlocks = 1024

// gemmR4Slices wraps a repacked 4-row × 4-token GEMM kernel.
func gemmR4Slices[B any](k func(w, a *byte, stride, nb int, out *float32), calls func(nb int) int) func([]B, []BlockQ8K, int, *[16]float32) {
	return gemmR4xNSlices[B](k, 4, calls)
}

// gemmR4xNSlices wraps a 4-row × cols-column kernel (out[4r+c], the
// columns past cols zero). With calls nil the kernel writes out (AVX2,
// AVX-VNNI); otherwise it adds to out (AVX-512), which is zeroed here,
// and the row group is multiplied in calls(nb) calls as gemvR4Slices
// does. The AVX-512 Q4_K kernels of up to four columns load a block
// ahead like the GEMVs. Split (r4CallPlan), streaming 512 MB on one Zen 5
// core, the 2-column one ran at 28.5–30.2 GB/s against 24.9–26.6 whole
// (16 and 22 blocks), and 7B mock batches of two tokens at 2 threads
// took 83–94 ms against 85–97 (`bench --curve`, alternated); the
// 4-column one gained only 5% on one core (20.8–21.4 against 19.5–20.3
// GB/s, compute-bound) and batches of three and four were no faster
// split at 2 threads, so they take one call.
func gemmR4xNSlices[B any](k func(w, a *byte, stride, nb int, out *float32), cols int, calls func(nb int) int) func([]B, []BlockQ8K, int, *[16]float32) {
	return func(w []B, a []BlockQ8K, stride int, out *[16]float32) {
		nb := len(w)
		if nb == 0 || calls != nil {
			*out = [16]float32{}
		}
		if nb == 0 {
			return
		}
		_ = a[(cols-1)*stride+nb-1] // the kernel reads cols columns
		n := 1
		if calls != nil {
			n = calls(nb)
		}
		for i, b0 := 0, 0; i < n; i++ {
			b1 := (i + 1) * nb / n
			k((*byte)(unsafe.Pointer(&w[b0])), (*byte)(unsafe.Pointer(&a[b0])), stride*BlockQ8KSize, b1-b0, &out[0])
			b0 = b1
		}
	}
}

// gemmR4x8Slices wraps a 4-row × 8-column kernel that stores token-major
// (column c's four rows at out[c·ostride:]).
func gemmR4x8Slices[B any](k func(w, a *byte, stride, nb int, out *float32, ostride int)) func([]B, []BlockQ8K, int, []float32, int) {
	return func(w []B, a []BlockQ8K, stride int, out []float32, ostride int) {
		if len(w) == 0 {
			for c := 0; c < 8; c++ {
				clear(out[c*ostride : c*ostride+4])
			}
			return
		}
		_ = a[7*stride+len(w)-1] // the kernel reads eight columns
		_ = out[7*ostride+3]     // and writes four rows of each
		k((*byte)(unsafe.Pointer(&w[0])), (*byte)(unsafe.Pointer(&a[0])), stride*BlockQ8KSize, len(w), &out[0], 4*ostride)
	}
}

func axpyF32AVX2Slices(a float32, x, y []float32) {
	n := len(x) &^ 7
	if n > 0 {
		_ = y[len(x)-1]
		axpyF32AVX2(a, &x[0], &y[0], n)
	}
	for i := n; i < len(x); i++ {
		y[i] += float32(a * x[i])
	}
}
