package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// dotQ8_0RowsHeadsMax bounds the queries × blocks the heads kernel takes
// (its per-query constants live in a fixed stack area): eight query
// heads of head size 256, or sixteen of 128.
const dotQ8_0RowsHeadsMax = 64

// dotQ8_0Rows8Perm is the vpermd index that puts the reduced key sums in
// key order: after the lane fold, dwords 0-3 hold keys 0, 2, 4, 6 and
// dwords 8-11 keys 1, 3, 5, 7.
func dotQ8_0Rows8Perm() Mem {
	m := GLOBL("q80HeadsPerm", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		v := i / 2
		if i%2 == 1 {
			v = 8 + i/2
		}
		DATA(4*i, U32(uint32(v%16)))
	}
	return m
}

// dotQ8_0RowsHeadsAVX512 is DotQ8_0RowsHeads on AVX-512 VNNI: the
// scores of nq quantized queries (a GQA group's heads) against groups
// of eight key rows.
//
// Why: decode attention at depth is the K·q dot of every cached key
// with each query head of its group, and the AVX2 kernel spends about
// ten instructions per key block on sign tricks, a hadd tree and one
// scale load per key, for each head again. Here vpdpbusd takes the key
// bytes as unsigned after XOR 0x80 (k+128) against the signed query,
// and the query's 128·Σq, computed once per call, is subtracted; two
// keys share a register (a block of each in the two halves), so four
// vpdpbusd and one in-lane transpose give eight keys' sums. The keys'
// fp16 scales are widened once per group of eight for all heads.
// Per (key, head) the float step is DotQ8_0Q8_0's: round(dk·dq), times
// the sum, added to the running score block by block — bit-identical.
func dotQ8_0RowsHeadsAVX512(perm Mem) {
	TEXT("dotQ8_0RowsHeadsAVX512", NOSPLIT, "func(k *byte, stride, groups int, q *byte, nb, nq int, dst *float32, dstride int)")
	Pragma("noescape")
	qd := AllocLocal(4 * dotQ8_0RowsHeadsMax) // f16(d) of each query block
	qc := AllocLocal(4 * dotQ8_0RowsHeadsMax) // 128·Σq of each query block
	dk := AllocLocal(4 * 8 * 8)               // eight keys' f16(d), per block (nb ≤ 8)

	// Per query block: its scale widened, and 128·Σq from the bytes'
	// unsigned sum: Σ(q ^ 0x80) = Σq + 32·128.
	flip := YMM()
	broadcastConst(flip, 0x80808080)
	{
		qp := Load(Param("q"), GP64())
		n := Load(Param("nb"), GP64())
		nq := Load(Param("nq"), GP64())
		IMULQ(nq, n)
		i := GP64()
		XORQ(i, i)
		zero := YMM()
		VPXOR(zero, zero, zero)
		Label("q8hpre")
		CMPQ(i, n)
		JE(LabelRef("q8hpredone"))
		x, h := YMM(), XMM()
		VPXOR(Mem{Base: qp, Disp: q80Qs}, flip, x)
		VPSADBW(zero, x, x)
		VEXTRACTI128(Imm(1), x, h)
		VPADDQ(h, x.AsX(), h)
		t := XMM()
		VPSHUFD(Imm(0x4e), h, t)
		VPADDQ(t, h, h)
		s := GP64()
		VMOVQ(h, s)
		SUBQ(U32(32*128), s)
		SHLQ(U8(7), s)
		MOVL(s.As32(), qc.Idx(i, 4))
		g, f := GP32(), XMM()
		MOVWLZX(Mem{Base: qp}, g)
		VMOVD(g, f)
		VCVTPH2PS(f, f)
		VMOVSS(f, qd.Idx(i, 4))
		ADDQ(U32(q80Size), qp)
		INCQ(i)
		JMP(LabelRef("q8hpre"))
		Label("q8hpredone")
	}

	s := Load(Param("stride"), GP64())
	s3 := GP64()
	LEAQ(Mem{Base: s, Index: s, Scale: 2}, s3)
	flipZ := ZMM()
	broadcastConst(flipZ, 0x80808080)
	idx := ZMM()
	VMOVDQU32(perm, idx)
	// The loop counters that outlive a group (keys, groups, output) stay
	// in the argument slots: the inner loops need nine registers.
	Label("q8hgroup")
	{
		groups := Load(Param("groups"), GP64())
		CMPQ(groups, Imm(0))
		JE(LabelRef("q8hdone"))
	}
	b0, b4 := GP64(), GP64()
	row := func(j int, disp int) Mem {
		base := b0
		if j >= 4 {
			base = b4
		}
		switch j % 4 {
		case 0:
			return Mem{Base: base, Disp: disp}
		case 1:
			return Mem{Base: base, Index: s, Scale: 1, Disp: disp}
		case 2:
			return Mem{Base: base, Index: s, Scale: 2, Disp: disp}
		}
		return Mem{Base: base, Index: s3, Scale: 1, Disp: disp}
	}
	rows := func() {
		kp := Load(Param("k"), GP64())
		MOVQ(kp, b0)
		LEAQ(Mem{Base: kp, Index: s, Scale: 4}, b4)
	}
	// The eight keys' scales, block by block, widened once for every head.
	{
		rows()
		n := Load(Param("nb"), GP64())
		off := GP64()
		XORQ(off, off)
		Label("q8hdk")
		d, g := XMM(), GP32()
		MOVWLZX(row(0, 0), g)
		VMOVD(g, d)
		for j := 1; j < 8; j++ {
			MOVWLZX(row(j, 0), g)
			VPINSRW(Imm(uint64(j)), g, d, d)
		}
		d8 := YMM()
		VCVTPH2PS(d, d8)
		VMOVUPS(d8, dk.Idx(off, 1))
		ADDQ(Imm(32), off)
		ADDQ(Imm(q80Size), b0)
		ADDQ(Imm(q80Size), b4)
		DECQ(n)
		JNZ(LabelRef("q8hdk"))
	}

	qp := Load(Param("q"), GP64())
	dcur := Load(Param("dst"), GP64())
	qi := GP64() // the query block's index in qd, qc
	XORQ(qi, qi)
	Label("q8hhead")
	rows()
	n := Load(Param("nb"), GP64())
	off := GP64()
	XORQ(off, off)
	acc := YMM()
	VXORPS(acc, acc, acc)
	Label("q8hblock")
	y := ZMM()
	VBROADCASTI64X4(Mem{Base: qp, Disp: q80Qs}, y)
	var p [4]VecVirtual
	for i := range p {
		x := ZMM()
		VMOVDQU(row(2*i, q80Qs), x.AsY())
		VINSERTI64X4(Imm(1), row(2*i+1, q80Qs), x, x)
		VPXORD(flipZ, x, x)
		p[i] = ZMM()
		zeroIdiom(p[i])
		vpdpbusd(y, x, p[i])
	}
	sum := transposeSum4(p) // lane L: Σ of lane L of each pair of keys
	sw := ZMM()
	VSHUFI32X4(Imm(0xb1), sum, sum, sw)
	VPADDD(sw, sum, sum) // dwords 0-3: keys 0, 2, 4, 6; 8-11: keys 1, 3, 5, 7
	VPERMD(sum, idx, sum)
	c := YMM()
	VPBROADCASTD(qc.Idx(qi, 4), c)
	VPSUBD(c, sum.AsY(), c)
	VCVTDQ2PS(c, c)
	sc, dq := YMM(), YMM()
	VBROADCASTSS(qd.Idx(qi, 4), dq)
	VMULPS(dk.Idx(off, 1), dq, sc) // float32(dk·dq), as the twin
	VMULPS(c, sc, sc)
	VADDPS(sc, acc, acc)
	ADDQ(Imm(q80Size), b0)
	ADDQ(Imm(q80Size), b4)
	ADDQ(Imm(q80Size), qp)
	ADDQ(Imm(32), off)
	INCQ(qi)
	DECQ(n)
	JNZ(LabelRef("q8hblock"))
	VMOVUPS(acc, Mem{Base: dcur})
	{
		ds := Load(Param("dstride"), GP64())
		LEAQ(Mem{Base: dcur, Index: ds, Scale: 4}, dcur)
		total := Load(Param("nb"), GP64())
		nq := Load(Param("nq"), GP64())
		IMULQ(nq, total)
		CMPQ(qi, total)
		JNE(LabelRef("q8hhead"))
	}
	// Next eight keys, every head again from its first block.
	{
		kp := Load(Param("k"), GP64())
		LEAQ(Mem{Base: kp, Index: s, Scale: 8}, kp)
		Store(kp, Param("k"))
		d := Load(Param("dst"), GP64())
		ADDQ(Imm(32), d)
		Store(d, Param("dst"))
		g := Load(Param("groups"), GP64())
		DECQ(g)
		Store(g, Param("groups"))
	}
	JMP(LabelRef("q8hgroup"))
	Label("q8hdone")
	VZEROUPPER()
	RET()
}

