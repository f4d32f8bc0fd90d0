package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// gemmPanelQ8KAVX512x4 is the prompt GEMM on a widened panel (see
// kernels.Panel): 32 rows against 4 Q8_K columns, sub-blocks of sub
// weights (32: Q4_K, 16: Q6_K).
//
// Inner step: one 64-byte load of 16 rows × 4 weights, and per column
// one broadcast of 4 activation bytes, one vpdpbusd per 16 rows — 8
// vpdpbusd per 2 weight loads and 4 broadcasts, nothing else. Per
// sub-block and column, vpmulld by the rows' scales and vpaddd; per
// super-block and column, eight vpdpwssd of the min pairs against the
// Q8_K sums of 16 and the float step of DotQ4KQ8K/DotQ6KQ8K (same
// operations, same order), so results are bit-identical to those dots.
// 24 accumulators (sub-block, super-block, total) stay in registers.
func gemmPanelQ8KAVX512x4(sub int) {
	name := fmt.Sprintf("gemmPanelQ8KAVX512x4s%d", sub)
	l := fmt.Sprintf("pn%d", sub)
	TEXT(name, NOSPLIT, "func(qs *byte, sc *int32, mn *uint32, dm *float32, a *byte, stride int, nb int, out *float32, ostride int, acc int)")
	Pragma("noescape")

	var tot [2][4]VecVirtual
	for g := range tot {
		for c := range tot[g] {
			tot[g][c] = ZMM()
		}
	}
	{
		out := Load(Param("out"), GP64())
		ostride := Load(Param("ostride"), GP64())
		acc := Load(Param("acc"), GP64())
		CMPQ(acc, Imm(0))
		JE(LabelRef(l + "z"))
		for c := 0; c < 4; c++ {
			for g := 0; g < 2; g++ {
				VMOVUPS(Mem{Base: out, Disp: 64 * g}, tot[g][c])
			}
			if c < 3 {
				ADDQ(ostride, out)
			}
		}
		JMP(LabelRef(l + "s"))
		Label(l + "z")
		for g := range tot {
			for c := range tot[g] {
				zeroIdiom(tot[g][c])
			}
		}
		Label(l + "s")
	}

	qs, sc, mn, dm, cols, nb := panelGemmParams()

	ns := 256 / sub
	blockLoop(nb, l+"b", l+"d")
	var sumi [2][4]VecVirtual
	for g := range sumi {
		for c := range sumi[g] {
			sumi[g][c] = ZMM()
			zeroIdiom(sumi[g][c])
		}
	}
	// Q4_K: the sub-block's scale is applied per 16 weights with
	// vpdpwssd — a sum of 16 products is at most 16·15·127 = 30480, an
	// int16 whose high word is its sign, and the scale dword (sc, 0)
	// (sc ≥ 0) multiplies the low word only. One VNNI op where vpmulld +
	// vpaddd cost 20% more. Q6_K's sums of 16 reach 16·63·127, past
	// int16: it takes vpmulld.
	span := sub
	if sub == 32 {
		span = 16
	}
	for j := 0; j < ns; j++ {
		for h := 0; h < sub/span; h++ {
			var s [2][4]VecVirtual
			for g := range s {
				for c := range s[g] {
					s[g][c] = ZMM()
					zeroIdiom(s[g][c])
				}
			}
			for q := h * span / 4; q < (h+1)*span/4; q++ {
				w := [2]VecVirtual{ZMM(), ZMM()}
				off := (j*sub/4 + q) * panelQuad
				VMOVDQU64(Mem{Base: qs, Disp: off}, w[0])
				VMOVDQU64(Mem{Base: qs, Disp: off + 64}, w[1])
				for c := 0; c < 4; c++ {
					x := ZMM()
					VPBROADCASTD(Mem{Base: cols[c], Disp: q8kQs + j*sub + 4*q}, x)
					vpdpbusd(x, w[0], s[0][c])
					vpdpbusd(x, w[1], s[1][c])
				}
			}
			// × the rows' sub-block scales (exact: |Σ| < 2^31 over a block).
			for g := 0; g < 2; g++ {
				for c := 0; c < 4; c++ {
					scale := Mem{Base: sc, Disp: j*panelRowVec + 64*g}
					if sub == 32 {
						vpdpwssd(scale, s[g][c], sumi[g][c])
					} else {
						VPMULLD(scale, s[g][c], s[g][c])
						VPADDD(s[g][c], sumi[g][c], sumi[g][c])
					}
				}
			}
		}
	}
	// The mins (Q6_K: the −32 offset's scales) against the Q8_K sums of
	// 16, then DotQ4KQ8K's float step per row:
	//   sum += float32(d·yd · float(sumi)) − float32(dmin·yd · float(summ))
	// or DotQ6KQ8K's: sum += float32(d·yd · float(sumi − 32·summ)).
	var dv, mv [2]VecVirtual
	for g := 0; g < 2; g++ {
		dv[g] = ZMM()
		VMOVUPS(Mem{Base: dm, Disp: 64 * g}, dv[g])
		if sub == 32 {
			mv[g] = ZMM()
			VMOVUPS(Mem{Base: dm, Disp: panelRowVec + 64*g}, mv[g])
		}
	}
	for c := 0; c < 4; c++ {
		var summ [2]VecVirtual
		for g := range summ {
			summ[g] = ZMM()
			zeroIdiom(summ[g])
		}
		for k := 0; k < 8; k++ {
			pair := ZMM()
			VPBROADCASTD(Mem{Base: cols[c], Disp: q8kBsums + 4*k}, pair)
			for g := 0; g < 2; g++ {
				vpdpwssd(Mem{Base: mn, Disp: k*panelRowVec + 64*g}, pair, summ[g])
			}
		}
		for g := 0; g < 2; g++ {
			d := ZMM()
			VMULPS_BCST(Mem{Base: cols[c]}, dv[g], d) // d·yd
			if sub == 16 {
				VPSLLD(Imm(5), summ[g], summ[g])
				VPSUBD(summ[g], sumi[g][c], sumi[g][c])
				VCVTDQ2PS(sumi[g][c], sumi[g][c])
				VMULPS(sumi[g][c], d, d)
				VADDPS(d, tot[g][c], tot[g][c])
				continue
			}
			m := ZMM()
			VMULPS_BCST(Mem{Base: cols[c]}, mv[g], m) // dmin·yd
			VCVTDQ2PS(sumi[g][c], sumi[g][c])
			VMULPS(sumi[g][c], d, d)
			VCVTDQ2PS(summ[g], summ[g])
			VMULPS(summ[g], m, m)
			VSUBPS(m, d, d)
			VADDPS(d, tot[g][c], tot[g][c])
		}
	}
	panelNextBlock(ns, qs, sc, mn, dm, cols)
	loopBack(nb, l+"b")

	Label(l + "d")
	out := Load(Param("out"), GP64())
	ostride := Load(Param("ostride"), GP64())
	for c := 0; c < 4; c++ {
		for g := 0; g < 2; g++ {
			VMOVUPS(tot[g][c], Mem{Base: out, Disp: 64 * g})
		}
		if c < 3 {
			ADDQ(ostride, out)
		}
	}
	VZEROUPPER()
	RET()
}

