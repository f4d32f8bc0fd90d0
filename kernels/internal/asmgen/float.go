package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// The seed's float Q4_K formulation (ASDSL_ISA=avx2-float).

// dotQ4KF32AVX2 is the seed's float formulation, kept as a selectable
// kernel to show what the integer path gains: eight weights at a time are
// widened (vpmovzxbd), masked to their nibble, converted to float
// (vcvtdq2ps) and multiplied into float accumulators (vfmadd231ps) with
// unquantized activations — four times the instructions of the integer
// kernel per weight, and float activations read at four bytes each.
func dotQ4KF32AVX2() {
	TEXT("dotQ4KF32AVX2", NOSPLIT, "func(w *byte, x, xsum *float32, nb int) float32")
	Pragma("noescape")
	wp := Load(Param("w"), GP64())
	xp := Load(Param("x"), GP64())
	sp := Load(Param("xsum"), GP64())
	nb := Load(Param("nb"), GP64())
	local := AllocLocal(64)
	total := XMM()
	VXORPS(total, total, total)
	mask := YMM()
	tmp := GP32()
	MOVL(U32(0x0f), tmp)
	VMOVD(tmp, mask.AsX())
	VPBROADCASTD(mask.AsX(), mask)

	blockLoop(nb, "fblock", "fdone")
	scales, mins := unpackQ4KScales(wp)
	// d·sc_j and dmin·m_j for the eight sub-blocks, kept on the stack.
	hw := GP32()
	db, f := YMM(), YMM()
	MOVWLZX(Mem{Base: wp}, hw)
	VMOVD(hw, db.AsX())
	VCVTPH2PS(db.AsX(), db.AsX())
	VBROADCASTSS(db.AsX(), db)
	VPMOVZXWD(scales, f)
	VCVTDQ2PS(f, f)
	VMULPS(f, db, f)
	VMOVUPS(f, local)
	MOVWLZX(Mem{Base: wp, Disp: 2}, hw)
	VMOVD(hw, db.AsX())
	VCVTPH2PS(db.AsX(), db.AsX())
	VBROADCASTSS(db.AsX(), db)
	VPMOVZXWD(mins, f)
	VCVTDQ2PS(f, f)
	VMULPS(f, db, f)
	VMOVUPS(f, local.Offset(32))

	blk := XMM()
	VXORPS(blk, blk, blk)
	for j := 0; j < 8; j++ {
		acc := YMM()
		VXORPS(acc, acc, acc)
		for g := 0; g < 4; g++ {
			q := YMM()
			VPMOVZXBD(Mem{Base: wp, Disp: q4kQs + 32*(j/2) + 8*g}, q)
			if j%2 == 1 {
				VPSRLD(Imm(4), q, q)
			}
			VPAND(mask, q, q)
			VCVTDQ2PS(q, q)
			VFMADD231PS(Mem{Base: xp, Disp: 4 * (32*j + 8*g)}, q, acc)
		}
		// dot = ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7))
		h, t := XMM(), XMM()
		VEXTRACTF128(Imm(1), acc, h)
		VADDPS(h, acc.AsX(), h)
		VPERMILPS(Imm(0x4e), h, t)
		VADDPS(t, h, h)
		VMOVSHDUP(h, t)
		VADDSS(t, h, h)
		t1, t2 := XMM(), XMM()
		VMULSS(local.Offset(4*j), h, t1)
		VMOVSS(local.Offset(32+4*j), t2)
		VMULSS(Mem{Base: sp, Disp: 4 * j}, t2, t2)
		VSUBSS(t2, t1, t1)
		VADDSS(t1, blk, blk)
	}
	VADDSS(blk, total, total)
	ADDQ(U32(q4kSize), wp)
	ADDQ(U32(4*256), xp)
	ADDQ(U32(32), sp)
	loopBack(nb, "fblock")
	Label("fdone")
	VZEROUPPER()
	Store(total, ReturnIndex(0))
	RET()
}
