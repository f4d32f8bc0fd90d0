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
					VEXTRACTI32X4(U8(qd), v, Mem{Base: dst, Disp: (8*j + 4*k + qd) * 128})
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

// panelFromQ6KR4AVX512 is panelFromQ4KR4AVX512 for repacked Q6_K rows
// (same tables). Per 32 weights k of the group's 4 rows: one load of Ql
// and one of the Qh bytes holding their top bits, the low and high
// nibbles each joined with their two bits, and the same vpermd. The
// int8 scales sign-extended to dwords go through the vpermt2d pair; as
// words, adjacent pairs are the min pairs already (one vpermd).
func panelFromQ6KR4AVX512(tab Mem) {
	TEXT("panelFromQ6KR4AVX512", NOSPLIT, "func(src *byte, groupStride int, dst *byte, sc *int32, mn *uint32, dm *float32)")
	Pragma("noescape")
	src := Load(Param("src"), GP64())
	stride := Load(Param("groupStride"), GP64())
	dst := Load(Param("dst"), GP64())
	sc := Load(Param("sc"), GP64())
	mn := Load(Param("mn"), GP64())
	dm := Load(Param("dm"), GP64())
	m15, m3 := ZMM(), ZMM()
	broadcastConst(m15, 0x0f0f0f0f)
	broadcastConst(m3, 0x03030303)
	perm, lo4, hi4 := ZMM(), ZMM(), ZMM()
	VMOVDQU32(tab, perm)
	VMOVDQU32(tab.Offset(64), lo4)
	VMOVDQU32(tab.Offset(128), hi4)
	g := GP64()
	XORQ(g, g)
	Label("pr6g")
	for k := 0; k < 8; k++ {
		ql, qh := ZMM(), ZMM()
		VMOVDQU64(Mem{Base: src, Disp: r6Ql + 64*k}, ql)
		VMOVDQU64(Mem{Base: src, Disp: r6Qh + 64*(k/2)}, qh)
		if k%2 == 1 {
			VPSRLW(Imm(4), qh, qh) // bits 4-7 for weights 32 and 48 on
		}
		lo, hi, t := ZMM(), ZMM(), ZMM()
		VPANDD(m15, ql, lo)
		VPANDD(m3, qh, t)
		VPSLLW(Imm(4), t, t)
		VPORD(t, lo, lo)
		VPSRLW(Imm(4), ql, hi)
		VPANDD(m15, hi, hi)
		VPSRLW(Imm(2), qh, t)
		VPANDD(m3, t, t)
		VPSLLW(Imm(4), t, t)
		VPORD(t, hi, hi)
		VPERMD(lo, perm, lo)
		VPERMD(hi, perm, hi)
		for kind, v := range []VecVirtual{lo, hi} {
			for qd := 0; qd < 4; qd++ {
				VEXTRACTI32X4(U8(qd), v, Mem{Base: dst, Disp: (8*k + 4*kind + qd) * 128})
			}
		}
	}
	// Scales: half h, dword 8r+j of rows 0-1 and of rows 2-3.
	for h := 0; h < 2; h++ {
		a, b := ZMM(), ZMM()
		VPMOVSXBD(Mem{Base: src, Disp: r6Scales + 32*h}, a)
		VPMOVSXBD(Mem{Base: src, Disp: r6Scales + 32*h + 16}, b)
		for hh, idx := range []VecVirtual{lo4, hi4} {
			t := ZMM()
			VMOVDQA64(a, t)
			VPERMT2D(b, idx, t) // lane j': sub-block 8h+4hh+j', rows 0-3
			for jj := 0; jj < 4; jj++ {
				VEXTRACTI32X4(U8(jj), t, Mem{Base: sc, Disp: 128 * (8*h + 4*hh + jj)})
			}
		}
		// As words, dword 4r+k' of half h is row r's pair (2k', 2k'+1):
		// min pair 4h+k'.
		w := ZMM()
		VPMOVSXBW(Mem{Base: src, Disp: r6Scales + 32*h}, w)
		VPERMD(w, perm, w)
		for kk := 0; kk < 4; kk++ {
			VEXTRACTI32X4(U8(kk), w, Mem{Base: mn, Disp: 128 * (4*h + kk)})
		}
	}
	f, z := XMM(), XMM()
	VCVTPH2PS(Mem{Base: src, Disp: r6D}, f)
	VMOVUPS(f, Mem{Base: dm})
	VXORPS(z, z, z)
	VMOVUPS(z, Mem{Base: dm, Disp: 4 * 32})
	ADDQ(stride, src)
	ADDQ(Imm(16), dst)
	ADDQ(Imm(16), sc)
	ADDQ(Imm(16), mn)
	ADDQ(Imm(16), dm)
	INCQ(g)
	CMPQ(g, Imm(8))
	JNE(LabelRef("pr6g"))
	VZEROUPPER()
	RET()
}
