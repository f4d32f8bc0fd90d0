package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The activation quantizers: Q8_K for the K-quant kernels, Q8_0 for the
// KV cache. Both are byte-identical to their Go twins.

// quantizeQ8KAVX2 is QuantizeRowQ8K for AVX2, block by block: the largest
// magnitude (vmaxps over |x|), then the first element reaching it (the Go
// twin's choice, which fixes the sign of the scale), iscale = −127/max
// (vdivss), values scaled (vmulps) and rounded half to even (vcvtps2dq
// under the default rounding mode), capped at 127, packed to int8, and
// the sums of each 16 — bit-identical to the twin.
func quantizeQ8KAVX2() {
	TEXT("quantizeQ8KAVX2", NOSPLIT, "func(x *float32, y *byte, nb int)")
	Pragma("noescape")
	xp := Load(Param("x"), GP64())
	yp := Load(Param("y"), GP64())
	nb := Load(Param("nb"), GP64())
	absMask, c127 := YMM(), YMM()
	tmp := GP32()
	MOVL(U32(0x7fffffff), tmp)
	VMOVD(tmp, absMask.AsX())
	VPBROADCASTD(absMask.AsX(), absMask)
	MOVL(U32(127), tmp)
	VMOVD(tmp, c127.AsX())
	VPBROADCASTD(c127.AsX(), c127)

	blockLoop(nb, "qblock", "qdone")

	// amax over the 256 values, in four chains (one chain waited on
	// vmaxps's latency 31 times a block).
	var ams [4]VecVirtual
	for i := 0; i < 32; i++ {
		a := YMM()
		VANDPS(Mem{Base: xp, Disp: 32 * i}, absMask, a)
		if i < 4 {
			ams[i] = a
		} else {
			VMAXPS(a, ams[i%4], ams[i%4])
		}
	}
	VMAXPS(ams[1], ams[0], ams[0])
	VMAXPS(ams[3], ams[2], ams[2])
	am := ams[0]
	VMAXPS(ams[2], am, am)
	h := XMM()
	VEXTRACTF128(Imm(1), am, h)
	VMAXPS(h, am.AsX(), h)
	t := XMM()
	VPERMILPS(Imm(0x4e), h, t)
	VMAXPS(t, h, h)
	VPERMILPS(Imm(0xb1), h, t)
	VMAXPS(t, h, h) // every lane: amax
	zero := XMM()
	VXORPS(zero, zero, zero)
	VUCOMISS(zero, h)
	JNE(LabelRef("qnonzero"))
	// All zero: d = 0, quants and sums 0.
	z := YMM()
	VPXOR(z, z, z)
	MOVL(U32(0), Mem{Base: yp})
	for i := 0; i < 8; i++ {
		VMOVDQU(z, Mem{Base: yp, Disp: q8kQs + 32*i})
	}
	VMOVDQU(z, Mem{Base: yp, Disp: q8kBsums})
	JMP(LabelRef("qnext"))

	Label("qnonzero")
	// First index whose |x| equals amax: its value is max.
	amb := YMM()
	VBROADCASTSS(h, amb)
	idx := GP64()
	XORQ(idx, idx)
	Label("qfind")
	{
		a, m := YMM(), GP32()
		VANDPS(Mem{Base: xp, Index: idx, Scale: 4}, absMask, a)
		VCMPPS(Imm(0), amb, a, a) // equal
		VMOVMSKPS(a, m)
		TESTL(m, m)
		JNZ(LabelRef("qfound"))
		ADDQ(Imm(8), idx)
		JMP(LabelRef("qfind"))
		Label("qfound")
		bit := GP32()
		BSFL(m, bit)
		ADDQ(bit.As64(), idx)
	}
	mx, is := XMM(), XMM()
	VMOVSS(Mem{Base: xp, Index: idx, Scale: 4}, mx)
	MOVL(U32(0xc2fe0000), tmp) // −127.0
	VMOVD(tmp, is)
	VDIVSS(mx, is, is) // iscale = −127/max
	one := XMM()
	MOVL(U32(0x3f800000), tmp) // 1.0
	VMOVD(tmp, one)
	VDIVSS(is, one, one) // d = 1/iscale
	VMOVSS(one, Mem{Base: yp})
	isb := YMM()
	VBROADCASTSS(is, isb)

	// Quantize 16 values at a time: two vectors of 8 int32, packed to 16
	// bytes; their sums (the bsums) four groups at a time by a vphaddd
	// tree, instead of a horizontal sum and a scalar store per group.
	for g0 := 0; g0 < 16; g0 += 4 {
		var s [4]VecVirtual
		for g := g0; g < g0+4; g++ {
			a, b := YMM(), YMM()
			VMULPS(Mem{Base: xp, Disp: 64 * g}, isb, a)
			VMULPS(Mem{Base: xp, Disp: 64*g + 32}, isb, b)
			VCVTPS2DQ(a, a)
			VCVTPS2DQ(b, b)
			VPMINSD(c127, a, a)
			VPMINSD(c127, b, b)
			s[g-g0] = YMM()
			VPADDD(b, a, s[g-g0])
			// pack: int32 → int16 (saturating) → int8; vpackssdw works
			// per 128-bit lane, so fix the order with vpermq.
			p16 := YMM()
			VPACKSSDW(b, a, p16)
			VPERMQ(Imm(0xd8), p16, p16)
			p8 := XMM()
			VEXTRACTI128(Imm(1), p16, p8)
			VPACKSSWB(p8, p16.AsX(), p8)
			VMOVDQU(p8, Mem{Base: yp, Disp: q8kQs + 16*g})
		}
		// After the first two vphaddd, lane l of t01 (t23) holds pair
		// sums of lane l of s0 and s1 (s2 and s3); after the third, the
		// four groups' lane-l sums; the two lanes added give the bsums
		// (|bsum| <= 16·127: vpackssdw keeps them exact).
		t01, t23 := YMM(), YMM()
		VPHADDD(s[1], s[0], t01)
		VPHADDD(s[3], s[2], t23)
		VPHADDD(t23, t01, t01)
		hi := XMM()
		VEXTRACTI128(Imm(1), t01, hi)
		VPADDD(hi, t01.AsX(), hi)
		VPACKSSDW(hi, hi, hi)
		VMOVQ(hi, Mem{Base: yp, Disp: q8kBsums + 2*g0})
	}

	Label("qnext")
	ADDQ(U32(4*256), xp)
	ADDQ(U32(q8kSize), yp)
	loopBack(nb, "qblock")
	Label("qdone")
	VZEROUPPER()
	RET()
}

