package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// BlockQ4KR4 layout (bytes), as in package kernels.
const (
	r4Size   = 592
	r4DM     = 0
	r4Scales = 16
	r4Mins   = 48
	r4Qs     = 80
)

// r4ScaleShuf: entry j (64 bytes) is a vpshufb index that broadcasts
// int16 element j of each 128-bit lane to the whole lane — sub-block j's
// scale of the row that owns the lane.
func r4ScaleShuf() Mem {
	m := GLOBL("q4kr4ScaleShuf", RODATA|NOPTR)
	for j := 0; j < 8; j++ {
		for i := 0; i < 32; i++ {
			DATA(64*j+2*i, U8(2*j))
			DATA(64*j+2*i+1, U8(2*j+1))
		}
	}
	return m
}

// r4LaneFirst: a vpermd index gathering dword 0 of each 128-bit lane.
func r4LaneFirst() Mem {
	m := GLOBL("q4kr4LaneFirst", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(uint32(4*(i%4))))
	}
	return m
}

// gemvQ4KR4Q8KAVX512: four repacked Q4_K rows (one 128-bit lane each)
// by one Q8_K column. Per sub-block: one 64-byte load is all four rows'
// 32 weights; the nibble halves meet 16 activations each, broadcast to
// the lanes; vpmaddubsw, vpaddw, and vpdpwssd with the lane's scale.
// Per block, the lanes are summed (exact), and the float step is
// floatPart4's, so each row's result is bit-identical to DotQ4KQ8K.
func gemvQ4KR4Q8KAVX512(shuf, first Mem) {
	TEXT("gemvQ4KR4Q8KAVX512", NOSPLIT, "func(w, a *byte, nb, pf int, out *float32)")
	Pragma("noescape")
	wp := Load(Param("w"), GP64())
	ap := Load(Param("a"), GP64())
	nb := Load(Param("nb"), GP64())
	pf := Load(Param("pf"), GP64())

	sum4 := XMM()
	VXORPS(sum4, sum4, sum4)
	mask := ZMM()
	tmp := GP32()
	MOVL(U32(nibbleMask), tmp)
	VPBROADCASTD(tmp, mask)
	perm := ZMM()
	VMOVDQU64(first, perm)

	Label("r4zb")
	CMPQ(nb, Imm(0))
	JE(LabelRef("r4zd"))
	for k := 0; k < 10; k++ {
		PREFETCHT0(Mem{Base: wp, Index: pf, Scale: 1, Disp: 64 * k})
	}
	sc, mn := ZMM(), ZMM()
	VPMOVZXBW(Mem{Base: wp, Disp: r4Scales}, sc)
	VPMOVZXBW(Mem{Base: wp, Disp: r4Mins}, mn)
	bs, bp := YMM(), XMM()
	VMOVDQU(Mem{Base: ap, Disp: q8kBsums}, bs)
	VEXTRACTI128(Imm(1), bs, bp)
	VPHADDW(bp, bs.AsX(), bp) // activation sums of each sub-block
	bp4 := ZMM()
	VSHUFI64X2(U8(0), bp.AsZ(), bp.AsZ(), bp4)
	VPMADDWD(bp4, mn, mn) // lane r: row r's min·sum products

	acc := ZMM()
	VPXORD(acc, acc, acc)
	for j := 0; j < 8; j++ {
		q, lo, hi, a0, a1, s := ZMM(), ZMM(), ZMM(), ZMM(), ZMM(), ZMM()
		VMOVDQU64(Mem{Base: wp, Disp: r4Qs + 64*j}, q)
		VPANDD(mask, q, lo)
		VPSRLW(Imm(4), q, hi)
		VPANDD(mask, hi, hi)
		VBROADCASTI32X4(Mem{Base: ap, Disp: q8kQs + 32*j}, a0)
		VBROADCASTI32X4(Mem{Base: ap, Disp: q8kQs + 32*j + 16}, a1)
		VPMADDUBSW(a0, lo, lo)
		VPMADDUBSW(a1, hi, hi)
		VPADDW(hi, lo, lo)
		VPSHUFB(shuf.Offset(64*j), sc, s)
		vpdpwssd(s, lo, acc)
	}
	// Sum each lane's four dwords, then gather lane sums: [S0 S1 S2 S3].
	for _, v := range []VecVirtual{acc, mn} {
		t := ZMM()
		VPSHUFD(Imm(0x4e), v, t)
		VPADDD(t, v, v)
		VPSHUFD(Imm(0xb1), v, t)
		VPADDD(t, v, v)
		VPERMD(v, perm, v)
	}
	ddm := XMM()
	VMOVDQU(Mem{Base: wp, Disp: r4DM}, ddm)
	floatPart4(ap, ddm, acc.AsX(), mn.AsX(), sum4)

	ADDQ(U32(r4Size), wp)
	ADDQ(U32(q8kSize), ap)
	DECQ(nb)
	JMP(LabelRef("r4zb"))

	Label("r4zd")
	op := Load(Param("out"), GP64())
	VMOVUPS(sum4, Mem{Base: op})
	VZEROUPPER()
	RET()
}

