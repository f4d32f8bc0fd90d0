package kernels

// ScaleMinK4 unpacks sub-block j's 6-bit scale and min from a Q4_K (or
// Q5_K) 12-byte scales field: bytes 0..3 hold scales 0..3 in their low six
// bits, bytes 4..7 mins 0..3; sub-blocks 4..7 keep their low four bits in
// bytes 8..11 and their top two bits in the spare top bits of bytes 0..7.
func ScaleMinK4(j int, q *[12]uint8) (sc, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	sc = q[j+4]&0xF | (q[j-4]>>6)<<4
	m = q[j+4]>>4 | (q[j]>>6)<<4
	return sc, m
}

// DequantQ4K decodes blocks into out (len(out) == 256*len(blocks)).
func DequantQ4K(blocks []BlockQ4K, out []float32) {
	for i := range blocks {
		b := &blocks[i]
		y := out[i*QK_K : (i+1)*QK_K]
		d := FP16ToF32(b.D)
		dmin := FP16ToF32(b.Dmin)
		for j := 0; j < 4; j++ { // four chunks of 64: low nibbles then high nibbles of 32 bytes
			sc1, m1 := ScaleMinK4(2*j, &b.Scales)
			sc2, m2 := ScaleMinK4(2*j+1, &b.Scales)
			d1, mm1 := d*float32(sc1), dmin*float32(m1)
			d2, mm2 := d*float32(sc2), dmin*float32(m2)
			q := b.Qs[32*j : 32*j+32]
			for l := 0; l < 32; l++ {
				y[64*j+l] = d1*float32(q[l]&0xF) - mm1
				y[64*j+32+l] = d2*float32(q[l]>>4) - mm2
			}
		}
	}
}

// DequantQ5K decodes Q5_K blocks into out.
func DequantQ5K(blocks []BlockQ5K, out []float32) {
	for i := range blocks {
		b := &blocks[i]
		y := out[i*QK_K : (i+1)*QK_K]
		d := FP16ToF32(b.D)
		dmin := FP16ToF32(b.Dmin)
		for j := 0; j < 4; j++ {
			sc1, m1 := ScaleMinK4(2*j, &b.Scales)
			sc2, m2 := ScaleMinK4(2*j+1, &b.Scales)
			d1, mm1 := d*float32(sc1), dmin*float32(m1)
			d2, mm2 := d*float32(sc2), dmin*float32(m2)
			q := b.Qs[32*j : 32*j+32]
			for l := 0; l < 32; l++ {
				hi1 := (b.Qh[l] >> (2 * j)) & 1
				hi2 := (b.Qh[l] >> (2*j + 1)) & 1
				y[64*j+l] = d1*float32(q[l]&0xF|hi1<<4) - mm1
				y[64*j+32+l] = d2*float32(q[l]>>4|hi2<<4) - mm2
			}
		}
	}
}

// DequantQ6K decodes blocks into out. Each half of 128 weights takes
// 64 bytes of ql and 32 of qh; byte l of each yields four weights, 32
// apart.
func DequantQ6K(blocks []BlockQ6K, out []float32) {
	for i := range blocks {
		b := &blocks[i]
		d := FP16ToF32(b.D)
		for half := 0; half < 2; half++ {
			ql := b.Ql[64*half : 64*half+64]
			qh := b.Qh[32*half : 32*half+32]
			y := out[i*QK_K+128*half : i*QK_K+128*half+128]
			sc := b.Scales[8*half : 8*half+8]
			for l := 0; l < 32; l++ {
				is := l / 16
				y[l] = d * float32(sc[is]) * float32(int8(ql[l]&0xF|(qh[l]&3)<<4)-32)
				y[l+32] = d * float32(sc[is+2]) * float32(int8(ql[l+32]&0xF|((qh[l]>>2)&3)<<4)-32)
				y[l+64] = d * float32(sc[is+4]) * float32(int8(ql[l]>>4|((qh[l]>>4)&3)<<4)-32)
				y[l+96] = d * float32(sc[is+6]) * float32(int8(ql[l+32]>>4|((qh[l]>>6)&3)<<4)-32)
			}
		}
	}
}

// DequantQ8_0 decodes blocks into out.
func DequantQ8_0(blocks []BlockQ8_0, out []float32) {
	for i := range blocks {
		d := FP16ToF32(blocks[i].D)
		for l, q := range blocks[i].Qs {
			out[i*QK8_0+l] = d * float32(q)
		}
	}
}

// DequantF16 widens fp16 values.
func DequantF16(in []uint16, out []float32) {
	for i, h := range in {
		out[i] = FP16ToF32(h)
	}
}

// DequantBF16 widens bfloat16 values.
func DequantBF16(in []uint16, out []float32) {
	for i, h := range in {
		out[i] = BF16ToF32(h)
	}
}
