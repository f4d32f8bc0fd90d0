package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The one-row K-quant dots (Q4_K, Q6_K by Q8_K): the GEMV of last
// resort and the reference shape the other kernels grew from.

// scaleShuffles is a VPSHUFB table: entry k (32 bytes) broadcasts 16-bit
// element k of a register holding the eight sub-block scales as int16
// (in both 128-bit halves) to all sixteen 16-bit lanes.
func scaleShuffles() Mem {
	m := GLOBL("q4kScaleShuf", RODATA|NOPTR)
	for k := 0; k < 8; k++ {
		for i := 0; i < 16; i++ {
			DATA(32*k+2*i, U8(2*k))
			DATA(32*k+2*i+1, U8(2*k+1))
		}
	}
	return m
}

// dotQ4KQ8KAVX2 is DotQ4KQ8K for AVX2. Per super-block:
//   - unpack the 6-bit scales and mins with scalar shifts and masks;
//   - mins: the Q8_K sums of 16 are added in pairs (vphaddw) and
//     multiplied by the mins (vpmaddwd), 4 int32 lanes;
//   - for each 64 weights: low and high nibbles of 32 bytes are
//     multiplied with the int8 activations (vpmaddubsw: unsigned×signed,
//     pairs summed into int16, at most 2·15·127) and then by the
//     broadcast sub-block scale (vpmaddwd into int32);
//   - both integer sums are reduced to scalars, and the float part is
//     done with scalar SSE in exactly the Go twin's order.
//
// No dequantized value is ever stored to memory.
func dotQ4KQ8KAVX2(shuf Mem) { dotK4Q8KAVX2(shuf, false) }

// dotQ5KQ8KAVX2 is DotQ5KQ8K for AVX2 (and the AVX-512 tables, which
// have no wider Q5_K kernel): dotQ4KQ8KAVX2 with each weight's fifth bit
// merged in from the block's 32 Qh bytes before the multiplies
// (mergeQ5KTopBits). The levels are then 0..31, so
// vpmaddubsw's pair sums stay below 2·31·128 and never saturate; the
// rest, the scales and mins, the integer reductions and the float step
// in the Go twin's order, is the Q4_K kernel's, since Q5_K keeps Q4_K's
// header (d, dmin and the 12 bytes of 6-bit scales and mins).
//
// Q5_K matrices (llama.cpp's Q4_K_S and Q5_K_M recipes) take the one-row
// dots: before this kernel their pure-Go twin made a Q4_K_S 7B mock's
// decode step 2.8x the Q4_K_M mock's.
func dotQ5KQ8KAVX2(shuf Mem) { dotK4Q8KAVX2(shuf, true) }

// dotK4Q8KAVX2 emits the one-row dot of the Q4_K header's formats:
// Q4_K, or Q5_K with q5.
func dotK4Q8KAVX2(shuf Mem, q5 bool) {
	f := k4FormatOf(q5)
	name, l := "dotQ4KQ8KAVX2", ""
	if q5 {
		name, l = "dotQ5KQ8KAVX2", "q5"
	}
	wp, ap, nb, pf, sum := dotFrame(name)
	mask := YMM()
	broadcastConst(mask, nibbleMask)

	blockLoop(nb, l+"block", l+"done")
	prefetchAhead(wp, pf, 0, 64, 128)
	scales, mins := unpackQ4KScales(wp)
	bsHi := minsPaired(ap, mins)

	// Scales in both 128-bit halves for the broadcast shuffles.
	sc2 := YMM()
	VINSERTI128(Imm(1), scales, scales.AsY(), sc2)

	acc := YMM()
	VPXOR(acc, acc, acc)
	for j := 0; j < 4; j++ {
		lo, hi := f.weights(wp, j, mask)
		s := YMM()
		VPMADDUBSW(Mem{Base: ap, Disp: q8kQs + 64*j}, lo, lo)
		VPMADDUBSW(Mem{Base: ap, Disp: q8kQs + 64*j + 32}, hi, hi)
		VPSHUFB(shuf.Offset(32*(2*j)), sc2, s)
		VPMADDWD(s, lo, lo)
		VPSHUFB(shuf.Offset(32*(2*j+1)), sc2, s)
		VPMADDWD(s, hi, hi)
		VPADDD(lo, acc, acc)
		VPADDD(hi, acc, acc)
	}
	// Horizontal integer sums: sumi over 8 lanes, summ over 4.
	x := XMM()
	VEXTRACTI128(Imm(1), acc, x)
	VPADDD(x, acc.AsX(), x)
	hsum4(x)
	hsum4(bsHi)
	floatPartQ4K(wp, ap, x, bsHi, sum)

	advance(f.size, wp)
	advance(q8kSize, ap)
	loopBack(nb, l+"block")
	returnSum(l+"done", sum)
}