// panelQsQ4KAVX512 widens one super-block of 32 Q4_K rows into a
// panel's quads (kernels.Panel's Qs). A row's 128 bytes of nibbles are
// two 64-byte loads; low and high nibbles give four vectors of 16 dwords
// (quads of consecutive weights), and each vector kind is a 16 rows ×
// 16 quads block that a dword transpose (64 shuffles) turns into 16
// quads × 16 rows — the panel's order. About 5 shuffles per row and
// quad group of 16, against a Go loop's 64 scattered stores per row.
// src points at row 0's block, rows rowStride bytes apart; dst at the
// panel's block.
func panelQsQ4KAVX512() {
	TEXT("panelQsQ4KAVX512", NOSPLIT, "func(src *byte, rowStride int, dst *byte)")
	Pragma("noescape")
	mask := ZMM()
	broadcastConst(mask, nibbleMask)
	panelQuadsFromRows(func(p Register, half, kind int) VecVirtual {
		v := ZMM()
		m := Mem{Base: p, Disp: q4kQs + 64*half}
		if kind == 0 {
			VPANDD(m, mask, v)
		} else {
			VPSRLW(Imm(4), m, v)
			VPANDD(mask, v, v)
		}
		return v
	}, func(half, kind, d int) int {
		// Dword d of the vector: weights 4d.. of this 64-byte half's
		// nibble kind; dwords 8-15 are the next 32-byte chunk, 64
		// weights on.
		quad := 32*half + 8*kind + d
		if d >= 8 {
			quad += 8
		}
		return quad
	})
}