// gemvQ4KR4Q8KAVX2: the same in two 256-bit halves (rows 0-1, then 2-3),
// for AVX2 and, with vnni, AVX-VNNI's vpdpwssd.
func gemvQ4KR4Q8KAVX2(shuf Mem, vnni bool) {
	name, l := "gemvQ4KR4Q8KAVX2", "r4y"
	if vnni {
		name, l = "gemvQ4KR4Q8KAVXVNNI", "r4v"
	}
	TEXT(name, NOSPLIT, "func(w, a *byte, nb, pf int, out *float32)")
	Pragma("noescape")
	wp := Load(Param("w"), GP64())
	ap := Load(Param("a"), GP64())
	nb := Load(Param("nb"), GP64())
	pf := Load(Param("pf"), GP64())

	sum4 := XMM()
	VXORPS(sum4, sum4, sum4)

	Label(l + "b")
	CMPQ(nb, Imm(0))
	JE(LabelRef(l + "d"))
	for k := 0; k < 10; k++ {
		PREFETCHT0(Mem{Base: wp, Index: pf, Scale: 1, Disp: 64 * k})
	}
	mask := YMM()
	broadcastConst(mask, nibbleMask)
	bs, bp, bp2 := YMM(), XMM(), YMM()
	VMOVDQU(Mem{Base: ap, Disp: q8kBsums}, bs)
	VEXTRACTI128(Imm(1), bs, bp)
	VPHADDW(bp, bs.AsX(), bp)
	VINSERTI128(Imm(1), bp, bp.AsY(), bp2)

	var accs, mins [2]VecVirtual
	for h := 0; h < 2; h++ {
		sc := YMM()
		VPMOVZXBW(Mem{Base: wp, Disp: r4Scales + 16*h}, sc)
		mins[h] = YMM()
		VPMOVZXBW(Mem{Base: wp, Disp: r4Mins + 16*h}, mins[h])
		VPMADDWD(bp2, mins[h], mins[h])
		acc := YMM()
		VPXOR(acc, acc, acc)
		for j := 0; j < 8; j++ {
			q, lo, hi, a0, a1, s := YMM(), YMM(), YMM(), YMM(), YMM(), YMM()
			VMOVDQU(Mem{Base: wp, Disp: r4Qs + 64*j + 32*h}, q)
			VPAND(mask, q, lo)
			VPSRLW(Imm(4), q, hi)
			VPAND(mask, hi, hi)
			VBROADCASTI128(Mem{Base: ap, Disp: q8kQs + 32*j}, a0)
			VBROADCASTI128(Mem{Base: ap, Disp: q8kQs + 32*j + 16}, a1)
			VPMADDUBSW(a0, lo, lo)
			VPMADDUBSW(a1, hi, hi)
			VPADDW(hi, lo, lo)
			VPSHUFB(shuf.Offset(64*j), sc, s)
			if vnni {
				vpdpwssd(s, lo, acc) // rewritten as VEX bytes by vexVNNI
			} else {
				VPMADDWD(s, lo, lo)
				VPADDD(lo, acc, acc)
			}
		}
		accs[h] = acc
	}
	// Lane sums in row order, as minsDot4 does for the mins.
	var r4 [2]VecVirtual
	for k, pair := range [][2]VecVirtual{{accs[0], accs[1]}, {mins[0], mins[1]}} {
		x := pair[0]
		VPHADDD(pair[1], pair[0], x) // [r0 r0 r2 r2 | r1 r1 r3 r3]
		VPHADDD(x, x, x)             // [r0 r2 r0 r2 | r1 r3 r1 r3]
		hh := XMM()
		VEXTRACTI128(Imm(1), x, hh)
		r4[k] = XMM()
		VPUNPCKLDQ(hh, x.AsX(), r4[k])
	}
	ddm := XMM()
	VMOVDQU(Mem{Base: wp, Disp: r4DM}, ddm)
	floatPart4(ap, ddm, r4[0], r4[1], sum4)

	ADDQ(U32(r4Size), wp)
	ADDQ(U32(q8kSize), ap)
	DECQ(nb)
	JMP(LabelRef(l + "b"))

	Label(l + "d")
	op := Load(Param("out"), GP64())
	VMOVUPS(sum4, Mem{Base: op})
	VZEROUPPER()
	RET()
}
