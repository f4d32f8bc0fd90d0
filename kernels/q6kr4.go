package kernels

import (
	"encoding/binary"
	"unsafe"
)

// BlockQ6KR4 is one super-block of four consecutive Q6_K rows,
// interleaved in Q4_K R4's chunk form (BlockQ4KR4) so that one 64-byte
// load of activations meets four rows' weights in one vpdpbusd each:
//
//   - D: the rows' fp16 scales;
//   - Scales: the int8 sub-block scales, [half][row][8]: half h holds
//     row r's scales of sub-blocks 8h..8h+7;
//   - Qs: four 192-byte chunks; chunk i holds weights 4i..4i+3 of every
//     sub-block (16 weights) of all four rows, weight 16k+4i+e of the
//     block (sub-block k) at byte 4k+e of each of its three 64-byte
//     parts: the low four bits of rows 0 (low nibble) and 1 (high) in
//     part 0, of rows 2 and 3 in part 1, and the top two bits of row r
//     at bits 2r, 2r+1 of part 2.
//
// After the unpack each dword of a row's register is four weights of one
// sub-block: against activations in the same order (Q8KToQ6R4Order) a
// dword accumulator keeps one (row, sub-block) sum through the whole
// block, scaled once at its end. The layout it replaces, one 32-weight
// group per load, needed a 16-byte activation broadcast, a vpmaddubsw
// and a vpdpwssd per sub-block and row pair: in cache its AVX-512
// 4-column GEMM took 449 ns per 16 blocks, this one's 325, and its GEMV
// 3.7 µs per 64 rows against 2.6 (go test ./kernels -bench
// 'GemmQ6K$|GemvQ6K').
//
// Integer sums and the float step are DotQ6KQ8K's, so results are
// bit-identical to it. 840 bytes: 4×210, Q6_K's own size (decode streams
// every byte).
type BlockQ6KR4 struct {
	D      [4]uint16
	Scales [2][4][8]int8
	Qs     [4][192]uint8
}

// BlockQ6KR4Size is the byte size of BlockQ6KR4.
const BlockQ6KR4Size = 840

var (
	_ [BlockQ6KR4Size - unsafe.Sizeof(BlockQ6KR4{})]struct{}
	_ [unsafe.Sizeof(BlockQ6KR4{}) - BlockQ6KR4Size]struct{}
)

// q6kLevels writes the 256 unsigned 6-bit levels (0..63) of b in weight
// order. Each half of 128 weights takes 64 bytes of Ql and 32 of Qh;
// byte l of each yields four weights, 32 apart (DequantQ6K's order),
// done here eight bytes at a time.
func q6kLevels(b *BlockQ6K, u *[QK_K]uint8) {
	const lo4, two = 0x0f0f0f0f0f0f0f0f, 0x0303030303030303
	le := binary.LittleEndian
	for h := 0; h < 2; h++ {
		ql, qh, y := b.Ql[64*h:64*h+64], b.Qh[32*h:32*h+32], u[128*h:128*h+128]
		for l := 0; l < 32; l += 8 {
			x, x2, t := le.Uint64(ql[l:]), le.Uint64(ql[l+32:]), le.Uint64(qh[l:])
			le.PutUint64(y[l:], x&lo4|(t&two)<<4)
			le.PutUint64(y[l+32:], x2&lo4|(t>>2&two)<<4)
			le.PutUint64(y[l+64:], x>>4&lo4|(t>>4&two)<<4)
			le.PutUint64(y[l+96:], x2>>4&lo4|(t>>6&two)<<4)
		}
	}
}

// setQ6KLevels is q6kLevels' inverse: it fills b's Ql and Qh from u.
func setQ6KLevels(b *BlockQ6K, u *[QK_K]uint8) {
	const lo4, two = 0x0f0f0f0f0f0f0f0f, 0x0303030303030303
	le := binary.LittleEndian
	for h := 0; h < 2; h++ {
		ql, qh, y := b.Ql[64*h:64*h+64], b.Qh[32*h:32*h+32], u[128*h:128*h+128]
		for l := 0; l < 32; l += 8 {
			a, c, d, e := le.Uint64(y[l:]), le.Uint64(y[l+32:]), le.Uint64(y[l+64:]), le.Uint64(y[l+96:])
			le.PutUint64(ql[l:], a&lo4|(d&lo4)<<4)
			le.PutUint64(ql[l+32:], c&lo4|(e&lo4)<<4)
			le.PutUint64(qh[l:], a>>4&two|(c>>4&two)<<2|(d>>4&two)<<4|(e>>4&two)<<6)
		}
	}
}

// level is the level of row r's weight 16k+4i+e in chunk i of b.
func (b *BlockQ6KR4) level(r, i, k, e int) uint8 {
	c := &b.Qs[i]
	lo := c[64*(r/2)+4*k+e] >> (4 * (r % 2)) & 0xF
	return lo | (c[128+4*k+e]>>(2*r)&3)<<4
}