// panelQuadsFromRows is the loop the panel builders share, for one
// super-block of 32 rows (src: row 0's block, rows rowStride bytes
// apart; dst: the panel's block): for each group of 16 rows, half
// (h = 0, 1) and kind (k = 0, 1), row(p, h, k) builds the vector of 16
// quads of the row at p, the 16 rows' vectors are transposed, and
// column d is stored as the panel's quad(h, k, d).
func panelQuadsFromRows(row func(p Register, half, kind int) VecVirtual, quad func(half, kind, d int) int) {
	src := Load(Param("src"), GP64())
	stride := Load(Param("rowStride"), GP64())
	dst := Load(Param("dst"), GP64())
	p := GP64()
	for grp := 0; grp < 2; grp++ {
		for half := 0; half < 2; half++ {
			for kind := 0; kind < 2; kind++ {
				MOVQ(src, p)
				var rows [16]VecVirtual
				for r := range rows {
					rows[r] = row(p, half, kind)
					if r < 15 {
						ADDQ(stride, p)
					}
				}
				for d, v := range transpose16x16(rows) {
					VMOVDQU64(v, Mem{Base: dst, Disp: quad(half, kind, d)*panelQuad + 64*grp})
				}
			}
		}
		if grp == 0 { // on to rows 16-31
			SHLQ(Imm(4), stride)
			ADDQ(stride, src)
			SHRQ(Imm(4), stride)
		}
	}
	VZEROUPPER()
	RET()
}

// transpose16x16 transposes 16 vectors of 16 dwords: out[d] holds dword
// d of in[0..15]. Dwords, then qwords within 128-bit lanes; then a 4×4
// transpose of the lanes.
func transpose16x16(in [16]VecVirtual) [16]VecVirtual {
	var a [16]VecVirtual
	for i := 0; i < 8; i++ { // lane: [x0 y0 x1 y1], [x2 y2 x3 y3]
		a[2*i], a[2*i+1] = ZMM(), ZMM()
		VPUNPCKLDQ(in[2*i+1], in[2*i], a[2*i])
		VPUNPCKHDQ(in[2*i+1], in[2*i], a[2*i+1])
	}
	// c[i][e]: lane L holds dword 4L+e of rows 4i..4i+3.
	var c [4][4]VecVirtual
	for i := 0; i < 4; i++ {
		for k := 0; k < 2; k++ {
			lo, hi := ZMM(), ZMM()
			VPUNPCKLQDQ(a[4*i+2+k], a[4*i+k], lo)
			VPUNPCKHQDQ(a[4*i+2+k], a[4*i+k], hi)
			c[i][2*k], c[i][2*k+1] = lo, hi
		}
	}
	var out [16]VecVirtual
	for e := 0; e < 4; e++ {
		x := [4]VecVirtual{ZMM(), ZMM(), ZMM(), ZMM()}
		VSHUFI32X4(U8(0x44), c[1][e], c[0][e], x[0]) // c0.l0 c0.l1 c1.l0 c1.l1
		VSHUFI32X4(U8(0xee), c[1][e], c[0][e], x[1]) // c0.l2 c0.l3 c1.l2 c1.l3
		VSHUFI32X4(U8(0x44), c[3][e], c[2][e], x[2])
		VSHUFI32X4(U8(0xee), c[3][e], c[2][e], x[3])
		for L := 0; L < 4; L++ {
			// Lane L of c0..c3: lanes 0-1 live in x0 and x2, lanes 2-3
			// in x1 and x3; even L is their lanes 0 and 2, odd L 1 and 3.
			lo, hi := x[0], x[2]
			if L >= 2 {
				lo, hi = x[1], x[3]
			}
			imm := U8(0x88)
			if L%2 == 1 {
				imm = U8(0xdd)
			}
			out[4*L+e] = ZMM()
			VSHUFI32X4(imm, hi, lo, out[4*L+e])
		}
	}
	return out
}

