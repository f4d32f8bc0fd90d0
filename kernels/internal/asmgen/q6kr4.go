package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The repacked Q6_K kernels (kernels.BlockQ6KR4): decode GEMV and the
// 4- and 8-column GEMMs.

// q6r4Offset returns, lane by lane, −32·Σ scale·bsum for the Q8_K block
// at col: the Q6_K levels are stored unsigned (0..63), so the offset of
// 32 is taken out once per block through the activation sums of 16. sc
// holds the lanes' int16 scales of sub-blocks 0-7 and 8-15; z selects
// ZMM (four rows) or YMM (two rows).
func q6r4Offset(col Register, sc [2]VecVirtual, z bool) VecVirtual {
	var acc VecVirtual
	for h := 0; h < 2; h++ {
		// The sums of sub-blocks 8h..8h+7, in every 128-bit lane.
		var b VecVirtual
		if z {
			b = ZMM()
			VBROADCASTI32X4(Mem{Base: col, Disp: q8kBsums + 16*h}, b)
		} else {
			bs := XMM()
			VMOVDQU(Mem{Base: col, Disp: q8kBsums + 16*h}, bs)
			b = YMM()
			VINSERTI128(Imm(1), bs, bs.AsY(), b)
		}
		if h == 0 {
			acc = b
			VPMADDWD(b, sc[h], acc) // in place: acc is b
		} else {
			VPMADDWD(b, sc[h], b)
			VPADDD(b, acc, acc)
		}
	}
	var zero VecVirtual
	if z {
		zero = ZMM()
		VPXORD(zero, zero, zero)
	} else {
		zero = YMM()
		VPXOR(zero, zero, zero)
	}
	VPSLLD(Imm(5), acc, acc)
	VPSUBD(acc, zero, acc)
	return acc
}

// gemvQ6KR4Q8KAVX512: four repacked Q6_K rows (one 128-bit lane each) by
// one Q8_K column. Per 32 weights: one load of the four rows' low
// nibbles, the top two bits merged in from the shared 64-byte Qh load,
// two vpmaddubsw against activations broadcast to the lanes, and two
// vpdpwssd with the lanes' sub-block scales. The offset of 32 is taken
// out up front (acc starts at −32·Σ scale·bsum), as in the AVX2 kernel,
// so the result is bit-identical to DotQ6KQ8K. The weights are loaded a
// block ahead (blockAhead).
func gemvQ6KR4Q8KAVX512(shuf, first Mem) {
	k := newGemvR4("gemvQ6KR4Q8KAVX512", "r6z")
	wp, ap, sum4 := k.wp, k.ap, k.sum4
	m4, m30 := ZMM(), ZMM()
	tmp := GP32()
	MOVL(U32(0x0f0f0f0f), tmp)
	VPBROADCASTD(tmp, m4)
	MOVL(U32(0x30303030), tmp)
	VPBROADCASTD(tmp, m30)
	perm := ZMM()
	VMOVDQU64(first, perm)
	// The next block's low bits (8 vectors) and top bits (4), a block
	// ahead (blockAhead).
	ahead := blockAheadZ(true, k.wp, k.nb, k.label+"d", r6Ql, r6Size, 12)
	q := ahead.q

	k.loop(14)
	ahead.next()
	var sc [2]VecVirtual
	for h := 0; h < 2; h++ {
		sc[h] = ZMM()
		VPMOVSXBW(Mem{Base: wp, Disp: r6Scales + 32*h}, sc[h])
	}
	acc := q6r4Offset(ap, sc, true)
	for m := 0; m < 4; m++ {
		hb := q[8+m] // r6Qh follows r6Ql
		for kk := 0; kk < 2; kk++ {
			k := 2*m + kk
			lo, hi := q6r4Unpack(q[k], k, hb, m4, m30, true)
			ahead.reload(k)
			if kk == 1 {
				ahead.reload(8 + m)
			}
			for half, v := range []VecVirtual{lo, hi} {
				s := 2*k + half // sub-block
				a, sv := ZMM(), ZMM()
				VBROADCASTI32X4(Mem{Base: ap, Disp: q8kQs + 16*s}, a)
				VPMADDUBSW(a, v, v)
				VPSHUFB(shuf.Offset(64*(s%8)), sc[s/8], sv)
				vpdpwssd(sv, v, acc)
			}
		}
	}
	{
		t := ZMM()
		VPSHUFD(Imm(0x4e), acc, t)
		VPADDD(t, acc, acc)
		VPSHUFD(Imm(0xb1), acc, t)
		VPADDD(t, acc, acc)
		VPERMD(acc, perm, acc)
	}
	d4, yd := XMM(), XMM()
	VCVTPH2PS(Mem{Base: wp, Disp: r6D}, d4)
	VBROADCASTSS(Mem{Base: ap}, yd)
	VMULPS(yd, d4, d4)
	VCVTDQ2PS(acc.AsX(), yd)
	VMULPS(yd, d4, d4)
	VADDPS(d4, sum4, sum4)

	k.next(r6Size)
}

