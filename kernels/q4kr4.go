package kernels

import (
	"encoding/binary"
	"unsafe"
)

// BlockQ4KR4 is one super-block (256 columns) of four consecutive Q4_K
// rows, interleaved for the decode GEMV (roadmap phase 6). Repacked once
// when a model is loaded, it takes the per-row header decoding and the
// lane regrouping out of the kernel, and it is exactly as large as the
// four Q4_K blocks it replaces (576 bytes, nine cache lines): decode
// streams the weights, so every byte of layout is paid at memory speed.
//
//   - DM: the rows' fp16 super-scales as d0 dmin0 d1 dmin1 … — one
//     vcvtph2ps gives the vector the float step needs;
//   - SM, MHi: the 6-bit sub-block scales s and mins m of row r,
//     sub-block j (k = 8r+j), rearranged so that a few whole-vector
//     shifts and masks give them as zero-extended words, row r in
//     128-bit lane r: SM[k] = s | (m&3)<<6 (a word's s is SM&63, its
//     m's low bits SM>>6), MHi[i] = m_i>>2 | (m_{i+16}>>2)<<4 (one
//     zero-extended 16-byte load serves rows 0-1 by its low nibbles and
//     rows 2-3 by its high ones). Q4_K's own 12-byte packing needs
//     scalar shuffling per row;
//   - Qs: eight 64-byte chunks; chunk i holds weights 4i..4i+3 of every
//     sub-block of all four rows. Byte 32h+4k+e of chunk i holds weight
//     4i+e of sub-block k (weight 32k+4i+e of the block) of row 2h in
//     its low nibble and of row 2h+1 in its high nibble. After the
//     nibble split of one 64-byte load, each dword is four weights of
//     one (row, sub-block): against activations in the same order
//     (Q8KToR4Order), one 32-byte broadcast meets two rows in each half
//     of a ZMM, and a dword accumulator keeps one (row, sub-block) sum
//     through the whole block, scaled once at its end — no per-sub-block
//     scaling and half the broadcasts of a layout with one sub-block per
//     load (in cache, the 2-, 3-, 4- and 8-column GEMMs took 8-19% less
//     time). With a 64-byte aligned first block every load is one cache
//     line.
//
// The integer sums per row and block are those of DotQ4KQ8K, and the
// float step is the same, so results are bit-identical to it.
type BlockQ4KR4 struct {
	DM  [8]uint16
	SM  [32]uint8
	MHi [16]uint8
	Qs  [8][64]uint8
}

// BlockQ4KR4Size is the byte size of BlockQ4KR4: 4×144, Q4_K's own.
const BlockQ4KR4Size = 576

var (
	_ [BlockQ4KR4Size - unsafe.Sizeof(BlockQ4KR4{})]struct{}
	_ [unsafe.Sizeof(BlockQ4KR4{}) - BlockQ4KR4Size]struct{}
)

// ScaleMin returns sub-block j's 6-bit scale and min in row r.
func (b *BlockQ4KR4) ScaleMin(r, j int) (s, m uint8) {
	k := 8*r + j
	hi := b.MHi[k%16] >> (4 * (k / 16)) & 0xF
	return b.SM[k] & 63, b.SM[k]>>6 | hi<<2
}

// setScaleMin stores sub-block j's scale and min of row r.
func (b *BlockQ4KR4) setScaleMin(r, j int, s, m uint8) {
	k := 8*r + j
	b.SM[k] = s | (m&3)<<6
	sh := 4 * (k / 16)
	b.MHi[k%16] = b.MHi[k%16]&^(0xF<<sh) | (m>>2)<<sh
}

