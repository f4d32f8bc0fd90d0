//go:build !purego

// The wrappers of the repacked-row (R4) and 4-row GEMV and GEMM kernels,
// and the call plan that splits a long row group into short calls.

package kernels

import (
	"unsafe"
)

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
// does. The AVX-512 Q4_K kernel of two columns loads a block ahead like
// the GEMVs (those of three and four were measured below with it too;
// they are now software pipelined instead, which one call per row group
// suits: each call's first block and last block end run unoverlapped).
// Split (r4CallPlan), streaming 512 MB on one Zen 5
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
		eachCall(nb, calls, func(b0, b1 int) {
			k((*byte)(unsafe.Pointer(&w[b0])), (*byte)(unsafe.Pointer(&a[b0])), stride*BlockQ8KSize, b1-b0, &out[0])
		})
	}
}

// eachCall runs call over the pieces [b0, b1) a GEMM wrapper splits nb
// blocks into: calls(nb) near-equal ones, one with calls nil.
func eachCall(nb int, calls func(nb int) int, call func(b0, b1 int)) {
	n := 1
	if calls != nil {
		n = calls(nb)
	}
	for i, b0 := 0, 0; i < n; i++ {
		b1 := (i + 1) * nb / n
		call(b0, b1)
		b0 = b1
	}
}

// gemmR4x8Slices wraps a 4-row × 8-column kernel that stores token-major
// (column c's four rows at out[c·ostride:]).
func gemmR4x8Slices[B any](k func(w, a *byte, stride, nb int, out *float32, ostride int)) func([]B, []BlockQ8K, int, []float32, int) {
	return gemmR4TSlices[B](k, 8, nil)
}

// gemmR4TSlices wraps a 4-row × cols-column kernel that stores
// token-major (column c's four rows at out[c·ostride:]). With calls nil
// the kernel writes out in one call (4 and 8 columns); otherwise it adds
// to out, zeroed here, and the row group is multiplied in calls(nb)
// calls (2 and 3 columns, as gemmR4xNSlices).
func gemmR4TSlices[B any](k func(w, a *byte, stride, nb int, out *float32, ostride int), cols int, calls func(nb int) int) func([]B, []BlockQ8K, int, []float32, int) {
	return func(w []B, a []BlockQ8K, stride int, out []float32, ostride int) {
		nb := len(w)
		_ = out[(cols-1)*ostride+3] // the kernel writes four rows of each column
		if nb == 0 || calls != nil {
			for c := 0; c < cols; c++ {
				clear(out[c*ostride : c*ostride+4])
			}
		}
		if nb == 0 {
			return
		}
		_ = a[(cols-1)*stride+nb-1] // the kernel reads cols columns
		eachCall(nb, calls, func(b0, b1 int) {
			k((*byte)(unsafe.Pointer(&w[b0])), (*byte)(unsafe.Pointer(&a[b0])), stride*BlockQ8KSize, b1-b0, &out[0], 4*ostride)
		})
	}
}
