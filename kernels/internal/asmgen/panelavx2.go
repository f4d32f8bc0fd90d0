package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// gemmPanelQ8KAVX2x4 is the prompt GEMM on a widened panel for AVX2:
// 16 of the panel's rows (the caller points qs, sc, mn, dm and out at
// row 0 or 16) against 4 Q8_K columns, sub-blocks of sub weights (32:
// Q4_K, 16: Q6_K). Same signature as gemmPanelQ8KAVX512x4.
//
// Why a panel on AVX2: the repacked 4×4 GEMM splits nibbles and lines
// scales up per 64 multiply-adds, and on Zen 3 ran at 57 GMAC/s per
// core in L1; a loop of just this kernel's inner step (two 32-byte
// loads of 8 rows × 4 weights, per column one 4-byte broadcast and two
// vpmaddubsw + vpaddw) ran at 117-121 GMAC/s, against vpmaddubsw's
// 186.
//
// Inner step: vpmaddubsw sums two products per int16 lane (at most
// 2·15·128 for Q4_K, 2·63·128 for Q6_K), and vpaddw keeps a sub-block's
// sums per row pair in int16: eight quads of Q4_K (30720 at most), two
// of Q6_K (32256), exact. One vpmaddwd by the rows' scale as an int16
// pair (sc, sc) then makes each row's int32 sub-block sum times its
// scale. Sixteen accumulators do not fit AVX2's sixteen registers with
// the eight of the sub-block, so the super-block sums (sumi) and the
// running totals live in the frame. Per super-block the mins and the
// float step are DotQ4KQ8K's / DotQ6KQ8K's, in their order, so every
// result is bit-identical to those dots.
func gemmPanelQ8KAVX2x4(sub int) {
	name := fmt.Sprintf("gemmPanelQ8KAVX2x4s%d", sub)
	l := fmt.Sprintf("py%d", sub)
	TEXT(name, NOSPLIT, "func(qs *byte, sc *int32, mn *uint32, dm *float32, a *byte, stride int, nb int, out *float32, ostride int, acc int)")
	Pragma("noescape")

	// The frame, 32-byte aligned (Go aligns the stack to 8): a 32-byte
	// store that splits a cache line cannot be forwarded to the load
	// that reads it back one sub-block later.
	frame := AllocLocal(16*32 + 32)
	fp := GP64()
	LEAQ(frame, fp)
	ADDQ(U8(31), fp)
	ANDQ(I8(-32), fp)
	sumi := Mem{Base: fp}           // [g][c] int32 × 8 rows
	tot := Mem{Base: fp, Disp: 256} // [g][c] float32 × 8 rows
	slot := func(m Mem, g, c int) Mem { return m.Offset(32 * (4*g + c)) }
	{
		out := Load(Param("out"), GP64())
		ostride := Load(Param("ostride"), GP64())
		acc := Load(Param("acc"), GP64())
		z := YMM()
		zeroIdiom(z)
		CMPQ(acc, Imm(0))
		JE(LabelRef(l + "z"))
		for c := 0; c < 4; c++ {
			for g := 0; g < 2; g++ {
				t := YMM()
				VMOVUPS(Mem{Base: out, Disp: 32 * g}, t)
				VMOVUPS(t, slot(tot, g, c))
			}
			if c < 3 {
				ADDQ(ostride, out)
			}
		}
		JMP(LabelRef(l + "s"))
		Label(l + "z")
		for g := 0; g < 2; g++ {
			for c := 0; c < 4; c++ {
				VMOVUPS(z, slot(tot, g, c))
			}
		}
		Label(l + "s")
	}

	qs, sc, mn, dm, cols, nb := panelGemmParams()

	ns := 256 / sub
	span := 32 // quads×4 whose int16 sums stay exact: Q4_K a whole sub-block
	if sub == 16 {
		span = 8
	}
	blockLoop(nb, l+"b", l+"d")
	first := true // the super-block's first product is stored, not added
	// × the rows' scales as int16 pairs (sc, sc): the panel holds them as
	// int32 (Q6_K's signed), each dword's low word copied to its high
	// word. Q6_K's two halves of a sub-block share them: made once.
	scalePairs := func(j int) (sp [2]VecVirtual) {
		for g := range sp {
			sp[g] = YMM()
			hi := YMM()
			VMOVDQU(Mem{Base: sc, Disp: j*panelRowVec + 32*g}, sp[g])
			VPSLLD(Imm(16), sp[g], hi)
			VPBLENDW(U8(0xaa), hi, sp[g], sp[g])
		}
		return sp
	}
	for j := 0; j < ns; j++ {
		var sp [2]VecVirtual
		if sub/span > 1 {
			sp = scalePairs(j)
		}
		for h := 0; h < sub/span; h++ {
			var s [2][4]VecVirtual
			for q := h * span / 4; q < (h+1)*span/4; q++ {
				w := [2]VecVirtual{YMM(), YMM()}
				off := (j*sub/4 + q) * panelQuad
				VMOVDQU(Mem{Base: qs, Disp: off}, w[0])
				VMOVDQU(Mem{Base: qs, Disp: off + 32}, w[1])
				for c := 0; c < 4; c++ {
					x := YMM()
					VPBROADCASTD(Mem{Base: cols[c], Disp: q8kQs + j*sub + 4*q}, x)
					for g := 0; g < 2; g++ {
						if q == h*span/4 {
							s[g][c] = YMM()
							VPMADDUBSW(x, w[g], s[g][c])
							continue
						}
						t := YMM()
						VPMADDUBSW(x, w[g], t)
						VPADDW(t, s[g][c], s[g][c])
					}
				}
			}
			if sub/span == 1 {
				sp = scalePairs(j)
			}
			for g := 0; g < 2; g++ {
				for c := 0; c < 4; c++ {
					VPMADDWD(sp[g], s[g][c], s[g][c])
					if !first {
						VPADDD(slot(sumi, g, c), s[g][c], s[g][c])
					}
					VMOVDQU(s[g][c], slot(sumi, g, c))
				}
			}
			first = false
		}
	}
	// The mins (Q6_K: the −32 offset's scales) against the Q8_K sums of
	// 16, then the float step per row:
	//   sum += float32(d·yd · float(sumi)) − float32(dmin·yd · float(summ))
	// or DotQ6KQ8K's: sum += float32(d·yd · float(sumi − 32·summ)).
	for c := 0; c < 4; c++ {
		var summ [2]VecVirtual
		for k := 0; k < 8; k++ {
			pair := YMM()
			VPBROADCASTD(Mem{Base: cols[c], Disp: q8kBsums + 4*k}, pair)
			for g := 0; g < 2; g++ {
				p := YMM()
				VPMADDWD(Mem{Base: mn, Disp: k*panelRowVec + 32*g}, pair, p)
				if k == 0 {
					summ[g] = p
				} else {
					VPADDD(p, summ[g], summ[g])
				}
			}
		}
		yd := YMM()
		VBROADCASTSS(Mem{Base: cols[c]}, yd)
		for g := 0; g < 2; g++ {
			d, si := YMM(), YMM()
			VMULPS(Mem{Base: dm, Disp: 32 * g}, yd, d) // d·yd
			VMOVDQU(slot(sumi, g, c), si)
			if sub == 16 {
				VPSLLD(Imm(5), summ[g], summ[g])
				VPSUBD(summ[g], si, si)
				VCVTDQ2PS(si, si)
				VMULPS(si, d, d)
			} else {
				m := YMM()
				VMULPS(Mem{Base: dm, Disp: panelRowVec + 32*g}, yd, m) // dmin·yd
				VCVTDQ2PS(si, si)
				VMULPS(si, d, d)
				VCVTDQ2PS(summ[g], summ[g])
				VMULPS(summ[g], m, m)
				VSUBPS(m, d, d)
			}
			VADDPS(slot(tot, g, c), d, d)
			VMOVUPS(d, slot(tot, g, c))
		}
	}
	panelNextBlock(ns, qs, sc, mn, dm, cols)
	loopBack(nb, l+"b")

	Label(l + "d")
	out := Load(Param("out"), GP64())
	ostride := Load(Param("ostride"), GP64())
	for c := 0; c < 4; c++ {
		for g := 0; g < 2; g++ {
			t := YMM()
			VMOVUPS(slot(tot, g, c), t)
			VMOVUPS(t, Mem{Base: out, Disp: 32 * g})
		}
		if c < 3 {
			ADDQ(ostride, out)
		}
	}
	VZEROUPPER()
	RET()
}