// minsPaired is a Q4_K block's Σ min·bsum in four int32 lanes: the
// Q8_K activation sums of 16 at a are added in pairs (sub-blocks of
// 32, vphaddw) and multiplied by the eight int16 mins (vpmaddwd).
func minsPaired(a Register, mins VecVirtual) VecVirtual {
	bs, bsHi := YMM(), XMM()
	VMOVDQU(Mem{Base: a, Disp: q8kBsums}, bs)
	VEXTRACTI128(Imm(1), bs, bsHi)
	VPHADDW(bsHi, bs.AsX(), bsHi)
	VPMADDWD(mins, bsHi, bsHi)
	return bsHi
}

// floatPartQ4K is the float step of a one-row Q4_K dot in the Go
// twin's order: d = f16(D)·y.d, dmin = f16(Dmin)·y.d, then sum +=
// d·float(sumi) − dmin·float(summ), on lane 0 of sumi and summ.
func floatPartQ4K(wp, ap Register, sumi, summ, sum VecVirtual) {
	dw, dd, dm := GP32(), XMM(), XMM()
	MOVWLZX(Mem{Base: wp}, dw)
	VMOVD(dw, dd)
	VCVTPH2PS(dd, dd)
	VMULSS(Mem{Base: ap}, dd, dd)
	MOVWLZX(Mem{Base: wp, Disp: 2}, dw)
	VMOVD(dw, dm)
	VCVTPH2PS(dm, dm)
	VMULSS(Mem{Base: ap}, dm, dm)
	VCVTDQ2PS(sumi, sumi)
	VMULSS(sumi, dd, dd)
	VCVTDQ2PS(summ, summ)
	VMULSS(summ, dm, dm)
	VSUBSS(dm, dd, dd)
	VADDSS(dd, sum, sum)
}

// hsum4 leaves the sum of x's four int32 lanes in lane 0.
func hsum4(x VecVirtual) {
	t := XMM()
	VPSHUFD(Imm(0x4e), x, t)
	VPADDD(t, x, x)
	VPSHUFD(Imm(0xb1), x, t)
	VPADDD(t, x, x)
}

// q6kScaleShuffles: entry 4h+i (32 bytes) builds, from the 16 int8
// scales present in both 128-bit halves, int16 lanes holding scale
// 8h+2i in the low half and 8h+2i+1 in the high half. Each scale byte
// lands in the high byte of its 16-bit lane (the low byte is zeroed by
// index 0x80), so an arithmetic shift right by 8 sign-extends it.
func q6kScaleShuffles() Mem {
	m := GLOBL("q6kScaleShuf", RODATA|NOPTR)
	for h := 0; h < 2; h++ {
		for i := 0; i < 4; i++ {
			e := 4*h + i
			for lane := 0; lane < 2; lane++ {
				for w := 0; w < 8; w++ {
					off := 32*e + 16*lane + 2*w
					DATA(off, U8(0x80))
					DATA(off+1, U8(8*h+2*i+lane))
				}
			}
		}
	}
	return m
}