// r6LaneSplat: a vpermps index repeating float r across 128-bit lane r.
func r6LaneSplat() Mem {
	m := GLOBL("q6kr4LaneSplat", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(uint32(i/4)))
	}
	return m
}

// gemmQ6KR4Q8KAVX512x4: four repacked Q6_K rows against four Q8_K
// columns (the prompt's GEMM for Q6_K). The weights of each 32 are
// rebuilt once (low nibbles plus top bits) and serve the four columns;
// the sums are reduced by the in-lane transpose, and the float step runs
// on the 16 (row, column) pairs at once. out[4r+c] is bit-identical to
// DotQ6KQ8K of row r and column c.
func gemmQ6KR4Q8KAVX512x4(shuf, splat Mem) {
	gemmQ6KR4Q8KAVX512(4, shuf, splat, Mem{})
}

// gemmQ6KR4Q8KAVX512x8 is the same for eight columns, stored token-major
// as gemmQ4KR4Q8KAVX512x8 does: out[c·ostride + r].
// gemmQ6KR4Q8KAVX512x2 is the same for two columns (columns 2 and 3 of
// out zero), as gemmQ4KR4Q8KAVX512x2.
func gemmQ6KR4Q8KAVX512x2(shuf, splat Mem) {
	gemmQ6KR4Q8KAVX512(2, shuf, splat, Mem{})
}

func gemmQ6KR4Q8KAVX512x3(shuf, splat Mem) {
	gemmQ6KR4Q8KAVX512(3, shuf, splat, Mem{})
}

func gemmQ6KR4Q8KAVX512x8(shuf, splat, transpose Mem) {
	gemmQ6KR4Q8KAVX512(8, shuf, splat, transpose)
}

// r6AheadCols: the Q6_K GEMMs of up to three columns load a block ahead.
// Streaming 256 MB of 22- and 43-block rows per thread (one Zen 5 core
// each, alternated), two columns went from 23–26 GB/s against the GEMV's
// 27–30 to 27–30 at 1 thread, and from 35–46 against 52–57 to 54–58 at 2
// (with the calls split as the GEMV's, r4CallPlan); three columns from
// 41–50 to 47–54 at 2 threads. Four columns are compute-bound.
const r6AheadCols = 3