// panelQsQ4KR4AVX2 widens one super-block of 32 repacked Q4_K rows
// (eight groups of four, groupStride bytes apart; src at group 0's
// block) into a panel's quads (dst: the panel's block), AVX2's
// counterpart of panelFromQ4KR4AVX512's weight part. A group's chunk i
// is two YMM loads, rows 0-1 and 2-3 by nibble kind, dword k of each row
// quad 8k+i; a 4×8 dword transpose (eight vpunpck) gives each 128-bit
// lane one quad of the four rows, stored as 16-byte pieces at the
// group's place in the quads (16 bytes in, 128 apart).
func panelQsQ4KR4AVX2() {
	src, dst, next := panelR4Groups("panelQsQ4KR4AVX2")
	mask := YMM()
	broadcastConst(mask, nibbleMask)
	next.top()
	for i := 0; i < 8; i++ {
		var r [4]VecVirtual // rows 0-3: dword k quad 8k+i
		for h := 0; h < 2; h++ {
			y := YMM()
			VMOVDQU(Mem{Base: src, Disp: r4Qs + 64*i + 32*h}, y)
			r[2*h], r[2*h+1] = YMM(), YMM()
			VPAND(mask, y, r[2*h])
			VPSRLW(Imm(4), y, r[2*h+1])
			VPAND(mask, r[2*h+1], r[2*h+1])
		}
		a, b, c, d := YMM(), YMM(), YMM(), YMM()
		VPUNPCKLDQ(r[1], r[0], a) // rows 0, 1 of sub-blocks 0, 1 | 4, 5
		VPUNPCKHDQ(r[1], r[0], b) // 2, 3 | 6, 7
		VPUNPCKLDQ(r[3], r[2], c) // rows 2, 3
		VPUNPCKHDQ(r[3], r[2], d)
		for j, pair := range [][2]VecVirtual{{a, c}, {a, c}, {b, d}, {b, d}} {
			t := YMM()
			if j%2 == 0 {
				VPUNPCKLQDQ(pair[1], pair[0], t)
			} else {
				VPUNPCKHQDQ(pair[1], pair[0], t)
			}
			// Lane 0: sub-block j's quad of the four rows; lane 1: j+4's.
			VMOVDQU(t.AsX(), Mem{Base: dst, Disp: (8*j + i) * panelQuad})
			VEXTRACTI128(Imm(1), t, Mem{Base: dst, Disp: (8*(j+4) + i) * panelQuad})
		}
	}
	next.bottom()
}

