package kernels

import (
	"encoding/binary"
	"fmt"
)

// PanelFromQ4KR4 fills p from 32 rows held repacked (src: eight groups
// of four rows, nb blocks each, group g at src[g*nb:]): the same panel
// PanelFromQ4K makes of those rows in the GGUF layout, bit for bit. The
// Go twin of Ops.PanelFromQ4KR4.
//
// Why: a model repacked at load keeps its GGUF rows only in the file
// mapping, whose pages leave the resident set once the copy is made.
// Panels widened from the GGUF rows faulted them all back in for every
// prompt: a 14B prefill peaked at twice the file. From the repacked
// rows nothing of the file is read again.
func PanelFromQ4KR4(p *Panel, src []BlockQ4KR4, nb int) {
	panelScalesQ4KR4(p, src, nb)
	for i := 0; i < nb; i++ {
		qs := p.Qs[i*QK_K*PanelRows : (i+1)*QK_K*PanelRows]
		for g := 0; g < PanelRows/4; g++ {
			b := &src[g*nb+i]
			for c := 0; c < 8; c++ {
				for h := 0; h < 2; h++ {
					// Dword k of the chunk's half h is weights 4c..4c+3
					// of sub-block k, quad 8k+c: row 2h's in the low
					// nibbles, row 2h+1's in the high ones.
					for k := 0; k < 8; k++ {
						x := binary.LittleEndian.Uint32(b.Qs[c][32*h+4*k:])
						o := (8*k+c)*panelQuadBytes + 4*(4*g+2*h)
						binary.LittleEndian.PutUint32(qs[o:o+4], x&0x0f0f0f0f)
						binary.LittleEndian.PutUint32(qs[o+4:o+8], x>>4&0x0f0f0f0f)
					}
				}
			}
		}
	}
}

// panelScalesQ4KR4 is panelScalesQ4K from repacked rows.
func panelScalesQ4KR4(p *Panel, src []BlockQ4KR4, nb int) {
	resetR4Panel(p, len(src), nb, 32)
	// Block-major: a block's 32 rows write the same 18 cache lines of
	// scales, mins and d, so they are written while those lines are in
	// L1 (group-major order came back to every line once per group:
	// 4.4% of a 7B pp256 on Zen 3 was this function).
	for i := 0; i < nb; i++ {
		sc := p.Sc[i*8*PanelRows : (i+1)*8*PanelRows]
		mn := p.Mn[i*8*PanelRows : (i+1)*8*PanelRows]
		dm := p.DM[i*2*PanelRows : (i+1)*2*PanelRows]
		for g := 0; g < PanelRows/4; g++ {
			b := &src[g*nb+i]
			for r := 0; r < 4; r++ {
				row := 4*g + r
				dm[row], dm[PanelRows+row] = FP16ToF32(b.DM[2*r]), FP16ToF32(b.DM[2*r+1])
				// BlockQ4KR4.ScaleMin for the row's eight sub-blocks at
				// once, a byte each: the scale is SM's low six bits; the
				// min, SM's top two bits under the row's MHi nibbles
				// (rows 0, 1: low nibbles of bytes 0-7, 8-15; rows 2, 3:
				// high nibbles).
				sm := binary.LittleEndian.Uint64(b.SM[8*r:])
				hi := binary.LittleEndian.Uint64(b.MHi[8*(r%2):]) >> (4 * (r / 2)) & 0x0f0f0f0f0f0f0f0f
				s, m := sm&0x3f3f3f3f3f3f3f3f, sm>>6&0x0303030303030303|hi<<2
				for j := 0; j < 8; j++ {
					mj := uint32(m >> (8 * j) & 0xff)
					sc[j*PanelRows+row] = int32(s >> (8 * j) & 0xff)
					mn[j*PanelRows+row] = mj | mj<<16
				}
			}
		}
	}
}

// PanelFromQ6KR4 is PanelFromQ4KR4 for repacked Q6_K rows: the panel
// PanelFromQ6K makes of the same rows in the GGUF layout, bit for bit.
func PanelFromQ6KR4(p *Panel, src []BlockQ6KR4, nb int) {
	panelScalesQ6KR4(p, src, nb)
	for i := 0; i < nb; i++ {
		qs := p.Qs[i*QK_K*PanelRows : (i+1)*QK_K*PanelRows]
		for g := 0; g < PanelRows/4; g++ {
			b := &src[g*nb+i]
			for r := 0; r < 4; r++ {
				// Weights 4c..4c+3 of sub-block k (chunk c's dword k)
				// are quad 4k+c: four levels (BlockQ6KR4.level) at once.
				for c := 0; c < 4; c++ {
					q := &b.Qs[c]
					for k := 0; k < 16; k++ {
						lo := binary.LittleEndian.Uint32(q[64*(r/2)+4*k:]) >> (4 * (r % 2)) & 0x0f0f0f0f
						hi := binary.LittleEndian.Uint32(q[128+4*k:]) >> (2 * r) & 0x03030303
						o := (4*k+c)*panelQuadBytes + 4*(4*g+r)
						binary.LittleEndian.PutUint32(qs[o:o+4], lo|hi<<4)
					}
				}
			}
		}
	}
}

// panelScalesQ6KR4 sizes p for nb super-blocks of repacked Q6_K rows
// and fills everything but the weights: scales, scale pairs, d.
func panelScalesQ6KR4(p *Panel, src []BlockQ6KR4, nb int) {
	resetR4Panel(p, len(src), nb, 16)
	for i := 0; i < nb; i++ {
		sc := p.Sc[i*16*PanelRows : (i+1)*16*PanelRows]
		mn := p.Mn[i*8*PanelRows : (i+1)*8*PanelRows]
		dm := p.DM[i*2*PanelRows : (i+1)*2*PanelRows]
		for g := 0; g < PanelRows/4; g++ {
			b := &src[g*nb+i]
			for r := 0; r < 4; r++ {
				row := 4*g + r
				dm[row], dm[PanelRows+row] = FP16ToF32(b.D[r]), 0
				for s := 0; s < 16; s++ {
					sc[s*PanelRows+row] = int32(b.Scales[s/8][r][s%8])
				}
				for k := 0; k < 8; k++ {
					mn[k*PanelRows+row] = pair16(int32(b.Scales[k/4][r][2*(k%4)]), int32(b.Scales[k/4][r][2*(k%4)+1]))
				}
			}
		}
	}
}

// resetR4Panel sizes p for 32 repacked rows of nb super-blocks (sub
// weights per scale), after checking that the eight groups' blocks are
// there (blocks: how many the caller has).
func resetR4Panel(p *Panel, blocks, nb, sub int) {
	if blocks < PanelRows/4*nb {
		panic(fmt.Sprintf("kernels: a repacked-row panel needs %d blocks, got %d", PanelRows/4*nb, blocks))
	}
	p.reset(nb*QK_K, sub)
}
