package kernels

import (
	"encoding/binary"
	"unsafe"
)

// BlockQ6KR4 is one super-block of four consecutive Q6_K rows,
// interleaved like BlockQ4KR4 so that a 64-byte load holds the same
// weights of all four rows, one row per 128-bit lane:
//
//   - D: the rows' fp16 scales;
//   - Scales: the int8 sub-block scales, [half][row][8]: sign-extended,
//     half h fills row r's lane with the scales of sub-blocks 8h..8h+7;
//   - Ql: the low 4 bits, for 32 weights k·32.. per row: byte i holds
//     weight 32k+i in its low nibble and 32k+16+i in its high nibble;
//   - Qh: the top 2 bits, for 64 weights m·64.. per row: byte i holds
//     those of weights 64m+i, +16, +32, +48 in bits 0-1, 2-3, 4-5, 6-7.
//
// Integer sums and the float step are DotQ6KQ8K's, so results are
// bit-identical to it. 840 bytes: 4×210, Q6_K's own size (decode streams
// every byte).
type BlockQ6KR4 struct {
	D      [4]uint16
	Scales [2][4][8]int8
	Ql     [8][4][16]uint8
	Qh     [4][4][16]uint8
}

// BlockQ6KR4Size is the byte size of BlockQ6KR4.
const BlockQ6KR4Size = 840

var (
	_ [BlockQ6KR4Size - unsafe.Sizeof(BlockQ6KR4{})]struct{}
	_ [unsafe.Sizeof(BlockQ6KR4{}) - BlockQ6KR4Size]struct{}
)

// RepackQ6KR4 interleaves four Q6_K rows of nb blocks each (row r is
// src[r*nb:(r+1)*nb]) into dst (len nb).
func RepackQ6KR4(src []BlockQ6K, dst []BlockQ6KR4) {
	const lo4, two = 0x0f0f0f0f0f0f0f0f, 0x0303030303030303
	nb := len(dst)
	_ = src[4*nb-1]
	for i := range dst {
		o := &dst[i]
		for r := 0; r < 4; r++ {
			b := &src[r*nb+i]
			o.D[r] = b.D
			for s := 0; s < 16; s++ {
				o.Scales[s/8][r][s%8] = b.Scales[s]
			}
			// Eight bytes at a time. Ql: group k = 4h+p of 32 weights is
			// the low (p < 2) or high (p ≥ 2) nibbles of ql[64h+32(p&1):].
			for k := 0; k < 8; k++ {
				h, p := k/4, k%4
				off := 64*h + 32*(p&1)
				for i := 0; i < 16; i += 8 {
					x := binary.LittleEndian.Uint64(b.Ql[off+i:])
					y := binary.LittleEndian.Uint64(b.Ql[off+16+i:])
					if p >= 2 {
						x, y = x>>4, y>>4
					}
					binary.LittleEndian.PutUint64(o.Ql[k][r][i:], x&lo4|(y&lo4)<<4)
				}
			}
			// Qh: group m of 64 weights takes the 2-bit fields 0,1 (m
			// even) or 2,3 (m odd) of qh[32h+i] and qh[32h+16+i].
			for m := 0; m < 4; m++ {
				h, sh := m/2, uint(4*(m%2))
				for i := 0; i < 16; i += 8 {
					a := binary.LittleEndian.Uint64(b.Qh[32*h+i:]) >> sh
					c := binary.LittleEndian.Uint64(b.Qh[32*h+16+i:]) >> sh
					v := a&two | (c&two)<<2 | (a>>2&two)<<4 | (c>>2&two)<<6
					binary.LittleEndian.PutUint64(o.Qh[m][r][i:], v)
				}
			}
		}
	}
}

// GemvQ6KR4Q8K4x1 is the Go twin of the repacked 4-row Q6_K kernel: out[r]
// is DotQ6KQ8K of row r against a.
func GemvQ6KR4Q8K4x1(w []BlockQ6KR4, a []BlockQ8K, out *[4]float32) {
	var sum [4]float32
	for i := range w {
		b, y := &w[i], &a[i]
		for r := 0; r < 4; r++ {
			var sumi int32
			for s := 0; s < 16; s++ {
				k, hiHalf := s/2, s%2 // 32-weight group, and which 16 of it
				m, sh := s/4, 2*(s%4)
				var t int32
				for l := 0; l < 16; l++ {
					lo := b.Ql[k][r][l] >> (4 * hiHalf) & 0xF
					u := lo | (b.Qh[m][r][l]>>sh&3)<<4
					t += (int32(u) - 32) * int32(y.Qs[16*s+l])
				}
				sumi += int32(b.Scales[s/8][r][s%8]) * t
			}
			d := float32(FP16ToF32(b.D[r]) * y.D)
			sum[r] += float32(d * float32(sumi))
		}
	}
	*out = sum
}

// AsQ6KR4 views raw bytes (a multiple of BlockQ6KR4Size) as blocks.
func AsQ6KR4(b []byte) []BlockQ6KR4 { return asBlocks[BlockQ6KR4](b, BlockQ6KR4Size) }

// GemmQ6KR4Q8K4x4 is the Go twin of the repacked 4×4 Q6_K GEMM kernel:
// out[4r+c] is DotQ6KQ8K of row r and column c (a[c*stride:]).
func GemmQ6KR4Q8K4x4(w []BlockQ6KR4, a []BlockQ8K, stride int, out *[16]float32) {
	gemmR4Cols(w, a, stride, out, 4, GemvQ6KR4Q8K4x1)
}

// GemmQ6KR4Q8K4x2 is the Go twin of the 2-column Q6_K kernel: columns 0
// and 1 as GemmQ6KR4Q8K4x4's, 2 and 3 zero.
func GemmQ6KR4Q8K4x2(w []BlockQ6KR4, a []BlockQ8K, stride int, out *[16]float32) {
	gemmR4Cols(w, a, stride, out, 2, GemvQ6KR4Q8K4x1)
}

// GemmQ6KR4Q8K4x3 is the Go twin of the 3-column Q6_K kernel.
func GemmQ6KR4Q8K4x3(w []BlockQ6KR4, a []BlockQ8K, stride int, out *[16]float32) {
	gemmR4Cols(w, a, stride, out, 3, GemvQ6KR4Q8K4x1)
}

// GemmQ6KR4Q8K4x8 is the Go twin of the 4-row × 8-column Q6_K kernel,
// stored token-major like GemmQ4KR4Q8K4x8: out[c·ostride + r].
func GemmQ6KR4Q8K4x8(w []BlockQ6KR4, a []BlockQ8K, stride int, out []float32, ostride int) {
	gemmR4x8(w, a, stride, out, ostride, GemmQ6KR4Q8K4x4)
}
