package kernels

import (
	"encoding/binary"
	"fmt"
)

// PanelRows is how many weight rows a Panel holds: two AVX-512
// registers of sixteen dword lanes, one row per lane.
const PanelRows = 32

// Panel is 32 rows of a K-quant matrix widened, for the prompt's GEMM,
// to one unsigned byte per weight, with the blocks' integer sub-block
// scales and mins and their float super-scales beside them.
//
// Why widen: the K-quant GEMMs spend most of their instructions
// splitting nibbles and lining scales up with weights, once per few
// tokens. A panel is built once per 32 rows for the whole prompt (about
// 41 bytes per column, so it stays in L2) and its inner loop is then one
// vpdpbusd per 16 rows × 4 columns per token: weights as 16 rows × 4
// consecutive columns per 64-byte load, activations as 4 bytes broadcast
// to every lane (the layout of int8 GEMMs on VNNI).
//
// The sums are DotQ4KQ8K's and DotQ6KQ8K's integers and the float step
// is theirs, so every result is bit-identical to those dots (and to the
// K-quant GEMMs and the decode GEMV): a prompt gives the same logits
// whichever path its matmuls take.
//
// Per super-block i:
//   - Qs: [64 quads][32 rows][4 weights] bytes, the K-quant's unsigned
//     values (Q4_K 0..15; Q6_K 0..63, its −32 applied through Mn);
//   - Sc: [sub-blocks][32 rows] int32 scales (Q4_K's six-bit ones, Q6_K's
//     signed ones), for vpmulld;
//   - Mn: [8][32 rows] pairs of int16 for vpdpwssd against the Q8_K
//     block's sums of 16, taken in pairs: Q4_K (m_j, m_j), so sub-block
//     j's min meets both sums of its 32 activations; Q6_K (sc_2k, sc_2k+1);
//   - DM: [2][32 rows] floats, the fp16 d and dmin (Q6_K: d and 0).
type Panel struct {
	Sub  int // weights per scale: 32 for Q4_K, 16 for Q6_K
	Cols int
	Qs   []uint8
	Sc   []int32
	Mn   []uint32
	DM   []float32
}

// panelQuadBytes is one quad of columns of a panel: 32 rows × 4 bytes.
const panelQuadBytes = PanelRows * 4

// reset sizes p for cols columns of sub-blocks of sub, reusing memory.
func (p *Panel) reset(cols, sub int) {
	p.Sub, p.Cols = sub, cols
	nb := cols / QK_K
	p.Qs = growSlice(p.Qs, cols*PanelRows)
	p.Sc = growSlice(p.Sc, nb*QK_K/sub*PanelRows)
	p.Mn = growSlice(p.Mn, nb*8*PanelRows)
	p.DM = growSlice(p.DM, nb*2*PanelRows)
}

func growSlice[E any](s []E, n int) []E {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]E, n)
}

// pair16 packs two small integers as the int16 pair of one dword.
func pair16(lo, hi int32) uint32 { return uint32(uint16(int16(lo))) | uint32(uint16(int16(hi)))<<16 }

// PanelFromQ4K fills p from 32 Q4_K rows of nb super-blocks each (row r
// is src[r*nb:(r+1)*nb]): the Go twin of Ops.PanelFromQ4K.
func PanelFromQ4K(p *Panel, src []BlockQ4K, nb int) {
	panelScalesQ4K(p, src, nb)
	// Block-major: one super-block's 8 KB of the panel is written by all
	// 32 rows while it is in L1.
	for i := 0; i < nb; i++ {
		qs := p.Qs[i*QK_K*PanelRows : (i+1)*QK_K*PanelRows]
		for r := 0; r < PanelRows; r++ {
			b := &src[r*nb+i]
			// Sub-blocks 2c and 2c+1 are the low and high nibbles of
			// Qs[32c:32c+32]: four weights at a time, each quad straight
			// to its place.
			for c := 0; c < 4; c++ {
				for k := 0; k < 8; k++ {
					x := binary.LittleEndian.Uint32(b.Qs[32*c+4*k:])
					o := (16*c+k)*panelQuadBytes + 4*r
					binary.LittleEndian.PutUint32(qs[o:o+4], x&0x0f0f0f0f)
					binary.LittleEndian.PutUint32(qs[o+8*panelQuadBytes:o+8*panelQuadBytes+4], x>>4&0x0f0f0f0f)
				}
			}
		}
	}
}

