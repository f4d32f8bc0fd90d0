package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The GGUF-layout GEMMs: one Q4_K or Q6_K row by four Q8_K columns,
// and the unpacked Q4_K row of the AVX-512 prompt path.

// floatPartCols is the float step of one Q4_K row against four columns:
// d4 = f16(D)·yd4, dmin4 = f16(Dmin)·yd4, then DotQ4KQ8K's order,
// sum4 += d4·float(s4) − dmin4·float(m4), lane by lane.
func floatPartCols(wp Register, yd, s4, m4, sum4 VecVirtual) {
	hw := GP32()
	d4, dm4 := XMM(), XMM()
	MOVWLZX(Mem{Base: wp}, hw)
	VMOVD(hw, d4)
	VCVTPH2PS(d4, d4)
	VBROADCASTSS(d4, d4)
	VMULPS(yd, d4, d4)
	MOVWLZX(Mem{Base: wp, Disp: 2}, hw)
	VMOVD(hw, dm4)
	VCVTPH2PS(dm4, dm4)
	VBROADCASTSS(dm4, dm4)
	VMULPS(yd, dm4, dm4)
	combineQ4KCols(d4, dm4, s4, m4, sum4)
}

// combineQ4KCols ends the float step of four columns, lane by lane in
// DotQ4KQ8K's order: sum4 += d4·float(s4) − dmin4·float(m4).
func combineQ4KCols(d4, dm4, s4, m4, sum4 VecVirtual) {
	VCVTDQ2PS(s4, s4)
	VMULPS(s4, d4, d4)
	VCVTDQ2PS(m4, m4)
	VMULPS(m4, dm4, dm4)
	VSUBPS(dm4, d4, d4)
	VADDPS(d4, sum4, sum4)
}

// gemmQ4KQ8KAVX2 multiplies one Q4_K row by four Q8_K activation rows
// (token columns) at once: every block's scales and nibbles are unpacked
// once and used four times. Per block, the four columns' integer sums are
// reduced together by a vphaddd tree (exact), and the float part runs
// lane-wise on the four columns in the Go twin's order — so each result
// is bit-identical to DotQ4KQ8K on that column.
//
// a points at column 0's first block; column c starts at a + c*stride.
// out receives the four dot products.
func gemmQ4KQ8KAVX2(shuf Mem) { gemmK4Q8KAVX2(shuf, false) }

// gemmQ5KQ8KAVX2 is the same for Q5_K rows (the prompt's GEMM for
// llama.cpp's Q4_K_S and Q5_K_M recipes), each weight's fifth bit merged
// in as dotQ5KQ8KAVX2 does, from Qh in memory (a register more would
// spill): equal to DotQ5KQ8K per column, bit for bit.
func gemmQ5KQ8KAVX2(shuf Mem) { gemmK4Q8KAVX2(shuf, true) }

// gemmK4Q8KAVX2 emits the 4-column GEMM of the Q4_K header's formats:
// Q4_K, or Q5_K with q5.
func gemmK4Q8KAVX2(shuf Mem, q5 bool) {
	f := k4FormatOf(q5)
	name, l := "gemmQ4KQ8KAVX2x4", "g"
	if q5 {
		name, l = "gemmQ5KQ8KAVX2x4", "g5"
	}
	wp, nb, cols, sum4 := gemmFrame(name, "w")
	mask := YMM()
	broadcastConst(mask, nibbleMask)

	blockLoop(nb, l+"block", l+"done")

	scales, mins := unpackQ4KScales(wp)
	sc2 := YMM()
	VINSERTI128(Imm(1), scales, scales.AsY(), sc2)

	// Mins × paired activation sums, per column (4 int32 lanes each),
	// then reduced across the four columns: m4 = [M0 M1 M2 M3].
	m4 := minsCols4(cols, mins)

	accs := zeroedY(4)
	for j := 0; j < 4; j++ {
		lo, hi := f.weights(wp, j, mask)
		sl, sh := YMM(), YMM()
		VPSHUFB(shuf.Offset(32*(2*j)), sc2, sl)
		VPSHUFB(shuf.Offset(32*(2*j+1)), sc2, sh)
		for c := 0; c < 4; c++ {
			pl, ph := YMM(), YMM()
			VPMADDUBSW(Mem{Base: cols[c], Disp: q8kQs + 64*j}, lo, pl)
			VPMADDUBSW(Mem{Base: cols[c], Disp: q8kQs + 64*j + 32}, hi, ph)
			VPMADDWD(sl, pl, pl)
			VPMADDWD(sh, ph, ph)
			VPADDD(pl, accs[c], accs[c])
			VPADDD(ph, accs[c], accs[c])
		}
	}
	s4 := reduceCols4(accs)

	// yd4 = the four columns' Q8_K scales.
	yd := columnScales(cols)
	floatPartCols(wp, yd, s4, m4, sum4)

	advance(f.size, wp)
	advance(q8kSize, cols[:]...)
	loopBack(nb, l+"block")
	storeSum4(l+"done", sum4)
}