// axpyF32RowsHeads2AVX512 is AxpyF32RowsHeads for two query heads: the
// value tile's rows are weighted by both heads' probabilities (p, and p
// + pstride floats) and added to both outputs (out, and out + hd floats,
// hd = 64·chunks), 64 values of a head per pass in four registers each.
//
// Why: per row the AVX2 kernel reads the row and does one multiply and
// one add per value for each head of the group in turn; here one load of
// the row serves two heads, in 16-lane registers, and eight independent
// sums keep the adds' latency hidden (four would not). Products are
// rounded before they are added, rows in order: AxpyF32Rows's
// arithmetic, bit for bit.
func axpyF32RowsHeads2AVX512() {
	TEXT("axpyF32RowsHeads2AVX512", NOSPLIT, "func(out, p, v *float32, rows, chunks, pstride int)")
	Pragma("noescape")
	op := Load(Param("out"), GP64())
	vchunk := Load(Param("v"), GP64())
	chunks := Load(Param("chunks"), GP64())
	rowBytes := GP64()
	MOVQ(chunks, rowBytes)
	SHLQ(U8(8), rowBytes) // 64 floats per chunk
	o1 := GP64()
	LEAQ(Mem{Base: op, Index: rowBytes, Scale: 1}, o1)
	ps := Load(Param("pstride"), GP64())
	SHLQ(U8(2), ps)
	Label("axh2chunk")
	var acc [2][4]VecVirtual
	for h := range acc {
		base := op
		if h == 1 {
			base = o1
		}
		for i := range acc[h] {
			acc[h][i] = ZMM()
			VMOVUPS(Mem{Base: base, Disp: 64 * i}, acc[h][i])
		}
	}
	pp := Load(Param("p"), GP64())
	rows := Load(Param("rows"), GP64())
	vp := GP64()
	MOVQ(vchunk, vp)
	Label("axh2row")
	w0, w1 := ZMM(), ZMM()
	VBROADCASTSS(Mem{Base: pp}, w0)
	VBROADCASTSS(Mem{Base: pp, Index: ps, Scale: 1}, w1)
	for i := 0; i < 4; i++ {
		x, t0, t1 := ZMM(), ZMM(), ZMM()
		VMOVUPS(Mem{Base: vp, Disp: 64 * i}, x)
		VMULPS(x, w0, t0)
		VADDPS(t0, acc[0][i], acc[0][i])
		VMULPS(x, w1, t1)
		VADDPS(t1, acc[1][i], acc[1][i])
	}
	ADDQ(Imm(4), pp)
	ADDQ(rowBytes, vp)
	DECQ(rows)
	JNZ(LabelRef("axh2row"))
	for h := range acc {
		base := op
		if h == 1 {
			base = o1
		}
		for i, a := range acc[h] {
			VMOVUPS(a, Mem{Base: base, Disp: 64 * i})
		}
	}
	ADDQ(U32(256), op)
	ADDQ(U32(256), o1)
	ADDQ(U32(256), vchunk)
	DECQ(chunks)
	JNZ(LabelRef("axh2chunk"))
	VZEROUPPER()
	RET()
}