// panelScalesQ4KAVX512 fills a panel's scales, min pairs, d and dmin for
// one super-block of 32 Q4_K rows (kernels.panelScalesQ4K's work): each
// row's 16-byte header is a lane of a vector, a 4×4 dword transpose per
// lane turns 16 headers into four vectors of 16 rows (d|dmin, scale
// bytes 0-3, 4-7, 8-11), and ScaleMinK4 becomes shifts and masks on
// 16 rows at once.
func panelScalesQ4KAVX512() {
	TEXT("panelScalesQ4KAVX512", NOSPLIT, "func(src *byte, rowStride int, sc *int32, mn *uint32, dm *float32)")
	Pragma("noescape")
	src := Load(Param("src"), GP64())
	stride := Load(Param("rowStride"), GP64())
	sc := Load(Param("sc"), GP64())
	mn := Load(Param("mn"), GP64())
	dm := Load(Param("dm"), GP64())
	m63, m15, m3 := ZMM(), ZMM(), ZMM()
	broadcastConst(m63, 63)
	broadcastConst(m15, 15)
	broadcastConst(m3, 3)
	s4 := GP64()
	MOVQ(stride, s4)
	SHLQ(Imm(2), s4)
	for grp := 0; grp < 2; grp++ {
		if grp == 1 { // rows 16-31
			for k := 0; k < 4; k++ {
				ADDQ(s4, src)
			}
		}
		p := GP64()
		MOVQ(src, p)
		// v[k] lane L = header of row 16·grp + 4L + k.
		var v [4]VecVirtual
		for k := 0; k < 4; k++ {
			v[k] = ZMM()
			q := GP64()
			MOVQ(p, q)
			for L := 0; L < 4; L++ {
				if L == 0 {
					VMOVDQU32(Mem{Base: q}, v[k].AsX())
				} else {
					VINSERTI32X4(U8(L), Mem{Base: q}, v[k], v[k])
				}
				if L < 3 {
					ADDQ(s4, q)
				}
			}
			ADDQ(stride, p)
		}
		// Rows 4L..4L+3 of each lane: dwords then qwords (as transpose16x16).
		a0, a1, a2, a3 := ZMM(), ZMM(), ZMM(), ZMM()
		VPUNPCKLDQ(v[1], v[0], a0)
		VPUNPCKHDQ(v[1], v[0], a1)
		VPUNPCKLDQ(v[3], v[2], a2)
		VPUNPCKHDQ(v[3], v[2], a3)
		hdr, x, y, z := ZMM(), ZMM(), ZMM(), ZMM()
		VPUNPCKLQDQ(a2, a0, hdr) // d | dmin
		VPUNPCKHQDQ(a2, a0, x)   // scale bytes 0-3
		VPUNPCKLQDQ(a3, a1, y)   // 4-7
		VPUNPCKHQDQ(a3, a1, z)   // 8-11
		row := func(base Register, vec, g int) Mem {
			return Mem{Base: base, Disp: 4 * (32*vec + 16*g)}
		}
		for j := 0; j < 8; j++ {
			s, m := ZMM(), ZMM()
			if j < 4 {
				VPSRLD(U8(8*j), x, s)
				VPANDD(m63, s, s)
				VPSRLD(U8(8*j), y, m)
				VPANDD(m63, m, m)
			} else {
				hiS, hiM := ZMM(), ZMM()
				sh := 8 * (j - 4)
				VPSRLD(U8(sh), z, s)
				VPANDD(m15, s, s)
				VPSRLD(U8(sh+6), x, hiS)
				VPANDD(m3, hiS, hiS)
				VPSLLD(U8(4), hiS, hiS)
				VPORD(hiS, s, s)
				VPSRLD(U8(sh+4), z, m)
				VPANDD(m15, m, m)
				VPSRLD(U8(sh+6), y, hiM)
				VPANDD(m3, hiM, hiM)
				VPSLLD(U8(4), hiM, hiM)
				VPORD(hiM, m, m)
			}
			VMOVDQU32(s, row(sc, j, grp))
			pair := ZMM()
			VPSLLD(U8(16), m, pair)
			VPORD(m, pair, pair)
			VMOVDQU32(pair, row(mn, j, grp))
		}
		for h := 0; h < 2; h++ {
			w, f := YMM(), ZMM()
			src := hdr
			if h == 1 {
				src = ZMM()
				VPSRLD(U8(16), hdr, src)
			}
			VPMOVDW(src, w)
			VCVTPH2PS(w, f)
			VMOVUPS(f, row(dm, h, grp))
		}
	}
	VZEROUPPER()
	RET()
}