// RepackQ4KR4 interleaves four Q4_K rows of nb blocks each (row r is
// src[r*nb:(r+1)*nb]) into dst (len nb).
func RepackQ4KR4(src []BlockQ4K, dst []BlockQ4KR4) {
	nb := len(dst)
	_ = src[4*nb-1]
	const lo4 = 0x0f0f0f0f0f0f0f0f
	for i := range dst {
		o := &dst[i]
		for r := 0; r < 4; r++ {
			b := &src[r*nb+i]
			o.DM[2*r], o.DM[2*r+1] = b.D, b.Dmin
			for j := 0; j < 8; j++ {
				s, m := ScaleMinK4(j, &b.Scales)
				o.setScaleMin(r, j, s, m)
			}
		}
		// Q4_K's sub-blocks 2m and 2m+1 are the low and high nibbles of
		// Qs[32m:32m+32]: weights 4i..4i+3 of both are bytes 32m+4i..,
		// taken eight at a time (two chunks, both sub-blocks).
		for h := 0; h < 2; h++ {
			lo, hi := &src[2*h*nb+i], &src[(2*h+1)*nb+i]
			for m := 0; m < 4; m++ {
				for c := 0; c < 8; c += 2 {
					x := binary.LittleEndian.Uint64(lo.Qs[32*m+4*c:])
					y := binary.LittleEndian.Uint64(hi.Qs[32*m+4*c:])
					even, odd := x&lo4|(y&lo4)<<4, x>>4&lo4|y&^lo4
					binary.LittleEndian.PutUint32(o.Qs[c][32*h+8*m:], uint32(even))
					binary.LittleEndian.PutUint32(o.Qs[c+1][32*h+8*m:], uint32(even>>32))
					binary.LittleEndian.PutUint32(o.Qs[c][32*h+8*m+4:], uint32(odd))
					binary.LittleEndian.PutUint32(o.Qs[c+1][32*h+8*m+4:], uint32(odd>>32))
				}
			}
		}
	}
}

// Q8KToR4Order writes src's blocks to dst with their Qs in the order of
// BlockQ4KR4's chunks: byte 32i+4k+e of dst holds byte 32k+4i+e of src
// (a transpose of the 8×8 dwords), so that the 32 bytes at 32i are
// weights 4i..4i+3 of every sub-block. Bsums[k] of dst is sub-block k's
// sum (src's Bsums[2k] + Bsums[2k+1], at most 32·128 in magnitude),
// Bsums[8:] zero: one 16-byte broadcast then meets a row's eight mins.
// D is copied. The repacked Q4_K kernels read their activations in this
// order.
func Q8KToR4Order(dst, src []BlockQ8K) {
	if len(src) == 0 {
		return
	}
	_ = dst[len(src)-1]
	for n := range src {
		s, d := &src[n], &dst[n]
		d.D = s.D
		for k := 0; k < 8; k++ {
			d.Bsums[k] = s.Bsums[2*k] + s.Bsums[2*k+1]
			d.Bsums[8+k] = 0
		}
		// Qs sits 4 bytes into the block: its dwords are aligned.
		from := (*[64]uint32)(unsafe.Pointer(&s.Qs))
		to := (*[64]uint32)(unsafe.Pointer(&d.Qs))
		for k := 0; k < 8; k++ {
			for i := 0; i < 8; i++ {
				to[8*i+k] = from[8*k+i]
			}
		}
	}
}

// GemvQ4KR4Q8K4x1 is the Go twin of the repacked 4-row kernel: out[r] is
// DotQ4KQ8K of row r of the group against the activations a holds in the
// R4 order (Q8KToR4Order), computed from the repacked layout in the
// same order.
func GemvQ4KR4Q8K4x1(w []BlockQ4KR4, a []BlockQ8K, out *[4]float32) {
	var sum [4]float32
	for i := range w {
		b, y := &w[i], &a[i]
		for r := 0; r < 4; r++ {
			var sumi, summ int32
			h, sh := r/2, 4*uint(r%2)
			for j := 0; j < 8; j++ {
				var s int32
				for c := 0; c < 8; c++ {
					for e := 0; e < 4; e++ {
						o := 32*h + 4*j + e
						s += int32(b.Qs[c][o]>>sh&0xF) * int32(y.Qs[32*c+4*j+e])
					}
				}
				sc, mn := b.ScaleMin(r, j)
				sumi += int32(sc) * s
				summ += int32(mn) * int32(y.Bsums[j]) // sub-block j's sum in the R4 order
			}
			d := float32(FP16ToF32(b.DM[2*r]) * y.D)
			dmin := float32(FP16ToF32(b.DM[2*r+1]) * y.D)
			sum[r] += float32(d*float32(sumi)) - float32(dmin*float32(summ))
		}
	}
	*out = sum
}

// AsQ4KR4 views raw bytes (a multiple of BlockQ4KR4Size) as blocks.
func AsQ4KR4(b []byte) []BlockQ4KR4 { return asBlocks[BlockQ4KR4](b, BlockQ4KR4Size) }