// scaleMaxF32HeadsAVX512 is ScaleMaxF32's vector part for nh heads'
// scores (n per head, a multiple of 16, one after another): scaled in
// place, and each head's eight lane maxima, started from m[h], to
// out[8h:], in the twin's order. One call for the group instead of one
// per head; the vectors stay eight lanes wide (see the loop).
func scaleMaxF32HeadsAVX512() {
	TEXT("scaleMaxF32HeadsAVX512", NOSPLIT, "func(x *float32, n, nh int, scale float32, m, out *float32)")
	Pragma("noescape")
	xp := Load(Param("x"), GP64())
	nh := Load(Param("nh"), GP64())
	mp := Load(Param("m"), GP64())
	op := Load(Param("out"), GP64())
	sv := ZMM()
	VBROADCASTSS(NewParamAddr("scale", 24), sv)
	Label("smhhead")
	c := YMM()
	VBROADCASTSS(Mem{Base: mp}, c)
	n := Load(Param("n"), GP64())
	Label("smhloop")
	// Eight at a time: the scores were just stored eight at a time by
	// the dot kernel, and a 64-byte load spanning two 32-byte stores
	// cannot be forwarded from them (a stall of tens of cycles).
	for h := 0; h < 2; h++ {
		v := YMM()
		VMULPS(Mem{Base: xp, Disp: 32 * h}, sv.AsY(), v)
		VMOVUPS(v, Mem{Base: xp, Disp: 32 * h})
		VMAXPS(v, c, c)
	}
	ADDQ(Imm(64), xp)
	SUBQ(Imm(16), n)
	JNZ(LabelRef("smhloop"))
	VMOVUPS(c, Mem{Base: op})
	ADDQ(Imm(32), op)
	ADDQ(Imm(4), mp)
	DECQ(nh)
	JNZ(LabelRef("smhhead"))
	VZEROUPPER()
	RET()
}