// RepackQ6KR4 interleaves four Q6_K rows of nb blocks each (row r is
// src[r*nb:(r+1)*nb]) into dst (len nb).
func RepackQ6KR4(src []BlockQ6K, dst []BlockQ6KR4) {
	nb := len(dst)
	_ = src[4*nb-1]
	var u [4][QK_K]uint8
	for i := range dst {
		o := &dst[i]
		for r := 0; r < 4; r++ {
			b := &src[r*nb+i]
			o.D[r] = b.D
			for s := 0; s < 16; s++ {
				o.Scales[s/8][r][s%8] = b.Scales[s]
			}
			q6kLevels(b, &u[r])
		}
		// Four weights (a dword) of each row at a time: weights
		// 16k+4c.. of chunk c, sub-block k.
		le := binary.LittleEndian
		for c := 0; c < 4; c++ {
			q := &o.Qs[c]
			for k := 0; k < 16; k++ {
				n := 16*k + 4*c
				const lo4, two = 0x0f0f0f0f, 0x03030303
				l0, l1, l2, l3 := le.Uint32(u[0][n:]), le.Uint32(u[1][n:]), le.Uint32(u[2][n:]), le.Uint32(u[3][n:])
				le.PutUint32(q[4*k:], l0&lo4|(l1&lo4)<<4)
				le.PutUint32(q[64+4*k:], l2&lo4|(l3&lo4)<<4)
				le.PutUint32(q[128+4*k:], l0>>4&two|(l1>>4&two)<<2|(l2>>4&two)<<4|(l3>>4&two)<<6)
			}
		}
	}
}

// Q8KToQ6R4Order writes src's blocks to dst with their Qs in the order
// of BlockQ6KR4's chunks: byte 64i+4k+e of dst holds byte 16k+4i+e of
// src (a transpose of 16×4 dwords), so that the 64 bytes at 64i are
// weights 4i..4i+3 of every sub-block of 16. D and Bsums are copied
// (a sub-block's sum does not depend on its order). The repacked Q6_K
// kernels read their activations in this order.
func Q8KToQ6R4Order(dst, src []BlockQ8K) {
	if len(src) == 0 {
		return
	}
	_ = dst[len(src)-1]
	for n := range src {
		s, d := &src[n], &dst[n]
		d.D, d.Bsums = s.D, s.Bsums
		// Qs sits 4 bytes into the block: its dwords are aligned.
		from := (*[64]uint32)(unsafe.Pointer(&s.Qs))
		to := (*[64]uint32)(unsafe.Pointer(&d.Qs))
		for k := 0; k < 16; k++ {
			for i := 0; i < 4; i++ {
				to[16*i+k] = from[4*k+i]
			}
		}
	}
}

// GemvQ6KR4Q8K4x1 is the Go twin of the repacked 4-row Q6_K kernel: out[r]
// is DotQ6KQ8K of row r against the activations a holds in the Q6 R4
// order (Q8KToQ6R4Order).
func GemvQ6KR4Q8K4x1(w []BlockQ6KR4, a []BlockQ8K, out *[4]float32) {
	var sum [4]float32
	for i := range w {
		b, y := &w[i], &a[i]
		for r := 0; r < 4; r++ {
			var sumi int32
			for k := 0; k < 16; k++ {
				// As the kernels: the unsigned levels' sum, less 32 times
				// the sub-block's activation sum.
				t := -32 * int32(y.Bsums[k])
				for c := 0; c < 4; c++ {
					for e := 0; e < 4; e++ {
						t += int32(b.level(r, c, k, e)) * int32(y.Qs[64*c+4*k+e])
					}
				}
				sumi += int32(b.Scales[k/8][r][k%8]) * t
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

// GemmQ6KR4Q8K4x4T is the Go twin of the 4-column Q6_K kernel stored
// token-major: out[c·ostride + r].
func GemmQ6KR4Q8K4x4T(w []BlockQ6KR4, a []BlockQ8K, stride int, out []float32, ostride int) {
	gemmR4T(w, a, stride, out, ostride, GemmQ6KR4Q8K4x4, 4)
}

// GemmQ6KR4Q8K4x2T is the Go twin of the 2-column Q6_K kernel stored
// token-major.
func GemmQ6KR4Q8K4x2T(w []BlockQ6KR4, a []BlockQ8K, stride int, out []float32, ostride int) {
	gemmR4T(w, a, stride, out, ostride, GemmQ6KR4Q8K4x2, 2)
}

// GemmQ6KR4Q8K4x3T is the Go twin of the 3-column Q6_K kernel stored
// token-major.
func GemmQ6KR4Q8K4x3T(w []BlockQ6KR4, a []BlockQ8K, stride int, out []float32, ostride int) {
	gemmR4T(w, a, stride, out, ostride, GemmQ6KR4Q8K4x3, 3)
}

// GemmQ6KR4Q8K4x8 is the Go twin of the 4-row × 8-column Q6_K kernel,
// stored token-major like GemmQ4KR4Q8K4x8: out[c·ostride + r].
func GemmQ6KR4Q8K4x8(w []BlockQ6KR4, a []BlockQ8K, stride int, out []float32, ostride int) {
	gemmR4x8(w, a, stride, out, ostride, GemmQ6KR4Q8K4x4)
}
