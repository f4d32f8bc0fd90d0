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
	// Entries 4 and 5 (64 bytes at 224, 288): the vpermt2d indexes that
	// take a Q4_K chunk's nibble halves (lo: rows 0 and 2, hi: rows 1
	// and 3, dword 8h+k of sub-block k) to lane k' = sub-block k' (then
	// 4+k'), dword r = row r: quads 8k'+i of the group's four rows.
	for e := 0; e < 2; e++ {
		for k := 0; k < 4; k++ {
			for r := 0; r < 4; r++ {
				DATA(224+64*e+4*(4*k+r), U32(uint32(16*(r%2)+8*(r/2)+4*e+k)))
			}
		}
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
	k := newPanelR4("panelFromQ4KR4AVX512", tab)
	src, sc, mn, dm := k.src, k.sc, k.mn, k.dm
	mask, m63, m15 := ZMM(), ZMM(), ZMM()
	broadcastConst(mask, nibbleMask)
	broadcastConst(m63, 63)
	broadcastConst(m15, 15)
	// The weights: chunk i of a group's 4 rows is one 64-byte load, and
	// after the nibble split two vpermt2d give quads 8k+i (k = 0..3,
	// then 4..7), one per lane, four rows deep.
	ix := [2]VecVirtual{ZMM(), ZMM()}
	VMOVDQU32(tab.Offset(224), ix[0])
	VMOVDQU32(tab.Offset(288), ix[1])
	k.chunkQuads(func(m func(disp int) Mem, i int) (v [2]VecVirtual) {
		q, lo, hi := ZMM(), ZMM(), ZMM()
		VMOVDQU64(m(r4Qs+64*i), q)
		VPANDD(mask, q, lo)
		VPSRLW(Imm(4), q, hi)
		VPANDD(mask, hi, hi)
		for e := range v {
			v[e] = ZMM()
			VMOVDQA64(lo, v[e])
			VPERMT2D(hi, ix[e], v[e])
		}
		return v
	})
	dmSplit := YMM() // [d0 d1 d2 d3 | dmin0 … dmin3] from [d0 dmin0 d1 dmin1 …]
	VMOVDQU32(tab.Offset(192), dmSplit)
	k.groupLoop("pr4g")
	{
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
		k.storeSubBlockMajor(ss, sc, 0)
		k.storeSubBlockMajor(ms, mn, 0)
		// d and dmin of the 4 rows.
		f := YMM()
		VCVTPH2PS(Mem{Base: src, Disp: r4DM}, f)
		VPERMPS(f, dmSplit, f)
		VMOVUPS(f.AsX(), Mem{Base: dm})
		VEXTRACTF128(Imm(1), f, Mem{Base: dm, Disp: 4 * 32})
	}
	k.nextGroup("pr4g")
}

// panelR4 holds what the two repacked-row panel builders share: their
// arguments, the transpose tables (panelR4Tables) and the loop over
// the eight groups of four rows, each of which moves every output
// pointer on by its four rows.
type panelR4 struct {
	src, stride, dst, sc, mn, dm, g Register
	perm, lo4, hi4                  VecVirtual
}

func newPanelR4(name string, tab Mem) *panelR4 {
	TEXT(name, NOSPLIT, "func(src *byte, groupStride int, dst *byte, sc *int32, mn *uint32, dm *float32)")
	Pragma("noescape")
	k := &panelR4{}
	k.src = Load(Param("src"), GP64())
	k.stride = Load(Param("groupStride"), GP64())
	k.dst = Load(Param("dst"), GP64())
	k.sc = Load(Param("sc"), GP64())
	k.mn = Load(Param("mn"), GP64())
	k.dm = Load(Param("dm"), GP64())
	k.perm, k.lo4, k.hi4 = ZMM(), ZMM(), ZMM()
	VMOVDQU32(tab, k.perm)
	VMOVDQU32(tab.Offset(64), k.lo4)
	VMOVDQU32(tab.Offset(128), k.hi4)
	return k
}

// groupLoop opens the loop over the groups.
func (k *panelR4) groupLoop(label string) {
	k.g = GP64()
	XORQ(k.g, k.g)
	Label(label)
}

