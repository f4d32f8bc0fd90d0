package kernels

import "encoding/binary"

// UnrepackQ4KR4 restores four Q4_K rows from their interleaved form
// (the inverse of RepackQ4KR4): row r goes to dst[r*len(src):]. Every
// bit of a Q4_K block is used, so the restored bytes are the original
// ones, not merely equal weights.
func UnrepackQ4KR4(src []BlockQ4KR4, dst []BlockQ4K) {
	nb := len(src)
	_ = dst[4*nb-1]
	const lo4 = 0x0f0f0f0f
	for i := range src {
		o := &src[i]
		for r := 0; r < 4; r++ {
			b := &dst[r*nb+i]
			b.D, b.Dmin = o.DM[2*r], o.DM[2*r+1]
			b.Scales = [12]uint8{}
			for j := 0; j < 8; j++ {
				s, m := o.ScaleMin(r, j)
				setScaleMinK4(j, &b.Scales, s, m)
			}
			b.Qs = [128]uint8{}
			h, sh := r/2, 4*uint(r%2)
			for k := 0; k < 8; k++ {
				for c := 0; c < 8; c++ {
					x := binary.LittleEndian.Uint32(o.Qs[c][32*h+4*k:]) >> sh & lo4
					p := b.Qs[32*(k/2)+4*c:]
					binary.LittleEndian.PutUint32(p, binary.LittleEndian.Uint32(p)|x<<(4*uint(k%2)))
				}
			}
		}
	}
}

// setScaleMinK4 stores sub-block j's 6-bit scale and min in Q4_K's
// 12-byte packing (the inverse of ScaleMinK4; q starts zeroed).
func setScaleMinK4(j int, q *[12]uint8, sc, m uint8) {
	if j < 4 {
		q[j] |= sc & 63
		q[j+4] |= m & 63
		return
	}
	q[j+4] = sc&0xF | (m&0xF)<<4
	q[j-4] |= (sc >> 4) << 6
	q[j] |= (m >> 4) << 6
}

// UnrepackQ6KR4 restores four Q6_K rows (the inverse of RepackQ6KR4).
func UnrepackQ6KR4(src []BlockQ6KR4, dst []BlockQ6K) {
	nb := len(src)
	_ = dst[4*nb-1]
	var u [QK_K]uint8
	for i := range src {
		o := &src[i]
		for r := 0; r < 4; r++ {
			b := &dst[r*nb+i]
			b.D = o.D[r]
			for s := 0; s < 16; s++ {
				b.Scales[s] = o.Scales[s/8][r][s%8]
			}
			for c := 0; c < 4; c++ {
				for k := 0; k < 16; k++ {
					for e := 0; e < 4; e++ {
						u[16*k+4*c+e] = o.level(r, c, k, e)
					}
				}
			}
			setQ6KLevels(b, &u)
		}
	}
}