// k4Format is what differs between the formats that share Q4_K's
// header (d, dmin, 12 bytes of 6-bit scales and mins): where the low
// nibbles start, the block size, and for Q5_K the fifth bits.
type k4Format struct {
	qs, size int
	q5       bool
	top      Mem // Q5_K: the 0x10 byte mask mergeQ5KTopBits keeps
}

func k4FormatOf(q5 bool) k4Format {
	if !q5 {
		return k4Format{qs: q4kQs, size: q4kSize}
	}
	if q5kTop == nil {
		m := byteMask("q5kTopBit", 0x10)
		q5kTop = &m
	}
	return k4Format{qs: q5kQs, size: q5kSize, q5: true, top: *q5kTop}
}

var q5kTop *Mem // one mask global for every Q5_K kernel

// weights gives the levels of sub-blocks 2j (lo) and 2j+1 (hi) of the
// block at wp as bytes: the nibbles of 32 bytes, and on Q5_K their
// fifth bits.
func (f k4Format) weights(wp Register, j int, mask VecVirtual) (lo, hi VecVirtual) {
	q := YMM()
	lo, hi = YMM(), YMM()
	VMOVDQU(Mem{Base: wp, Disp: f.qs + 32*j}, q)
	VPAND(mask, q, lo)
	VPSRLW(Imm(4), q, hi)
	VPAND(mask, hi, hi)
	if f.q5 {
		mergeQ5KTopBits(wp, j, lo, hi, f.top)
	}
	return lo, hi
}

// mergeQ5KTopBits ors the fifth bits of Q5_K sub-blocks 2j (into lo) and
// 2j+1 (into hi) from the block's Qh at wp: bit b of Qh[l] is weight l's
// top bit in sub-block b, moved to bit 4 by one word shift (at most 4
// places, so no neighbouring byte's bit lands there) and kept by top, a
// 0x10 byte mask in memory.
func mergeQ5KTopBits(wp Register, j int, lo, hi VecVirtual, top Mem) {
	for e, v := range []VecVirtual{lo, hi} {
		t := YMM()
		bit := 2*j + e
		if bit <= 4 {
			VPSLLW(Imm(uint64(4-bit)), Mem{Base: wp, Disp: q5kQh}, t)
		} else {
			VPSRLW(Imm(uint64(bit-4)), Mem{Base: wp, Disp: q5kQh}, t)
		}
		VPAND(top, t, t)
		VPOR(t, v, v)
	}
}

// byteMask is a 32-byte constant of one repeated byte, for memory
// operands (saving registers in the 4-column kernels).
func byteMask(name string, b byte) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for i := 0; i < 32; i++ {
		DATA(i, U8(b))
	}
	return m
}

