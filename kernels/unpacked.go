package kernels

import "unsafe"

// UnpackedQ4K is a Q4_K block expanded for reuse: a prompt's batched
// matmul meets each weight row once per group of token columns, so
// unpacking the row once per token tile (into L1) takes the nibble
// splits and the 6-bit scale decoding out of the inner loop. The layout
// is what the SIMD kernels load directly:
//
//   - W: the 256 weight levels (0..15) in weight order, the order of the
//     Q8_K activations;
//   - S: for each sub-block of 32, its scale repeated 16 times as int16
//     (one 256-bit register per sub-block, two per 512-bit one);
//   - M: the 8 mins, each twice, as int16 (pairs with the 16 activation
//     sums of 16);
//   - D, Dmin: the super-scales as float32.
type UnpackedQ4K struct {
	W    [256]uint8
	S    [128]int16
	M    [16]int16
	D    float32
	Dmin float32
	_    [24]byte // to a multiple of 64 bytes
}

// UnpackedQ4KSize is the byte size of UnpackedQ4K.
const UnpackedQ4KSize = 576

var (
	_ [UnpackedQ4KSize - unsafe.Sizeof(UnpackedQ4K{})]struct{}
	_ [unsafe.Sizeof(UnpackedQ4K{}) - UnpackedQ4KSize]struct{}
)

// UnpackQ4K expands blocks into u (same length).
func UnpackQ4K(blocks []BlockQ4K, u []UnpackedQ4K) {
	for i := range blocks {
		b, o := &blocks[i], &u[i]
		for j := 0; j < 4; j++ {
			for l := 0; l < 32; l++ {
				o.W[64*j+l] = b.Qs[32*j+l] & 0xF
				o.W[64*j+32+l] = b.Qs[32*j+l] >> 4
			}
		}
		for sb := 0; sb < 8; sb++ {
			sc, m := ScaleMinK4(sb, &b.Scales)
			for k := 0; k < 16; k++ {
				o.S[16*sb+k] = int16(sc)
			}
			o.M[2*sb], o.M[2*sb+1] = int16(m), int16(m)
		}
		o.D, o.Dmin = FP16ToF32(b.D), FP16ToF32(b.Dmin)
	}
}

// DotUnpackedQ4KQ8K is DotQ4KQ8K on an unpacked row: the same integer
// sums and the same float steps, so the same result bit for bit.
func DotUnpackedQ4KQ8K(u []UnpackedQ4K, a []BlockQ8K) float32 {
	var sum float32
	for i := range u {
		b, y := &u[i], &a[i]
		var sumi, summ int32
		for k := 0; k < 256; k++ {
			sumi += int32(b.S[16*(k/32)]) * int32(b.W[k]) * int32(y.Qs[k])
		}
		for g := 0; g < 16; g++ {
			summ += int32(b.M[g]) * int32(y.Bsums[g])
		}
		d := float32(b.D * y.D)
		dmin := float32(b.Dmin * y.D)
		sum += float32(d*float32(sumi)) - float32(dmin*float32(summ))
	}
	return sum
}

// GemmQ4KUnpackedQ8K1x4 is the Go twin of the 4-column kernel on an
// unpacked row.
func GemmQ4KUnpackedQ8K1x4(u []UnpackedQ4K, a []BlockQ8K, stride int, out *[4]float32) {
	for c := 0; c < 4; c++ {
		out[c] = DotUnpackedQ4KQ8K(u, a[c*stride:c*stride+len(u)])
	}
}