// panelScalesQ4K sizes p for nb super-blocks of Q4_K and fills
// everything but the weights: scales, min pairs, d and dmin.
func panelScalesQ4K(p *Panel, src []BlockQ4K, nb int) {
	if len(src) < PanelRows*nb {
		panic(fmt.Sprintf("kernels: PanelFromQ4K needs %d blocks, got %d", PanelRows*nb, len(src)))
	}
	p.reset(nb*QK_K, 32)
	// Row-major: the rows come from DRAM, and reading each one front to
	// back lets the hardware prefetcher stream it (block-major order
	// waited out a miss per block: 5% of a 7B prompt). The weight pass
	// then finds them in L2.
	for r := 0; r < PanelRows; r++ {
		for i := 0; i < nb; i++ {
			sc := p.Sc[i*8*PanelRows : (i+1)*8*PanelRows]
			mn := p.Mn[i*8*PanelRows : (i+1)*8*PanelRows]
			dm := p.DM[i*2*PanelRows : (i+1)*2*PanelRows]
			b := &src[r*nb+i]
			dm[r], dm[PanelRows+r] = FP16ToF32(b.D), FP16ToF32(b.Dmin)
			// ScaleMinK4 for the eight sub-blocks at once, four bytes
			// per word.
			x := binary.LittleEndian.Uint32(b.Scales[0:])
			y := binary.LittleEndian.Uint32(b.Scales[4:])
			z := binary.LittleEndian.Uint32(b.Scales[8:])
			s := uint64(x&0x3f3f3f3f) | uint64(z&0x0f0f0f0f|x>>6&0x03030303<<4)<<32
			m := uint64(y&0x3f3f3f3f) | uint64(z>>4&0x0f0f0f0f|y>>6&0x03030303<<4)<<32
			for j := 0; j < 8; j++ {
				sj, mj := uint32(s>>(8*j)&0xff), uint32(m>>(8*j)&0xff)
				sc[j*PanelRows+r] = int32(sj)
				mn[j*PanelRows+r] = mj | mj<<16
			}
		}
	}
}

// PanelFromQ6K fills p from 32 Q6_K rows of nb super-blocks each: the
// Go twin of Ops.PanelFromQ6K.
func PanelFromQ6K(p *Panel, src []BlockQ6K, nb int) {
	panelScalesQ6K(p, src, nb)
	for r := 0; r < PanelRows; r++ { // row-major: see panelScalesQ4K
		for i := 0; i < nb; i++ {
			qs := p.Qs[i*QK_K*PanelRows : (i+1)*QK_K*PanelRows]
			b := &src[r*nb+i]
			// Weights 128h+32k+l (k = 0..3) take the low (k < 2) or high
			// nibble of ql[64h+l] (k even) or ql[64h+32+l], and bits
			// 2k..2k+1 of qh[32h+l]: four consecutive weights per word.
			for h := 0; h < 2; h++ {
				for l := 0; l < 32; l += 4 {
					x := binary.LittleEndian.Uint32(b.Ql[64*h+l:])
					y := binary.LittleEndian.Uint32(b.Ql[64*h+32+l:])
					z := binary.LittleEndian.Uint32(b.Qh[32*h+l:])
					o := (128*h+l)/4*panelQuadBytes + 4*r
					const lo4, two = 0x0f0f0f0f, 0x03030303
					binary.LittleEndian.PutUint32(qs[o:o+4], x&lo4|(z&two)<<4)
					binary.LittleEndian.PutUint32(qs[o+8*panelQuadBytes:o+8*panelQuadBytes+4], y&lo4|(z>>2&two)<<4)
					binary.LittleEndian.PutUint32(qs[o+16*panelQuadBytes:o+16*panelQuadBytes+4], x>>4&lo4|(z>>4&two)<<4)
					binary.LittleEndian.PutUint32(qs[o+24*panelQuadBytes:o+24*panelQuadBytes+4], y>>4&lo4|(z>>6&two)<<4)
				}
			}
		}
	}
}