func gemmQ6KR4Q8KAVX512(n int, shuf, splat, transpose Mem) {
	k := newGemmR4(fmt.Sprintf("gemmQ6KR4Q8KAVX512x%d", n), fmt.Sprintf("r6g%d", n), n)
	wp, nb, cols, sums, l := k.wp, k.nb, k.cols, k.sums, k.label
	m4, m30 := ZMM(), ZMM()
	tmp := GP32()
	MOVL(U32(0x0f0f0f0f), tmp)
	VPBROADCASTD(tmp, m4)
	MOVL(U32(0x30303030), tmp)
	VPBROADCASTD(tmp, m30)

	// Up to r6AheadCols columns the registers also hold the next block's
	// weights, as in the GEMV (blockAhead): small batches then stream
	// their rows as decode does.
	ahead := blockAheadZ(n <= r6AheadCols, wp, nb, l+"d", r6Ql, r6Size, 12)
	blockLoop(nb, l+"b", l+"d")
	ahead.next()
	// As in the Q4_K GEMM: small batches are memory-bound, so fetch the
	// rows ahead (an 840-byte block is 14 cache lines).
	gemmPrefetchBlock(wp, r6Size)
	var sc [2]VecVirtual
	for h := 0; h < 2; h++ {
		sc[h] = ZMM()
		VPMOVSXBW(Mem{Base: wp, Disp: r6Scales + 32*h}, sc[h])
	}
	accs := make([]VecVirtual, n)
	for c := range accs {
		accs[c] = q6r4Offset(cols[c], sc, true)
	}
	for m := 0; m < 4; m++ {
		var hb VecVirtual
		if ahead != nil {
			hb = ahead.q[8+m] // r6Qh follows r6Ql
		} else {
			hb = ZMM()
			VMOVDQU64(Mem{Base: wp, Disp: r6Qh + 64*m}, hb)
		}
		for kk := 0; kk < 2; kk++ {
			k := 2*m + kk
			var lo, hi VecVirtual
			if ahead != nil {
				lo, hi = q6r4Unpack(ahead.q[k], k, hb, m4, m30, true)
				ahead.reload(k)
				if kk == 1 {
					ahead.reload(8 + m)
				}
			} else {
				lo, hi = q6r4Weights(wp, k, 0, hb, m4, m30, true)
			}
			for half, v := range []VecVirtual{lo, hi} {
				s := 2*k + half
				sv := ZMM()
				VPSHUFB(shuf.Offset(64*(s%8)), sc[s/8], sv)
				for c := 0; c < n; c++ {
					a := ZMM()
					VBROADCASTI32X4(Mem{Base: cols[c], Disp: q8kQs + 16*s}, a)
					VPMADDUBSW(a, v, a)
					vpdpwssd(sv, a, accs[c])
				}
			}
		}
	}
	padColumns(n, &accs, 4, nil, &cols) // accs: one per column here
	for g := range sums {
		S := transposeSum4([4]VecVirtual(accs[4*g : 4*g+4]))
		d4, dl, idx := XMM(), ZMM(), ZMM()
		VCVTPH2PS(Mem{Base: wp, Disp: r6D}, d4)
		VMOVDQU64(splat, idx)
		VPERMPS(d4.AsZ(), idx, dl)
		yd, yd16 := columnScales([4]Register(cols[4*g:4*g+4])), ZMM()
		VSHUFF32X4(U8(0), yd.AsZ(), yd.AsZ(), yd16)
		VMULPS(yd16, dl, dl)
		VCVTDQ2PS(S, S)
		VMULPS(S, dl, dl)
		VADDPS(dl, sums[g], sums[g])
	}

	k.next(r6Size)
	k.store(transpose)
}

// q6r4Weights rebuilds the 6-bit levels of 32 weights (group k) of the
// repacked Q6_K rows in one register width — all four rows in a ZMM (z),
// or rows 2h, 2h+1 in a YMM — as two registers: lo holds weights
// 32k..32k+15 of each row's lane, hi weights 32k+16..32k+31. hb is the
// group's Qh load; the top bits move to bits 4-5.
func q6r4Weights(wp Register, k, h int, hb, m4, m30 VecVirtual, z bool) (lo, hi VecVirtual) {
	// AVX2 has only the VEX forms; AVX-512 needs the EVEX (D/64) ones.
	q := YMM()
	if z {
		q = ZMM()
	}
	loadVec(Mem{Base: wp, Disp: r6Ql + 64*k + 32*h}, q)
	return q6r4Unpack(q, k, hb, m4, m30, z)
}

