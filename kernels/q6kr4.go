package kernels

import "unsafe"

// BlockQ6KR4 is one super-block of four consecutive Q6_K rows,
// interleaved like BlockQ4KR4 so that a 64-byte load holds the same
// weights of all four rows, one row per 128-bit lane:
//
//   - D: the rows' fp16 scales (then padding to 16 bytes);
//   - Scales: the int8 sub-block scales, [half][row][8]: sign-extended,
//     half h fills row r's lane with the scales of sub-blocks 8h..8h+7;
//   - Ql: the low 4 bits, for 32 weights k·32.. per row: byte i holds
//     weight 32k+i in its low nibble and 32k+16+i in its high nibble;
//   - Qh: the top 2 bits, for 64 weights m·64.. per row: byte i holds
//     those of weights 64m+i, +16, +32, +48 in bits 0-1, 2-3, 4-5, 6-7.
//
// Integer sums and the float step are DotQ6KQ8K's, so results are
// bit-identical to it. 848 bytes for 4×210 of Q6_K (1% more).
type BlockQ6KR4 struct {
	D      [4]uint16
	_      [8]byte
	Scales [2][4][8]int8
	Ql     [8][4][16]uint8
	Qh     [4][4][16]uint8
}

// BlockQ6KR4Size is the byte size of BlockQ6KR4.
const BlockQ6KR4Size = 848

var (
	_ [BlockQ6KR4Size - unsafe.Sizeof(BlockQ6KR4{})]struct{}
	_ [unsafe.Sizeof(BlockQ6KR4{}) - BlockQ6KR4Size]struct{}
)

// q6kLevels returns a Q6_K block's 256 unsigned 6-bit levels (0..63) in
// weight order (the weight is D·scale·(level−32)).
func q6kLevels(b *BlockQ6K) (u [256]uint8) {
	for half := 0; half < 2; half++ {
		ql := b.Ql[64*half : 64*half+64]
		qh := b.Qh[32*half : 32*half+32]
		base := 128 * half
		for l := 0; l < 32; l++ {
			u[base+l] = ql[l]&0xF | (qh[l]&3)<<4
			u[base+32+l] = ql[l+32]&0xF | ((qh[l]>>2)&3)<<4
			u[base+64+l] = ql[l]>>4 | ((qh[l]>>4)&3)<<4
			u[base+96+l] = ql[l+32]>>4 | ((qh[l]>>6)&3)<<4
		}
	}
	return u
}

// RepackQ6KR4 interleaves four Q6_K rows of nb blocks each (row r is
// src[r*nb:(r+1)*nb]) into dst (len nb).
func RepackQ6KR4(src []BlockQ6K, dst []BlockQ6KR4) {
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
			u := q6kLevels(b)
			for k := 0; k < 8; k++ {
				for l := 0; l < 16; l++ {
					o.Ql[k][r][l] = u[32*k+l]&0xF | (u[32*k+16+l]&0xF)<<4
				}
			}
			for m := 0; m < 4; m++ {
				for l := 0; l < 16; l++ {
					o.Qh[m][r][l] = u[64*m+l]>>4 | (u[64*m+16+l]>>4)<<2 | (u[64*m+32+l]>>4)<<4 | (u[64*m+48+l]>>4)<<6
				}
			}
		}
	}
}

// GemvQ6KR4Q8K is the Go twin of the repacked 4-row Q6_K kernel: out[r]
// is DotQ6KQ8K of row r against a.
func GemvQ6KR4Q8K(w []BlockQ6KR4, a []BlockQ8K, out *[4]float32) {
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
func AsQ6KR4(b []byte) []BlockQ6KR4 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*BlockQ6KR4)(unsafe.Pointer(&b[0])), len(b)/BlockQ6KR4Size)
}

// GemmQ6KR4Q8Kx4 is the Go twin of the repacked 4×4 Q6_K GEMM kernel:
// out[4r+c] is DotQ6KQ8K of row r and column c (a[c*stride:]).
func GemmQ6KR4Q8Kx4(w []BlockQ6KR4, a []BlockQ8K, stride int, out *[16]float32) {
	var col [4]float32
	for c := 0; c < 4; c++ {
		GemvQ6KR4Q8K(w, a[c*stride:c*stride+len(w)], &col)
		for r := 0; r < 4; r++ {
			out[4*r+c] = col[r]
		}
	}
}