// panelScalesQ6K sizes p for nb super-blocks of Q6_K and fills
// everything but the weights: scales, scale pairs, d.
func panelScalesQ6K(p *Panel, src []BlockQ6K, nb int) {
	if len(src) < PanelRows*nb {
		panic(fmt.Sprintf("kernels: PanelFromQ6K needs %d blocks, got %d", PanelRows*nb, len(src)))
	}
	p.reset(nb*QK_K, 16)
	for i := 0; i < nb; i++ {
		sc := p.Sc[i*16*PanelRows : (i+1)*16*PanelRows]
		mn := p.Mn[i*8*PanelRows : (i+1)*8*PanelRows]
		dm := p.DM[i*2*PanelRows : (i+1)*2*PanelRows]
		for r := 0; r < PanelRows; r++ {
			b := &src[r*nb+i]
			for j := 0; j < 16; j++ {
				sc[j*PanelRows+r] = int32(b.Scales[j])
			}
			for k := 0; k < 8; k++ {
				mn[k*PanelRows+r] = pair16(int32(b.Scales[2*k]), int32(b.Scales[2*k+1]))
			}
			dm[r], dm[PanelRows+r] = FP16ToF32(b.D), 0
		}
	}
}

// GemmPanelQ8K32x4 is the Go twin of the panel GEMM: the panel's 32 rows,
// super-blocks k0..k0+nb, against four Q8_K columns; column c's blocks
// start at a[c*stride]. Row r of column c goes to out[c*ostride+r],
// added to what is there when acc is set (a depth-tiled caller's running
// sums: the float sum then runs over the blocks in the order of one call
// over them all). Each result is DotQ4KQ8K (Sub 32) or DotQ6KQ8K (Sub
// 16) of the row and column, bit for bit.
func GemmPanelQ8K32x4(p *Panel, k0, nb int, a []BlockQ8K, stride int, out []float32, ostride int, acc bool) {
	ns := QK_K / p.Sub
	for c := 0; c < 4; c++ {
		for r := 0; r < PanelRows; r++ {
			var tot float32
			if acc {
				tot = out[c*ostride+r]
			}
			for i := 0; i < nb; i++ {
				y := &a[c*stride+i]
				blk := k0 + i
				var sumi, summ int32
				for j := 0; j < ns; j++ {
					var s int32
					for l := 0; l < p.Sub; l++ {
						k := blk*QK_K + j*p.Sub + l
						s += int32(p.Qs[k/4*panelQuadBytes+4*r+k%4]) * int32(y.Qs[j*p.Sub+l])
					}
					sumi += p.Sc[(blk*ns+j)*PanelRows+r] * s
				}
				for k := 0; k < 8; k++ {
					m := p.Mn[(blk*8+k)*PanelRows+r]
					summ += int32(int16(m))*int32(y.Bsums[2*k]) + int32(int16(m>>16))*int32(y.Bsums[2*k+1])
				}
				d := float32(p.DM[blk*2*PanelRows+r] * y.D)
				if p.Sub == 16 { // Q6_K: Σ sc·(q−32)·a
					tot += float32(d * float32(sumi-32*summ))
				} else {
					dmin := float32(p.DM[blk*2*PanelRows+PanelRows+r] * y.D)
					tot += float32(d*float32(sumi)) - float32(dmin*float32(summ))
				}
			}
			out[c*ostride+r] = tot
		}
	}
}