// q6r4Unpack is q6r4Weights on low bits already in q.
func q6r4Unpack(q VecVirtual, k int, hb, m4, m30 VecVirtual, z bool) (lo, hi VecVirtual) {
	vec := YMM
	and := func(a, b, c Op) { VPAND(a, b, c) }
	or := func(a, b, c Op) { VPOR(a, b, c) }
	mov := func(a, b Op) { VMOVDQA(a, b) }
	if z {
		vec = ZMM
		and = func(a, b, c Op) { VPANDD(a, b, c) }
		or = func(a, b, c Op) { VPORD(a, b, c) }
		mov = func(a, b Op) { VMOVDQA64(a, b) }
	}
	t := vec()
	lo, hi = vec(), vec()
	and(m4, q, lo)
	VPSRLW(Imm(4), q, hi)
	and(m4, hi, hi)
	if k%2 == 0 {
		VPSLLW(Imm(4), hb, t)
	} else {
		mov(hb, t)
	}
	and(m30, t, t)
	or(t, lo, lo)
	if k%2 == 0 {
		VPSLLW(Imm(2), hb, t)
	} else {
		VPSRLW(Imm(2), hb, t)
	}
	and(m30, t, t)
	or(t, hi, hi)
	return lo, hi
}

// gemvQ6KR4Q8KAVX2: gemvQ6KR4Q8KAVX512 in two 256-bit halves (rows 0-1,
// then 2-3), for AVX2 and, with vnni, AVX-VNNI. Bit-identical to
// DotQ6KQ8K per row.
func gemvQ6KR4Q8KAVX2(shuf Mem, vnni bool) {
	name, l := "gemvQ6KR4Q8KAVX2", "r6y"
	if vnni {
		name, l = "gemvQ6KR4Q8KAVXVNNI", "r6v"
	}
	k := newGemvR4(name, l)
	wp, ap, sum4 := k.wp, k.ap, k.sum4

	k.loop(14)
	var accs [2]VecVirtual
	for h := 0; h < 2; h++ {
		m4, m30 := YMM(), YMM()
		broadcastConst(m4, 0x0f0f0f0f)
		broadcastConst(m30, 0x30303030)
		sc := r6ScalesY(wp, h)
		acc := q6r4Offset(ap, sc, false)
		for m := 0; m < 4; m++ {
			hb := YMM()
			VMOVDQU(Mem{Base: wp, Disp: r6Qh + 64*m + 32*h}, hb)
			for kk := 0; kk < 2; kk++ {
				k := 2*m + kk
				lo, hi := q6r4Weights(wp, k, h, hb, m4, m30, false)
				for half, v := range []VecVirtual{lo, hi} {
					s := 2*k + half
					a, sv := YMM(), YMM()
					VBROADCASTI128(Mem{Base: ap, Disp: q8kQs + 16*s}, a)
					VPMADDUBSW(a, v, v)
					VPSHUFB(shuf.Offset(64*(s%8)), sc[s/8], sv)
					if vnni {
						vpdpwssd(sv, v, acc) // rewritten as VEX bytes by vexVNNI
					} else {
						VPMADDWD(sv, v, v)
						VPADDD(v, acc, acc)
					}
				}
			}
		}
		accs[h] = acc
	}
	x := accs[0]
	VPHADDD(accs[1], accs[0], x) // [r0 r0 r2 r2 | r1 r1 r3 r3]
	VPHADDD(x, x, x)             // [r0 r2 r0 r2 | r1 r3 r1 r3]
	hh, s4 := XMM(), XMM()
	VEXTRACTI128(Imm(1), x, hh)
	VPUNPCKLDQ(hh, x.AsX(), s4)
	d4, yd := XMM(), XMM()
	VCVTPH2PS(Mem{Base: wp, Disp: r6D}, d4)
	VBROADCASTSS(Mem{Base: ap}, yd)
	VMULPS(yd, d4, d4)
	VCVTDQ2PS(s4, s4)
	VMULPS(s4, d4, d4)
	VADDPS(d4, sum4, sum4)

	k.next(r6Size)
}