// gemmQ6KQ8KAVX2 is the 4-column twin of dotQ6KQ8KAVX2: each Q6_K
// block's 6-bit quants are rebuilt once and multiplied with four Q8_K
// columns. Per block the columns' sums are reduced together (vphaddd)
// and the float part runs lane-wise in the Go twin's order, so each
// result equals DotQ6KQ8K on its column bit for bit.
func gemmQ6KQ8KAVX2(shuf Mem) {
	m4 := byteMask("q6kMask0F", 0x0f)
	m30 := byteMask("q6kMask30", 0x30)
	wp, nb, cols, sum4 := gemmFrame("gemmQ6KQ8KAVX2x4", "w")

	blockLoop(nb, "g6block", "g6done")

	// Σ sc·bsum per column, reduced across the columns: m4 = [M0..M3].
	sc8 := YMM()
	VBROADCASTI128(Mem{Base: wp, Disp: q6kScales}, sc8)
	sc16 := YMM()
	VPMOVSXBW(Mem{Base: wp, Disp: q6kScales}, sc16)
	m4s := bsumDots4(cols, sc16)

	accs := zeroedY(4)
	for h := 0; h < 2; h++ {
		ql0, ql1, qh := q6kHalf(wp, h)
		for i := 0; i < 4; i++ {
			q, s := q6kLevels32(i, ql0, ql1, qh, m4, m30), YMM()
			VPSHUFB(shuf.Offset(32*(4*h+i)), sc8, s)
			VPSRAW(Imm(8), s, s)
			for c := 0; c < 4; c++ {
				p := YMM()
				VPMADDUBSW(Mem{Base: cols[c], Disp: q8kQs + 128*h + 32*i}, q, p)
				VPMADDWD(s, p, p)
				VPADDD(p, accs[c], accs[c])
			}
		}
	}
	s4 := reduceCols4(accs)
	// sumi = Σ sc·q·a − 32·Σ sc·bsum
	VPSLLD(Imm(5), m4s, m4s)
	VPSUBD(m4s, s4, s4)

	yd := columnScales(cols)
	hw := GP32()
	d4 := XMM()
	MOVWLZX(Mem{Base: wp, Disp: q6kD}, hw)
	VMOVD(hw, d4)
	VCVTPH2PS(d4, d4)
	VBROADCASTSS(d4, d4)
	VMULPS(yd, d4, d4)
	VCVTDQ2PS(s4, s4)
	VMULPS(s4, d4, d4)
	VADDPS(d4, sum4, sum4)

	advance(q6kSize, wp)
	advance(q8kSize, cols[:]...)
	loopBack(nb, "g6block")
	storeSum4("g6done", sum4)
}

// gemmQ4KQ8KAVX512 is the 4-column Q4_K kernel on AVX-512 (BW, VNNI):
// 128 weights per step in ZMM registers as in dotQ4KQ8KAVX512, with
// vpmaddubsw + vpdpwssd per column. Each column's 16 int32 lanes are
// folded to 8 and the four columns reduced together per block, then the
// float part runs lane-wise in the Go twin's order: bit-identical to
// DotQ4KQ8K per column.
func gemmQ4KQ8KAVX512(shuf Mem) {
	wp, nb, cols, sum4 := gemmFrame("gemmQ4KQ8KAVX512x4", "w")
	mask := ZMM()
	broadcastConstZ(mask, nibbleMask)

	blockLoop(nb, "gzblock", "gzdone")

	scales, mins := unpackQ4KScales(wp)
	sc4 := ZMM()
	VSHUFI64X2(U8(0x00), scales.AsZ(), scales.AsZ(), sc4)

	m4 := minsCols4(cols, mins)

	accs := zeroedZ(4)
	for h := 0; h < 2; h++ {
		q, lo, hi := ZMM(), ZMM(), ZMM()
		VMOVDQU64(Mem{Base: wp, Disp: q4kQs + 64*h}, q)
		VPANDD(mask, q, lo)
		VPSRLW(Imm(4), q, hi)
		VPANDD(mask, hi, hi)
		for m := 0; m < 2; m++ {
			p, s := ZMM(), ZMM()
			imm := U8(0x44)
			if m == 1 {
				imm = U8(0xee)
			}
			VSHUFI64X2(imm, hi, lo, p)
			VPSHUFB(shuf.Offset(64*(2*h+m)), sc4, s)
			for c := 0; c < 4; c++ {
				x := ZMM()
				VPMADDUBSW(Mem{Base: cols[c], Disp: q8kQs + 128*h + 64*m}, p, x)
				vpdpwssd(s, x, accs[c])
			}
		}
	}
	s4 := reduceCols4(foldZ(accs))

	yd := columnScales(cols)
	floatPartCols(wp, yd, s4, m4, sum4)

	advance(q4kSize, wp)
	advance(q8kSize, cols[:]...)
	loopBack(nb, "gzblock")
	storeSum4("gzdone", sum4)
}