// GemmQ4KR4Q8K4x4 is the Go twin of the repacked 4×4 GEMM kernel.
func GemmQ4KR4Q8K4x4(w []BlockQ4KR4, a []BlockQ8K, stride int, out *[16]float32) {
	gemmR4Cols(w, a, stride, out, 4, GemvQ4KR4Q8K4x1)
}

// GemmQ4KR4Q8K4x2 is the Go twin of the 4-row × 2-column kernel: out
// as GemmQ4KR4Q8K4x4's for columns 0 and 1, zero for 2 and 3.
func GemmQ4KR4Q8K4x2(w []BlockQ4KR4, a []BlockQ8K, stride int, out *[16]float32) {
	gemmR4Cols(w, a, stride, out, 2, GemvQ4KR4Q8K4x1)
}

// GemmQ4KR4Q8K4x3 is the Go twin of the 3-column kernel (column 3 zero).
func GemmQ4KR4Q8K4x3(w []BlockQ4KR4, a []BlockQ8K, stride int, out *[16]float32) {
	gemmR4Cols(w, a, stride, out, 3, GemvQ4KR4Q8K4x1)
}

// gemmR4Cols is a repacked GEMM twin from the 4-row GEMV twin: row r of
// column c (a[c·stride:], c < cols) at out[4r+c], the other columns zero.
func gemmR4Cols[B any](w []B, a []BlockQ8K, stride int, out *[16]float32, cols int, gemv func([]B, []BlockQ8K, *[4]float32)) {
	var col [4]float32
	*out = [16]float32{}
	for c := 0; c < cols; c++ {
		gemv(w, a[c*stride:c*stride+len(w)], &col)
		for r := 0; r < 4; r++ {
			out[4*r+c] = col[r]
		}
	}
}

// GemmQ4KR4Q8K4x8 is the Go twin of the 4-row × 8-column kernel: column
// c's four rows go to out[c·ostride : c·ostride+4] (the engine's
// token-major output, ostride = the matrix's row count).
func GemmQ4KR4Q8K4x8(w []BlockQ4KR4, a []BlockQ8K, stride int, out []float32, ostride int) {
	gemmR4x8(w, a, stride, out, ostride, GemmQ4KR4Q8K4x4)
}

// GemmQ4KR4Q8K4x4T is the Go twin of the 4-column kernel stored
// token-major like GemmQ4KR4Q8K4x8: out[c·ostride + r].
func GemmQ4KR4Q8K4x4T(w []BlockQ4KR4, a []BlockQ8K, stride int, out []float32, ostride int) {
	gemmR4T(w, a, stride, out, ostride, GemmQ4KR4Q8K4x4, 4)
}

// GemmQ4KR4Q8K4x2T is the Go twin of the 2-column kernel stored
// token-major: columns 0 and 1 only.
func GemmQ4KR4Q8K4x2T(w []BlockQ4KR4, a []BlockQ8K, stride int, out []float32, ostride int) {
	gemmR4T(w, a, stride, out, ostride, GemmQ4KR4Q8K4x2, 2)
}

// GemmQ4KR4Q8K4x3T is the Go twin of the 3-column kernel stored
// token-major.
func GemmQ4KR4Q8K4x3T(w []BlockQ4KR4, a []BlockQ8K, stride int, out []float32, ostride int) {
	gemmR4T(w, a, stride, out, ostride, GemmQ4KR4Q8K4x3, 3)
}

// gemmR4x8 is an 8-column repacked GEMM from two 4×4 ones, stored
// token-major: out[c·ostride + r].
func gemmR4x8[B any](w []B, a []BlockQ8K, stride int, out []float32, ostride int, x4 func([]B, []BlockQ8K, int, *[16]float32)) {
	for g := 0; g < 2; g++ {
		gemmR4T(w, a[4*g*stride:], stride, out[4*g*ostride:], ostride, x4, 4)
	}
}

// gemmR4T is a repacked GEMM of cols ≤ 4 columns (row r of column c at
// k's out[4r+c]) stored token-major: out[c·ostride + r], c < cols.
func gemmR4T[B any](w []B, a []BlockQ8K, stride int, out []float32, ostride int, k func([]B, []BlockQ8K, int, *[16]float32), cols int) {
	var o [16]float32
	k(w, a, stride, &o)
	for r := 0; r < 4; r++ {
		for c := 0; c < cols; c++ {
			out[c*ostride+r] = o[4*r+c]
		}
	}
}