// r6ScalesY widens half h (rows 0-1 or 2-3) of a repacked Q6_K
// block's int8 scales to int16: sc[hh] holds sub-blocks 8hh..8hh+7.
func r6ScalesY(wp Register, h int) (sc [2]VecVirtual) {
	for hh := 0; hh < 2; hh++ {
		sc[hh] = YMM()
		VPMOVSXBW(Mem{Base: wp, Disp: r6Scales + 32*hh + 16*h}, sc[hh])
	}
	return sc
}

// gemmQ6KR4Q8KAVX2x4: gemmQ6KR4Q8KAVX512x4 in two 256-bit halves (rows
// 0-1, then 2-3), for AVX2 and, with vnni, AVX-VNNI; running sums in out
// as in gemmQ4KR4Q8KAVX2x4. Bit-identical to DotQ6KQ8K per (row, column).
func gemmQ6KR4Q8KAVX2(n int, shuf Mem, vnni bool) {
	name, l := fmt.Sprintf("gemmQ6KR4Q8KAVX2x%d", n), fmt.Sprintf("r6g2c%d", n)
	if vnni {
		name, l = fmt.Sprintf("gemmQ6KR4Q8KAVXVNNIx%d", n), fmt.Sprintf("r6gvc%d", n)
	}
	wp, nb, cols, op := gemmR4AVX2Frame(name, n)

	blockLoop(nb, l+"b", l+"d")
	gemmPrefetchBlock(wp, r6Size)
	for h := 0; h < 2; h++ {
		sc := r6ScalesY(wp, h)
		accs := make([]VecVirtual, n)
		for c := range accs {
			accs[c] = q6r4Offset(cols[c], sc, false)
		}
		accs = padToFour(accs)
		m4, m30 := YMM(), YMM()
		broadcastConst(m4, 0x0f0f0f0f)
		broadcastConst(m30, 0x30303030)
		for m := 0; m < 4; m++ {
			hb := YMM()
			VMOVDQU(Mem{Base: wp, Disp: r6Qh + 64*m + 32*h}, hb)
			for kk := 0; kk < 2; kk++ {
				k := 2*m + kk
				lo, hi := q6r4Weights(wp, k, h, hb, m4, m30, false)
				for half, v := range []VecVirtual{lo, hi} {
					s := 2*k + half
					sv := YMM()
					VPSHUFB(shuf.Offset(64*(s%8)), sc[s/8], sv)
					for c := 0; c < n; c++ {
						a := YMM()
						VBROADCASTI128(Mem{Base: cols[c], Disp: q8kQs + 16*s}, a)
						VPMADDUBSW(a, v, a)
						if vnni {
							vpdpwssd(sv, a, accs[c]) // rewritten as VEX bytes by vexVNNI
						} else {
							VPMADDWD(sv, a, a)
							VPADDD(a, accs[c], accs[c])
						}
					}
				}
			}
		}
		S := transposeSum4([4]VecVirtual(accs)) // lane r: [S_r0 S_r1 S_r2 S_r3]

		// d of rows 2h and 2h+1 across their lanes, times the tokens' d.
		d4, dl := XMM(), YMM()
		VCVTPH2PS(Mem{Base: wp, Disp: r6D}, d4)
		yd := columnScales(cols)
		lo, hi, yd2 := XMM(), XMM(), YMM()
		VSHUFPS(U8(0x55*(2*h)), d4, d4, lo)
		VSHUFPS(U8(0x55*(2*h+1)), d4, d4, hi)
		VINSERTF128(Imm(1), hi, lo.AsY(), dl)
		VINSERTF128(Imm(1), yd, yd.AsY(), yd2)
		VMULPS(yd2, dl, dl)
		VCVTDQ2PS(S, S)
		VMULPS(S, dl, dl)
		VADDPS(Mem{Base: op, Disp: 32 * h}, dl, dl)
		VMOVUPS(dl, Mem{Base: op, Disp: 32 * h})
	}

	ADDQ(U32(r6Size), wp)
	advance(q8kSize, cols[:n]...)
	loopBack(nb, l+"b")

	Label(l + "d")
	VZEROUPPER()
	RET()
}