// dotQ6KQ8KAVX2 is DotQ6KQ8K for AVX2. The 6-bit quants are rebuilt
// unsigned (0..63) from 4 low bits in ql and 2 high bits in qh, multiplied
// with the activations by vpmaddubsw (pairs at most 2·63·127, fits int16)
// and by the int8 sub-block scales by vpmaddwd. The offset of 32 is taken
// out once per block with the activation sums: Σ sc·(q−32)·a =
// Σ sc·q·a − 32·Σ sc·bsum. The float part follows the Go twin's order.
func dotQ6KQ8KAVX2(shuf Mem) {
	wp, ap, nb, pf, sum := dotFrame("dotQ6KQ8KAVX2")
	m4, m30 := YMM(), YMM()
	broadcastConst(m4, 0x0f0f0f0f)
	broadcastConst(m30, 0x30303030)

	blockLoop(nb, "q6block", "q6done")
	prefetchAhead(wp, pf, 0, 64, 128, 192)

	// Scales: int8 in both halves (for the shuffles), and int16 for the sums.
	sc8, sc16 := YMM(), YMM()
	VBROADCASTI128(Mem{Base: wp, Disp: q6kScales}, sc8)
	VPMOVSXBW(Mem{Base: wp, Disp: q6kScales}, sc16)
	// Σ sc·bsum over the 16 sub-blocks.
	summ := YMM()
	VPMADDWD(Mem{Base: ap, Disp: q8kBsums}, sc16, summ)

	acc := YMM()
	VPXOR(acc, acc, acc)
	q6kBlockSums(wp, ap, shuf, sc8, m4, m30, acc)
	// sumi = Σ acc − 32·Σ summ
	x, y := XMM(), XMM()
	VEXTRACTI128(Imm(1), acc, x)
	VPADDD(x, acc.AsX(), x)
	hsum4(x)
	VEXTRACTI128(Imm(1), summ, y)
	VPADDD(y, summ.AsX(), y)
	hsum4(y)
	VPSLLD(Imm(5), y, y)
	VPSUBD(y, x, x)

	dw, dd := GP32(), XMM()
	MOVWLZX(Mem{Base: wp, Disp: q6kD}, dw)
	VMOVD(dw, dd)
	VCVTPH2PS(dd, dd)
	VMULSS(Mem{Base: ap}, dd, dd)
	VCVTDQ2PS(x, x)
	VMULSS(x, dd, dd)
	VADDSS(dd, sum, sum)

	advance(q6kSize, wp)
	advance(q8kSize, ap)
	loopBack(nb, "q6block")
	returnSum("q6done", sum)
}

// q6kBlockSums adds a Q6_K block's Σ sc·q·a (q unsigned, 0..63) to
// the eight int32 lanes of acc: its 6-bit levels are rebuilt 32 at a
// time, multiplied with the activations at ap (vpmaddubsw) and by the
// int8 sub-block scales in sc8 (both halves; vpmaddwd).
func q6kBlockSums(wp, ap Register, shuf Mem, sc8, m4, m30, acc VecVirtual) {
	for h := 0; h < 2; h++ {
		ql0, ql1, qh := q6kHalf(wp, h)
		for i := 0; i < 4; i++ {
			q, s := q6kLevels32(i, ql0, ql1, qh, m4, m30), YMM()
			VPMADDUBSW(Mem{Base: ap, Disp: q8kQs + 128*h + 32*i}, q, q)
			VPSHUFB(shuf.Offset(32*(4*h+i)), sc8, s)
			VPSRAW(Imm(8), s, s)
			VPMADDWD(s, q, q)
			VPADDD(q, acc, acc)
		}
	}
}

// q6kHalf loads half h of a Q6_K block's quants: its 64 bytes of low
// bits (ql0, ql1) and 32 bytes of high bit pairs (qh).
func q6kHalf(wp Register, h int) (ql0, ql1, qh VecVirtual) {
	ql0, ql1, qh = YMM(), YMM(), YMM()
	VMOVDQU(Mem{Base: wp, Disp: q6kQl + 64*h}, ql0)
	VMOVDQU(Mem{Base: wp, Disp: q6kQl + 64*h + 32}, ql1)
	VMOVDQU(Mem{Base: wp, Disp: q6kQh + 32*h}, qh)
	return
}