// panelQsQ6KAVX512 widens one super-block of 32 Q6_K rows into a panel's
// quads. Per half h of a row, one 64-byte load of ql (x = bytes 0-31,
// y = 32-63) and qh broadcast to both 256-bit halves, its upper copy
// shifted by 2, give two vectors of 16 quads: ql's low nibbles with qh
// bits 0-1 (x) and 2-3 (y) are weights 128h+0..63, its high nibbles with
// bits 4-5 and 6-7 are 128h+64..127. Then the 16×16 transposes of
// panelQsQ4KAVX512.
func panelQsQ6KAVX512() {
	TEXT("panelQsQ6KAVX512", NOSPLIT, "func(src *byte, rowStride int, dst *byte)")
	Pragma("noescape")
	m15, m3 := ZMM(), ZMM()
	broadcastConst(m15, 0x0f0f0f0f)
	broadcastConst(m3, 0x03030303)
	const ql, qh = 0, 128 // BlockQ6K offsets
	panelQuadsFromRows(func(p Register, half, kind int) VecVirtual {
		x, zb, z2, zs := ZMM(), ZMM(), ZMM(), ZMM()
		VMOVDQU64(Mem{Base: p, Disp: ql + 64*half}, x)
		VBROADCASTI64X4(Mem{Base: p, Disp: qh + 32*half}, zb)
		VPSRLW(U8(2), zb, z2)
		VINSERTI64X4(U8(1), z2.AsY(), zb, zs) // [qh | qh>>2]
		if kind == 1 {                        // high nibbles, qh bits 4-7
			VPSRLW(U8(4), x, x)
			VPSRLW(U8(4), zs, zs)
		}
		v := ZMM()
		VPANDD(m15, x, v)
		VPANDD(m3, zs, zs)
		VPSLLW(U8(4), zs, zs)
		VPORD(zs, v, v)
		return v
	}, func(half, kind, d int) int { return 32*half + 16*kind + d })
}

// panelGemmParams loads a panel GEMM's pointers (func(qs *byte, sc
// *int32, mn *uint32, dm *float32, a *byte, stride int, nb int, out
// *float32, ostride int, acc int)): the panel's quads, scales, mins and
// d, the four columns' blocks, and the block count.
func panelGemmParams() (qs, sc, mn, dm Register, cols [4]Register, nb Register) {
	qs = Load(Param("qs"), GP64())
	sc = Load(Param("sc"), GP64())
	mn = Load(Param("mn"), GP64())
	dm = Load(Param("dm"), GP64())
	cols = columnPointers(Load(Param("a"), GP64()), Load(Param("stride"), GP64()))
	nb = Load(Param("nb"), GP64())
	return
}

// panelNextBlock moves a panel GEMM's pointers (panelGemmParams) to the
// next super-block: the panel's quads, ns scales, 8 min pairs and d and
// dmin per row, and each column's Q8_K block.
func panelNextBlock(ns int, qs, sc, mn, dm Register, cols [4]Register) {
	ADDQ(U32(panelQs), qs)
	ADDQ(U32(ns*panelRowVec), sc)
	ADDQ(U32(8*panelRowVec), mn)
	ADDQ(U32(2*panelRowVec), dm)
	advance(q8kSize, cols[:]...)
}