// panelR4Loop is the group loop of a repacked-row panel builder: top
// opens it (after the builder's constants), bottom steps src to the
// next group and dst 16 bytes (four rows) on, closes it and returns.
type panelR4Loop struct {
	label           string
	src, gs, dst, n Register
}

func (l panelR4Loop) top() {
	MOVQ(U32(8), l.n)
	Label(l.label)
}

func (l panelR4Loop) bottom() {
	ADDQ(l.gs, l.src)
	ADDQ(U8(16), l.dst)
	DECQ(l.n)
	JNZ(LabelRef(l.label))
	VZEROUPPER()
	RET()
}

// panelR4Groups opens a repacked-row panel builder, func(src *byte,
// groupStride int, dst *byte), and returns its group loop.
func panelR4Groups(name string) (src, dst Register, loop panelR4Loop) {
	TEXT(name, NOSPLIT, "func(src *byte, groupStride int, dst *byte)")
	Pragma("noescape")
	src = Load(Param("src"), GP64())
	gs := Load(Param("groupStride"), GP64())
	dst = Load(Param("dst"), GP64())
	return src, dst, panelR4Loop{label: name + "g", src: src, gs: gs, dst: dst, n: GP64()}
}

// panelQsQ6KR4AVX2 is panelQsQ4KR4AVX2 for repacked Q6_K rows: each
// 32-byte half x of chunk i's three parts unpacks to the four rows'
// levels of sub-blocks 8x..8x+7 (r6Unpack; dword k' is quad 4(8x+k')+i),
// and an in-lane transpose gives each lane one quad of the four rows
// (kernels.PanelFromQ6KR4).
func panelQsQ6KR4AVX2() {
	src, dst, next := panelR4Groups("panelQsQ6KR4AVX2")
	m4, m30 := r6Masks(false)
	next.top()
	for i := 0; i < 4; i++ {
		for x := 0; x < 2; x++ {
			var q [3]VecVirtual
			for p := range q {
				q[p] = YMM()
				VMOVDQU(Mem{Base: src, Disp: r6Qs + r6Chunk*i + 64*p + 32*x}, q[p])
			}
			w := r6Unpack(q[0], q[1], q[2], m4, m30, []int{0, 1, 2, 3})
			t := transposeDwords4([4]VecVirtual{w[0], w[1], w[2], w[3]})
			for j, v := range t {
				// Lane L: sub-block 8x+4L+j.
				VMOVDQU(v.AsX(), Mem{Base: dst, Disp: (4*(8*x+j) + i) * panelQuad})
				VEXTRACTI128(Imm(1), v, Mem{Base: dst, Disp: (4*(8*x+4+j) + i) * panelQuad})
			}
		}
	}
	next.bottom()
}