// chunkQuads widens the weights of Q4_K's chunk layout into the panel's
// quads, sixteen rows at a time: chunk(m, i) returns, for
// the group whose block m addresses, quads 8k+i (v[0], k = 0..3) and
// 8(k+4)+i (v[1]) of its four rows, lane k a quad, dword r row r. A
// 4×4 transpose of lanes over four groups (eight vshufi64x2) makes each
// register one quad of 16 rows: one 64-byte store where 16-byte pieces
// took four (the builder then ran at 1.75x the GGUF-row one's time,
// shuffle- and store-bound).
func (k *panelR4) chunkQuads(chunk func(m func(disp int) Mem, i int) [2]VecVirtual) {
	k.halves(func(half int, group func(g int) func(disp int) Mem) {
		for i := 0; i < 8; i++ {
			var v [2][4]VecVirtual
			for g := 0; g < 4; g++ {
				c := chunk(group(g), i)
				v[0][g], v[1][g] = c[0], c[1]
			}
			for e := range v {
				for q, x := range transposeLanes4(v[e]) {
					VMOVDQU64(x, Mem{Base: k.dst, Disp: 128*(8*(4*e+q)+i) + 64*half})
				}
			}
		}
	})
}

// q6Chunks is chunkQuads for Q6_K's chunk layout: chunk(m, i) returns, for
// the group whose block m addresses, its four rows' levels of chunk i
// (dword k of row r: quad 4k+i). An in-lane 4×4 transpose makes lane L
// of register j quad 4(4L+j)+i of the four rows, and the 4×4 transpose
// of lanes over four groups makes each register one quad of 16 rows.
func (k *panelR4) q6Chunks(chunk func(m func(disp int) Mem, i int) [4]VecVirtual) {
	k.halves(func(half int, group func(g int) func(disp int) Mem) {
		for i := 0; i < 4; i++ {
			var v [4][4]VecVirtual // [j][group]
			for g := 0; g < 4; g++ {
				t := transposeDwords4(chunk(group(g), i))
				for j := range t {
					v[j][g] = t[j]
				}
			}
			for j := range v {
				for q, x := range transposeLanes4(v[j]) {
					VMOVDQU64(x, Mem{Base: k.dst, Disp: 128*(16*q+4*j+i) + 64*half})
				}
			}
		}
	})
}

// transposeDwords4 transposes four registers' 4×4 dwords in each 128-bit
// lane: dword r of lane L of the j-th result is dword j of lane L of
// v[r] (at v's width).
func transposeDwords4(v [4]VecVirtual) [4]VecVirtual {
	vec := YMM
	if v[0].Size() == 64 {
		vec = ZMM
	}
	var t [4]VecVirtual
	for k := 0; k < 2; k++ {
		t[2*k], t[2*k+1] = vec(), vec()
		VPUNPCKLDQ(v[2*k+1], v[2*k], t[2*k])   // a0 b0 a1 b1
		VPUNPCKHDQ(v[2*k+1], v[2*k], t[2*k+1]) // a2 b2 a3 b3
	}
	var out [4]VecVirtual
	for j := range out {
		out[j] = vec()
	}
	VPUNPCKLQDQ(t[2], t[0], out[0])
	VPUNPCKHQDQ(t[2], t[0], out[1])
	VPUNPCKLQDQ(t[3], t[1], out[2])
	VPUNPCKHQDQ(t[3], t[1], out[3])
	return out
}

// halves runs body for the panel's two halves of 16 rows (four groups
// each); group(g) addresses group g of the half's four (m(disp): the
// group's block's byte disp).
func (k *panelR4) halves(body func(half int, group func(g int) func(disp int) Mem)) {
	s3 := GP64()
	LEAQ(Mem{Base: k.stride, Index: k.stride, Scale: 2}, s3)
	b := GP64()
	MOVQ(k.src, b)
	for half := 0; half < 2; half++ {
		if half == 1 {
			LEAQ(Mem{Base: b, Index: k.stride, Scale: 4}, b)
		}
		body(half, func(g int) func(disp int) Mem {
			return func(disp int) Mem {
				switch g {
				case 0:
					return Mem{Base: b, Disp: disp}
				case 3:
					return Mem{Base: b, Index: s3, Scale: 1, Disp: disp}
				}
				return Mem{Base: b, Index: k.stride, Scale: uint8(g), Disp: disp}
			}
		})
	}
}