// expSubF32HeadsAVX512 is ExpSubF32's vector part for nh heads (n per
// head, a multiple of 16): x = ExpF32(x − m[h]) sixteen at a time (ec:
// expConsts16), each head's eight lane sums to out[8h:], the low half
// added before the high half as the 8-lane twin adds them.
func expSubF32HeadsAVX512(ec Mem) {
	TEXT("expSubF32HeadsAVX512", NOSPLIT, "func(x *float32, n, nh int, m, out *float32)")
	Pragma("noescape")
	xp := Load(Param("x"), GP64())
	nh := Load(Param("nh"), GP64())
	mp := Load(Param("m"), GP64())
	op := Load(Param("out"), GP64())
	lo, hi := ZMM(), ZMM()
	broadcastConst(lo, math.Float32bits(-87))
	broadcastConst(hi, math.Float32bits(88))
	bias := ZMM()
	broadcastConst(bias, 127)
	Label("exhhead")
	mv := ZMM()
	VBROADCASTSS(Mem{Base: mp}, mv)
	acc := YMM()
	VXORPS(acc, acc, acc)
	n := Load(Param("n"), GP64())
	Label("exhloop")
	t := ZMM()
	VMOVUPS(Mem{Base: xp}, t.AsY()) // two halves: see scaleMaxF32HeadsAVX512
	VINSERTF32X8(Imm(1), Mem{Base: xp, Disp: 32}, t, t)
	VSUBPS(mv, t, t)
	y := expF32VecW(t, lo, hi, bias, ec, 64, ZMM)
	VMOVUPS(y, Mem{Base: xp})
	VADDPS(y.AsY(), acc, acc)
	yh := YMM()
	VEXTRACTF32X8(Imm(1), y, yh)
	VADDPS(yh, acc, acc)
	ADDQ(Imm(64), xp)
	SUBQ(Imm(16), n)
	JNZ(LabelRef("exhloop"))
	VMOVUPS(acc, Mem{Base: op})
	ADDQ(Imm(32), op)
	ADDQ(Imm(4), mp)
	DECQ(nh)
	JNZ(LabelRef("exhhead"))
	VZEROUPPER()
	RET()
}