// unpackQ4KScales turns a Q4_K block's 12 bytes of packed 6-bit scales
// and mins into two XMM registers of eight int16 each. Scalar shifts and
// masks regroup the bits: bytes 0-7 of (u0,u1) are the scales, of
// (u2,u3) the mins (sub-blocks 4-7 keep their top two bits in the spare
// top bits of bytes 0-7).
func unpackQ4KScales(wp Register) (scales, mins VecVirtual) {
	r0, r1, r2 := GP32(), GP32(), GP32()
	MOVL(Mem{Base: wp, Disp: q4kScales}, r0)
	MOVL(Mem{Base: wp, Disp: q4kScales + 4}, r1)
	MOVL(Mem{Base: wp, Disp: q4kScales + 8}, r2)
	u3, t := GP32(), GP32()
	MOVL(r2, u3)
	SHRL(Imm(4), u3)
	ANDL(U32(kmask2), u3)
	MOVL(r1, t)
	SHRL(Imm(6), t)
	ANDL(U32(kmask3), t)
	SHLL(Imm(4), t)
	ORL(t, u3)
	u2 := GP32()
	MOVL(r1, u2)
	ANDL(U32(kmask1), u2)
	u1 := GP32()
	MOVL(r2, u1)
	ANDL(U32(kmask2), u1)
	MOVL(r0, t)
	SHRL(Imm(6), t)
	ANDL(U32(kmask3), t)
	SHLL(Imm(4), t)
	ORL(t, u1)
	ANDL(U32(kmask1), r0)
	scales, mins = XMM(), XMM()
	VMOVD(r0, scales)
	VPINSRD(Imm(1), u1, scales, scales)
	VPMOVZXBW(scales, scales)
	VMOVD(u2, mins)
	VPINSRD(Imm(1), u3, mins, mins)
	VPMOVZXBW(mins, mins)
	return scales, mins
}

// unpackQ4KAVX2 writes nb UnpackedQ4K records from Q4_K blocks: nibbles
// split into weight order, each sub-block's scale broadcast to 16 int16
// lanes, mins duplicated, super-scales converted to float.
func unpackQ4KAVX2(shuf Mem) {
	TEXT("unpackQ4KAVX2", NOSPLIT, "func(w, u *byte, nb int)")
	Pragma("noescape")
	wp := Load(Param("w"), GP64())
	up := Load(Param("u"), GP64())
	nb := Load(Param("nb"), GP64())
	mask := YMM()
	broadcastConst(mask, nibbleMask)

	blockLoop(nb, "ublock", "udone")
	for j := 0; j < 4; j++ {
		q, lo := YMM(), YMM()
		VMOVDQU(Mem{Base: wp, Disp: q4kQs + 32*j}, q)
		VPAND(mask, q, lo)
		VMOVDQU(lo, Mem{Base: up, Disp: unpW + 64*j})
		VPSRLW(Imm(4), q, q)
		VPAND(mask, q, q)
		VMOVDQU(q, Mem{Base: up, Disp: unpW + 64*j + 32})
	}
	scales, mins := unpackQ4KScales(wp)
	sc2 := YMM()
	VINSERTI128(Imm(1), scales, scales.AsY(), sc2)
	for sb := 0; sb < 8; sb++ {
		v := YMM()
		VPSHUFB(shuf.Offset(32*sb), sc2, v)
		VMOVDQU(v, Mem{Base: up, Disp: unpS + 32*sb})
	}
	md := XMM()
	VPUNPCKLWD(mins, mins, md)
	VMOVDQU(md, Mem{Base: up, Disp: unpM})
	VPUNPCKHWD(mins, mins, md)
	VMOVDQU(md, Mem{Base: up, Disp: unpM + 16})
	dd := XMM()
	VMOVD(Mem{Base: wp}, dd) // D and Dmin, fp16
	VCVTPH2PS(dd, dd)
	VMOVQ(dd, Mem{Base: up, Disp: unpD})

	advance(q4kSize, wp)
	advance(unpSize, up)
	loopBack(nb, "ublock")
	Label("udone")
	VZEROUPPER()
	RET()
}