// q6kLevels32 rebuilds 32 unsigned 6-bit Q6_K levels (0..63) of part i
// (0..3) of a half block from its 64 ql bytes (ql0, ql1) and 32 qh bytes:
// the low 4 bits are the low (i < 2) or high nibbles of ql0 (even i) or
// ql1 (odd i); the top 2 bits are bit pair i of qh, moved to bits 4-5.
func q6kLevels32(i int, ql0, ql1, qh VecVirtual, m4, m30 Op) VecVirtual {
	q, hb := YMM(), YMM()
	src := ql0
	if i%2 == 1 {
		src = ql1
	}
	if i < 2 {
		VPAND(m4, src, q)
	} else {
		VPSRLW(Imm(4), src, q)
		VPAND(m4, q, q)
	}
	switch i {
	case 0:
		VPSLLW(Imm(4), qh, hb)
	case 1:
		VPSLLW(Imm(2), qh, hb)
	case 2:
		VMOVDQA(qh, hb)
	case 3:
		VPSRLW(Imm(2), qh, hb)
	}
	VPAND(m30, hb, hb)
	VPOR(hb, q, q)
	return q
}

// zmmScaleShuffles: entry k (64 bytes) turns the eight int16 scales,
// present in all four 128-bit lanes, into a register whose low 256 bits
// hold scale 2k and high 256 bits scale 2k+1.
func zmmScaleShuffles() Mem {
	m := GLOBL("q4kScaleShufZ", RODATA|NOPTR)
	for k := 0; k < 4; k++ {
		for lane := 0; lane < 4; lane++ {
			el := 2*k + lane/2
			for i := 0; i < 8; i++ {
				off := 64*k + 16*lane + 2*i
				DATA(off, U8(2*el))
				DATA(off+1, U8(2*el+1))
			}
		}
	}
	return m
}

// dotQ4KQ8KAVX512 is DotQ4KQ8K for AVX-512 (BW, VNNI). Each step takes 64
// bytes of quants (128 weights, sub-blocks 2k and 2k+1 of two chunks):
// the low and high nibbles are split with 512-bit ops and the 128-bit
// lanes shuffled so that one register holds sub-blocks (2m, 2m+1) — a
// contiguous run of 64 activations, used straight from memory by
// vpmaddubsw. vpdpwssd then applies the scales and accumulates. Mins,
// reductions and the float part are as in the AVX2 kernel, so the result
// is bit-identical to the Go twin.
func dotQ4KQ8KAVX512(shuf Mem) {
	wp, ap, nb, pf, sum := dotFrame("dotQ4KQ8KAVX512")
	mask := ZMM()
	broadcastConstZ(mask, nibbleMask)

	blockLoop(nb, "zblock", "zdone")
	prefetchAhead(wp, pf, 0, 64, 128)
	scales, mins := unpackQ4KScales(wp)
	bsHi := minsPaired(ap, mins)

	sc4 := ZMM()
	VSHUFI64X2(U8(0x00), scales.AsZ(), scales.AsZ(), sc4) // lane 0 to all four

	acc := ZMM()
	VPXORD(acc, acc, acc)
	for h := 0; h < 2; h++ { // quant bytes 64h..64h+63: chunks 2h, 2h+1
		q, lo, hi, p, s := ZMM(), ZMM(), ZMM(), ZMM(), ZMM()
		VMOVDQU64(Mem{Base: wp, Disp: q4kQs + 64*h}, q)
		VPANDD(mask, q, lo)
		VPSRLW(Imm(4), q, hi)
		VPANDD(mask, hi, hi)
		for m := 0; m < 2; m++ {
			// chunk 2h+m: its low nibbles are lane pair m of lo, high of hi.
			imm := U8(0x44) // lanes 0,1 of lo then 0,1 of hi
			if m == 1 {
				imm = U8(0xee) // lanes 2,3 of lo then 2,3 of hi
			}
			VSHUFI64X2(imm, hi, lo, p)
			VPMADDUBSW(Mem{Base: ap, Disp: q8kQs + 128*h + 64*m}, p, p)
			VPSHUFB(shuf.Offset(64*(2*h+m)), sc4, s)
			vpdpwssd(s, p, acc)
		}
	}
	x, y := YMM(), XMM()
	VEXTRACTI64X4(Imm(1), acc, x)
	VPADDD(x, acc.AsY(), x)
	VEXTRACTI128(Imm(1), x, y)
	VPADDD(y, x.AsX(), y)
	hsum4(y)
	hsum4(bsHi)
	floatPartQ4K(wp, ap, y, bsHi, sum)

	advance(q4kSize, wp)
	advance(q8kSize, ap)
	loopBack(nb, "zblock")
	returnSum("zdone", sum)
}