// transposeLanes4 returns the four registers whose lane g is lane q of
// v[g], for q = 0..3.
func transposeLanes4(v [4]VecVirtual) [4]VecVirtual {
	var t [4]VecVirtual
	for i, imm := range []uint8{0x44, 0xee} { // lanes 0-1, then 2-3, of each pair
		for p := 0; p < 2; p++ {
			t[2*i+p] = ZMM()
			VSHUFI64X2(U8(imm), v[2*p+1], v[2*p], t[2*i+p])
		}
	}
	var out [4]VecVirtual
	for i := 0; i < 2; i++ {
		for e, imm := range []uint8{0x88, 0xdd} {
			out[2*i+e] = ZMM()
			VSHUFI64X2(U8(imm), t[2*i+1], t[2*i], out[2*i+e])
		}
	}
	return out
}

// nextGroup moves on by one group (four rows: 16 bytes of every output
// row) and closes the loop and the function.
func (k *panelR4) nextGroup(label string) {
	ADDQ(k.stride, k.src)
	for _, p := range []Register{k.sc, k.mn, k.dm} {
		ADDQ(Imm(16), p)
	}
	INCQ(k.g)
	CMPQ(k.g, Imm(8))
	JNE(LabelRef(label))
	VZEROUPPER()
	RET()
}

// storeSubBlockMajor stores a group's 32 dwords, 8r+j of v[0] (rows
// 0-1) and v[1] (rows 2-3), as sub-block j's four rows at base +
// disp + 128·j.
func (k *panelR4) storeSubBlockMajor(v [2]VecVirtual, base Register, disp int) {
	for h, idx := range []VecVirtual{k.lo4, k.hi4} {
		t := ZMM()
		VMOVDQA64(v[0], t)
		VPERMT2D(v[1], idx, t) // lane j': sub-block 4h+j', rows 0-3
		storeLanes(t, base, disp+128*4*h)
	}
}

// storeLanes stores v's four 128-bit lanes at base + disp + 128·lane:
// lane i is four rows' dwords of quad (or sub-block) i.
func storeLanes(v VecVirtual, base Register, disp int) {
	for i := 0; i < 4; i++ {
		VEXTRACTI32X4(U8(i), v, Mem{Base: base, Disp: disp + 128*i})
	}
}

// panelFromQ6KR4AVX512 is panelFromQ4KR4AVX512 for repacked Q6_K rows
// (same tables). Per chunk of a group's 4 rows: its three 64-byte parts
// unpacked to four rows of 16 dwords, dword k being quad 4k+i of the
// row (r6Unpack), then an in-lane transpose (q6Chunks). The int8 scales
// sign-extended to dwords go through the vpermt2d pair; as words,
// adjacent pairs are the min pairs already (one vpermd).
func panelFromQ6KR4AVX512(tab Mem) {
	k := newPanelR4("panelFromQ6KR4AVX512", tab)
	src, sc, mn, dm, perm := k.src, k.sc, k.mn, k.dm, k.perm
	m4, m30 := r6Masks(true)
	k.q6Chunks(func(m func(disp int) Mem, i int) [4]VecVirtual {
		var q [3]VecVirtual
		for p := range q {
			q[p] = ZMM()
			VMOVDQU64(m(r6Qs+r6Chunk*i+64*p), q[p])
		}
		w := r6Unpack(q[0], q[1], q[2], m4, m30, []int{0, 1, 2, 3})
		return [4]VecVirtual{w[0], w[1], w[2], w[3]}
	})
	k.groupLoop("pr6g")
	// Scales: half h, dword 8r+j of rows 0-1 and of rows 2-3.
	for h := 0; h < 2; h++ {
		var v [2]VecVirtual
		for i := range v {
			v[i] = ZMM()
			VPMOVSXBD(Mem{Base: src, Disp: r6Scales + 32*h + 16*i}, v[i])
		}
		k.storeSubBlockMajor(v, sc, 128*8*h) // sub-blocks 8h..8h+7
		// As words, dword 4r+k' of half h is row r's pair (2k', 2k'+1):
		// min pair 4h+k'.
		w := ZMM()
		VPMOVSXBW(Mem{Base: src, Disp: r6Scales + 32*h}, w)
		VPERMD(w, perm, w)
		storeLanes(w, mn, 128*4*h)
	}
	f, z := XMM(), XMM()
	VCVTPH2PS(Mem{Base: src, Disp: r6D}, f)
	VMOVUPS(f, Mem{Base: dm})
	VXORPS(z, z, z)
	VMOVUPS(z, Mem{Base: dm, Disp: 4 * 32})
	k.nextGroup("pr6g")
}