// gemmUnpackedQ4KAVX512 multiplies an unpacked Q4_K row by four Q8_K
// columns: per block the weights and scale vectors are plain 512-bit
// loads shared by the columns, and each column costs four vpmaddubsw and
// four vpdpwssd. Reductions and the float part are those of the other
// 4-column kernels: bit-identical to DotQ4KQ8K per column.
func gemmUnpackedQ4KAVX512() {
	up, nb, cols, sum4 := gemmFrame("gemmUnpackedQ4KAVX512x4", "u")

	blockLoop(nb, "gublock", "gudone")

	// Mins × activation sums per column (8 int32 each), reduced across
	// the columns: m4 = [M0..M3].
	md := YMM()
	VMOVDQU(Mem{Base: up, Disp: unpM}, md)
	m4 := bsumDots4(cols, md)

	accs := zeroedZ(4)
	for j := 0; j < 4; j++ {
		w, s := ZMM(), ZMM()
		VMOVDQU64(Mem{Base: up, Disp: unpW + 64*j}, w)
		VMOVDQU64(Mem{Base: up, Disp: unpS + 64*j}, s)
		for c := 0; c < 4; c++ {
			x := ZMM()
			VPMADDUBSW(Mem{Base: cols[c], Disp: q8kQs + 64*j}, w, x)
			vpdpwssd(s, x, accs[c])
		}
	}
	s4 := reduceCols4(foldZ(accs))

	yd := columnScales(cols)
	d4, dm4 := XMM(), XMM()
	VBROADCASTSS(Mem{Base: up, Disp: unpD}, d4)
	VMULPS(yd, d4, d4)
	VBROADCASTSS(Mem{Base: up, Disp: unpD + 4}, dm4)
	VMULPS(yd, dm4, dm4)
	combineQ4KCols(d4, dm4, s4, m4, sum4)

	advance(unpSize, up)
	advance(q8kSize, cols[:]...)
	loopBack(nb, "gublock")
	storeSum4("gudone", sum4)
}

// minsCols4 is minsPaired for the four columns, reduced across them:
// [M0 M1 M2 M3] as exact int32s in an XMM register.
func minsCols4(cols [4]Register, mins VecVirtual) VecVirtual {
	bh := make([]VecVirtual, 4)
	for c := 0; c < 4; c++ {
		bh[c] = minsPaired(cols[c], mins)
	}
	VPHADDD(bh[1], bh[0], bh[0])
	VPHADDD(bh[3], bh[2], bh[2])
	VPHADDD(bh[2], bh[0], bh[0])
	return bh[0]
}

// reduceCols4 sums each of four YMM accumulators over its eight int32
// lanes (a vphaddd tree, exact): [S0 S1 S2 S3] in an XMM register.
func reduceCols4(accs []VecVirtual) VecVirtual {
	VPHADDD(accs[1], accs[0], accs[0])
	VPHADDD(accs[3], accs[2], accs[2])
	VPHADDD(accs[2], accs[0], accs[0])
	s4 := XMM()
	VEXTRACTI128(Imm(1), accs[0], s4)
	VPADDD(s4, accs[0].AsX(), s4)
	return s4
}

// foldZ folds each ZMM accumulator's sixteen int32 lanes to eight, for
// reduceCols4.
func foldZ(accs []VecVirtual) []VecVirtual {
	ys := make([]VecVirtual, len(accs))
	for c := range accs {
		ys[c] = YMM()
		VEXTRACTI64X4(Imm(1), accs[c], ys[c])
		VPADDD(ys[c], accs[c].AsY(), ys[c])
	}
	return ys
}

// bsumDots4: per column c, the sixteen int16 weights w (scales or mins,
// one per 16 activations) times column c's activation sums (Q8_K bsums),
// summed: [Σ0 Σ1 Σ2 Σ3] as exact int32s in an XMM register.
func bsumDots4(cols [4]Register, w VecVirtual) VecVirtual {
	sm := make([]VecVirtual, 4)
	for c := 0; c < 4; c++ {
		sm[c] = YMM()
		VPMADDWD(Mem{Base: cols[c], Disp: q8kBsums}, w, sm[c])
	}
	return reduceCols4(sm)
}

// gemmFrame opens a 1-row x 4-column GEMM kernel: func(w, a *byte,
// stride, nb int, out *float32) (w named wName), with the weight pointer,
// the block count, the four columns' pointers (column c at a+c*stride)
// and a zeroed XMM of the four running sums.
func gemmFrame(name, wName string) (wp, nb Register, cols [4]Register, sum4 VecVirtual) {
	TEXT(name, NOSPLIT, "func("+wName+", a *byte, stride, nb int, out *float32)")
	Pragma("noescape")
	wp = Load(Param(wName), GP64())
	ap := Load(Param("a"), GP64())
	stride := Load(Param("stride"), GP64())
	nb = Load(Param("nb"), GP64())
	cols = columnPointers(ap, stride)
	sum4 = XMM()
	VXORPS(sum4, sum4, sum4)
	return
}
