package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// panelR4Tables: the vpermd index that transposes a repacked sub-block's
// 4 rows × 4 quads of dwords into 4 quads × 4 rows (entry 0), and the
// two vpermt2d indexes that turn a group's scales, dword 8r+j of the
// 32 (rows 0-1 in the first table, 2-3 in the second), into j-major
// order: 4j+r for sub-blocks 0-3 (entry 1), then 4-7 (entry 2); 64
// bytes each.
func panelR4Tables() Mem {
	m := GLOBL("panelR4Perm", RODATA|NOPTR)
	for q := 0; q < 4; q++ {
		for r := 0; r < 4; r++ {
			DATA(4*(4*q+r), U32(uint32(4*r+q)))
		}
	}
	for h := 0; h < 2; h++ {
		for j := 0; j < 4; j++ {
			for r := 0; r < 4; r++ {
				DATA(64+64*h+4*(4*j+r), U32(uint32(8*r+4*h+j)))
			}
		}
	}
	// Entry 3 (32 bytes): the vpermps index taking [d0 dmin0 d1 dmin1 …]
	// to [d0 d1 d2 d3 dmin0 … dmin3].
	for i := 0; i < 8; i++ {
		DATA(192+4*i, U32(uint32(2*(i%4)+i/4)))
	}
	return m
}

// panelFromQ4KR4AVX512 widens super-block i of 32 repacked Q4_K rows
// (eight groups of four, groupStride bytes apart from src) into the
// panel's block: the weights to dst (quads × 32 rows), the scales, min
// pairs and d/dmin to sc, mn and dm, exactly as PanelFromQ4K does from
// the GGUF rows.
//
// Why: a repacked group's sub-block is already 4 rows × 16 bytes of one
// sub-block's weights, so where the GGUF rows need a 16×16 dword
// transpose per quad group, here one 64-byte load, the nibble split and
// one vpermd per nibble half give four quads of four rows each, stored
// as 16-byte pieces. The scales come zero-extended from the 6-bit
// layout the decode kernels use, and two vpermt2d put them in the
// panel's sub-block-major order.
func panelFromQ4KR4AVX512(tab Mem) {
	TEXT("panelFromQ4KR4AVX512", NOSPLIT, "func(src *byte, groupStride int, dst *byte, sc *int32, mn *uint32, dm *float32)")
	Pragma("noescape")
	src := Load(Param("src"), GP64())
	stride := Load(Param("groupStride"), GP64())
	dst := Load(Param("dst"), GP64())
	sc := Load(Param("sc"), GP64())
	mn := Load(Param("mn"), GP64())
	dm := Load(Param("dm"), GP64())
	mask, m63, m15 := ZMM(), ZMM(), ZMM()
	broadcastConst(mask, nibbleMask)
	broadcastConst(m63, 63)
	broadcastConst(m15, 15)
	perm, lo4, hi4 := ZMM(), ZMM(), ZMM()
	VMOVDQU32(tab, perm)
	VMOVDQU32(tab.Offset(64), lo4)
	VMOVDQU32(tab.Offset(128), hi4)
	dmSplit := YMM() // [d0 d1 d2 d3 | dmin0 … dmin3] from [d0 dmin0 d1 dmin1 …]
	VMOVDQU32(tab.Offset(192), dmSplit)
	g := GP64()
	XORQ(g, g)
	Label("pr4g")
	{
		// The weights: sub-block j of the group's 4 rows.
		for j := 0; j < 8; j++ {
			q, lo, hi := ZMM(), ZMM(), ZMM()
			VMOVDQU64(Mem{Base: src, Disp: r4Qs + 64*j}, q)
			VPANDD(mask, q, lo)
			VPSRLW(Imm(4), q, hi)
			VPANDD(mask, hi, hi)
			VPERMD(lo, perm, lo) // lane q: quad q's rows 0-3
			VPERMD(hi, perm, hi)
			for k, v := range []VecVirtual{lo, hi} {
				for qd := 0; qd < 4; qd++ {
					// Quad 8j+4k+qd of rows 4g..4g+3.
					VEXTRACTI32X4(U8(qd), v, Mem{Base: dst, Disp: (8*j+4*k+qd) * 128})
				}
			}
		}
		// The scales: dword 8r+j of s01 (rows 0-1) and s23 (rows 2-3).
		s01, s23, hb := ZMM(), ZMM(), ZMM()
		VPMOVZXBD(Mem{Base: src, Disp: r4SM}, s01)
		VPMOVZXBD(Mem{Base: src, Disp: r4SM + 16}, s23)
		VPMOVZXBD(Mem{Base: src, Disp: r4MHi}, hb) // rows 0-1: low nibbles, rows 2-3: high
		var ss, ms [2]VecVirtual
		for h, v := range []VecVirtual{s01, s23} {
			s, m, t := ZMM(), ZMM(), ZMM()
			VPANDD(m63, v, s)
			VPSRLD(Imm(6), v, m) // the min's low two bits
			if h == 0 {
				VPANDD(m15, hb, t)
			} else {
				VPSRLD(Imm(4), hb, t)
			}
			VPSLLD(Imm(2), t, t) // high four bits (t < 16 after the shift by 4)
			VPORD(t, m, m)
			p := ZMM()
			VPSLLD(Imm(16), m, p)
			VPORD(p, m, m) // (m, m) as vpdpwssd's pair
			ss[h], ms[h] = s, m
		}
		for _, out := range []struct {
			v    [2]VecVirtual
			base Register
		}{{ss, sc}, {ms, mn}} {
			for h, idx := range []VecVirtual{lo4, hi4} {
				t := ZMM()
				VMOVDQA64(out.v[0], t)
				VPERMT2D(out.v[1], idx, t) // lane j': sub-block 4h+j', rows 0-3
				for jj := 0; jj < 4; jj++ {
					VEXTRACTI32X4(U8(jj), t, Mem{Base: out.base, Disp: 128 * (4*h + jj)})
				}
			}
		}
		// d and dmin of the 4 rows.
		f := YMM()
		VCVTPH2PS(Mem{Base: src, Disp: r4DM}, f)
		VPERMPS(f, dmSplit, f)
		VMOVUPS(f.AsX(), Mem{Base: dm})
		VEXTRACTF128(Imm(1), f, Mem{Base: dm, Disp: 4 * 32})
	}
	ADDQ(stride, src)
	ADDQ(Imm(16), dst)
	ADDQ(Imm(16), sc)
	ADDQ(Imm(16), mn)
	ADDQ(Imm(16), dm)
	INCQ(g)
	CMPQ(g, Imm(8))
	JNE(LabelRef("pr4g"))
	VZEROUPPER()
	RET()
}
