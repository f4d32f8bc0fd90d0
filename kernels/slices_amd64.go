//go:build !purego

// The wrappers between the kernel table's slices and the assembly's
// pointers: bounds checked once per call, tails in Go, so the kernels
// can trust what they are given.

package kernels

import (
	"fmt"
	"math"
	"unsafe"
)

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

func gemmQ5KQ8KAVX2x4Slices(w []BlockQ5K, a []BlockQ8K, stride int, out *[4]float32) {
	if len(w) == 0 {
		*out = [4]float32{}
		return
	}
	_ = a[3*stride+len(w)-1] // the kernel reads four columns
	gemmQ5KQ8KAVX2x4((*byte)(unsafe.Pointer(&w[0])), (*byte)(unsafe.Pointer(&a[0])), stride*BlockQ8KSize, len(w), &out[0])
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

func dotQ5KQ8KAVX2Slices(pf int) func([]BlockQ5K, []BlockQ8K) float32 {
	return func(w []BlockQ5K, a []BlockQ8K) float32 {
		if len(w) == 0 {
			return 0
		}
		_ = a[len(w)-1] // the kernel reads len(w) activation blocks
		return dotQ5KQ8KAVX2((*byte)(unsafe.Pointer(&w[0])), (*byte)(unsafe.Pointer(&a[0])), len(w), pf)
	}
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