// quantizeQ8_0AVX2 is QuantizeRowQ8_0 for nb blocks: amax by a max tree,
// d = amax/127 stored as fp16 (vcvtps2ph, round to nearest even, as
// F32ToFP16), id = 127/amax (0 when amax is 0), q = round-half-even(x·id)
// packed to int8 in order.
func quantizeQ8_0AVX2() {
	TEXT("quantizeQ8_0AVX2", NOSPLIT, "func(x *float32, out *byte, nb int)")
	Pragma("noescape")
	xp := Load(Param("x"), GP64())
	op := Load(Param("out"), GP64())
	nb := Load(Param("nb"), GP64())
	absMask, c127, perm := YMM(), YMM(), YMM()
	broadcastConst(absMask, 0x7fffffff)
	broadcastConst(c127, math.Float32bits(127))
	g := GP32()
	// vpermd indices 0,4,1,5,2,6,3,7 built lane by lane.
	MOVL(U32(0), g)
	VMOVD(g, perm.AsX())
	for i, v := range []uint32{4, 1, 5} {
		MOVL(U32(v), g)
		VPINSRD(Imm(uint64(i+1)), g, perm.AsX(), perm.AsX())
	}
	hiPerm := XMM()
	MOVL(U32(2), g)
	VMOVD(g, hiPerm)
	for i, v := range []uint32{6, 3, 7} {
		MOVL(U32(v), g)
		VPINSRD(Imm(uint64(i+1)), g, hiPerm, hiPerm)
	}
	VINSERTI128(Imm(1), hiPerm, perm, perm)

	blockLoop(nb, "q80qblock", "q80qdone")
	v := [4]VecVirtual{YMM(), YMM(), YMM(), YMM()}
	for i := range v {
		VMOVUPS(Mem{Base: xp, Disp: 32 * i}, v[i])
	}
	m0, m1 := YMM(), YMM()
	VANDPS(absMask, v[0], m0)
	VANDPS(absMask, v[1], m1)
	VMAXPS(m1, m0, m0)
	VANDPS(absMask, v[2], m1)
	VMAXPS(m1, m0, m0)
	VANDPS(absMask, v[3], m1)
	VMAXPS(m1, m0, m0)
	h := XMM()
	VEXTRACTF128(Imm(1), m0, h)
	VMAXPS(h, m0.AsX(), h)
	t := XMM()
	VPERMILPS(Imm(0x4e), h, t)
	VMAXPS(t, h, h)
	VPERMILPS(Imm(0xb1), h, t)
	VMAXPS(t, h, h) // amax in every lane
	d, id, zero := XMM(), XMM(), XMM()
	VDIVSS(c127.AsX(), h, d) // amax/127
	VCVTPS2PH(Imm(0), d, d)
	dw := GP32()
	VMOVD(d, dw)
	MOVW(dw.As16(), Mem{Base: op})
	VDIVSS(h, c127.AsX(), id) // 127/amax
	VXORPS(zero, zero, zero)
	VCMPSS(Imm(4), zero, h, h) // amax != 0
	VANDPS(h, id, id)
	idb := YMM()
	VBROADCASTSS(id, idb)
	for i := range v {
		VMULPS(idb, v[i], v[i])
		VCVTPS2DQ(v[i], v[i])
	}
	VPACKSSDW(v[1], v[0], v[0])
	VPACKSSDW(v[3], v[2], v[2])
	VPACKSSWB(v[2], v[0], v[0])
	VPERMD(v[0], perm, v[0])
	VMOVDQU(v[0], Mem{Base: op, Disp: q80Qs})
	ADDQ(Imm(128), xp)
	ADDQ(Imm(q80Size), op)
	loopBack(nb, "q80qblock")
	Label("q80qdone")
	VZEROUPPER()
	RET()
}
