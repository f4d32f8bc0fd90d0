package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// gemmPrefetch is how far ahead (bytes) the repacked GEMM prefetches its
// rows: about ten 4-row blocks. A 4-token block takes twice a GEMV
// block's time in the core, yet at the GEMV's distance (3072) the
// misses were not hidden: the 7B mock's 4-token batch cost the sum of
// its compute and its stream (1.7x a decode step at 2 threads; 1.4x at
// this distance). 12288 and 24576 measured the same within the noise.
const gemmPrefetch = 6144

// gemmPrefetchBlock asks for the cache lines of the block of size bytes
// gemmPrefetch bytes past wp (every repacked GEMM, every ISA).
func gemmPrefetchBlock(wp Register, size int) {
	for k := 0; k < (size+63)/64; k++ {
		PREFETCHT0(Mem{Base: wp, Disp: gemmPrefetch + 64*k})
	}
}

// prefetchBlock asks for the lines of one repacked block (lines cache
// lines from wp) pf bytes ahead into L1 and 2·pf bytes ahead into L2.
//
// Why two levels: a one-core stream of weights runs at what the core's
// outstanding misses allow, and an L1 prefetch that goes all the way to
// DRAM holds a fill buffer (about 16 per core) for the whole memory
// latency — at ~100 ns that caps one core near 10 GB/s, which is where
// the GEMV sat (0.70–0.75 of the measured read bandwidth). Fetched into
// L2 one distance earlier, the line is close by when the L1 prefetch
// asks for it, so the fill buffer is held briefly. Measured on the
// 768 MB roofline, alternating binaries (`go test ./harness/roofline
// -bench Roofline`): 0.67–0.80 → 0.82–0.92 of read bandwidth at 1 and
// 2 threads; L2 at 4·pf was the same, at 1·pf (only T1 or T2) no better
// than L1 alone.
func prefetchBlock(wp, pf Register, lines int) {
	for k := 0; k < lines; k++ {
		PREFETCHT0(Mem{Base: wp, Index: pf, Scale: 1, Disp: 64 * k})
		PREFETCHT2(Mem{Base: wp, Index: pf, Scale: 2, Disp: 64 * k})
	}
}

// r4SMConsts are the constants r4ScalesMinsZ, r4ScalesY and r4MinsY
// need: word masks 0x3f and 0x3c, and VPSLLVW's counts (4 for words
// 0-15, 0 for 16-31).
type r4SMConsts struct{ m3f, m3c, shl Mem }

func newR4SMConsts() r4SMConsts {
	words := func(name string, v func(i int) uint16) Mem {
		m := GLOBL(name, RODATA|NOPTR) // DATA fills the latest GLOBL
		for i := 0; i < 32; i++ {
			DATA(2*i, U16(v(i)))
		}
		return m
	}
	return r4SMConsts{
		m3f: words("q4kr4Mask3f", func(int) uint16 { return 0x3f }),
		m3c: words("q4kr4Mask3c", func(int) uint16 { return 0x3c }),
		shl: words("q4kr4MHiShl", func(i int) uint16 { return 4 * uint16(1-i/16) }),
	}
}

// r4ScalesMinsZ unpacks the block's 6-bit scales and mins (SM, MHi) to
// words, row r in 128-bit lane r (what VPMOVZXBW of unpacked bytes
// gave): s = SM&63; m = SM>>6 | (MHi nibble)<<2, the MHi words shifted
// left by 4 in the low half so that one right shift by 2 puts rows 0-1's
// low nibbles and rows 2-3's high ones at bits 2-5. Eight vector
// instructions where two loads of unpacked bytes did, for 16 bytes less
// to stream per block (2.8%); in cache the kernel is no slower, since
// its 64-byte loads no longer split cache lines.
func r4ScalesMinsZ(wp Register, c r4SMConsts) (sc, mn VecVirtual) {
	w, mlo, n := ZMM(), ZMM(), YMM()
	VPMOVZXBW(Mem{Base: wp, Disp: r4SM}, w)
	sc = ZMM()
	VPANDD(c.m3f, w, sc)
	VPSRLW(Imm(6), w, mlo)
	VPMOVZXBW(Mem{Base: wp, Disp: r4MHi}, n)
	t := ZMM()
	VINSERTI64X4(Imm(1), n, n.AsZ(), t)
	VPSLLVW(c.shl, t, t)
	VPSRLW(Imm(2), t, t)
	VPTERNLOGD(U8(0xec), c.m3c, mlo, t) // t&0x3c | mlo
	return sc, t
}

// r4SMWordsY, r4ScalesY and r4MinsY are r4ScalesMinsZ for rows 2h and
// 2h+1 in a YMM (AVX2): r4SMWordsY loads the half's SM bytes as words,
// the other two derive the scales and the mins from them. They are apart
// because the AVX2 GEMM wants the mins only after its sub-block loop,
// when registers are free again (it loads the words twice); the GEMVs
// load them once. n holds the MHi bytes zero-extended to words
// (r4MHiWords: one load per block serves both halves, low nibbles for
// h = 0, high ones for h = 1).
func r4SMWordsY(wp Register, h int) VecVirtual {
	sm := YMM()
	VPMOVZXBW(Mem{Base: wp, Disp: r4SM + 16*h}, sm)
	return sm
}

func r4ScalesY(sm VecVirtual, c r4SMConsts) VecVirtual {
	sc := YMM()
	VPAND(c.m3f, sm, sc)
	return sc
}

func r4MinsY(sm VecVirtual, h int, n VecVirtual, c r4SMConsts) VecVirtual {
	mlo, t := YMM(), YMM()
	VPSRLW(Imm(6), sm, mlo)
	if h == 0 {
		VPSLLW(Imm(2), n, t)
	} else {
		VPSRLW(Imm(2), n, t)
	}
	VPAND(c.m3c, t, t)
	VPOR(t, mlo, mlo)
	return mlo
}

// r4MHiWords loads the block's MHi bytes as words for r4MinsY.
func r4MHiWords(wp Register) VecVirtual {
	n := YMM()
	VPMOVZXBW(Mem{Base: wp, Disp: r4MHi}, n)
	return n
}

// gemvR4 is the frame every repacked 4-row GEMV shares: the signature
// func(w, a *byte, nb, pf int, out *float32), sum4 = out, the loop over
// nb blocks with the block's prefetch, and out = sum4 at the end. A
// kernel emits its constants between newGemvR4 and loop, and its block
// between loop and next.
//
// The kernels add to out, block by block in the Go twin's order, so a
// row group can be multiplied in several calls (gemvR4Slices splits
// long rows) with exactly the twin's sums: 0 + x is x, and each call
// continues the chain the last one left.
type gemvR4 struct {
	label          string
	wp, ap, nb, pf Register
	sum4           VecVirtual
}

func newGemvR4(name, label string) *gemvR4 {
	TEXT(name, NOSPLIT, "func(w, a *byte, nb, pf int, out *float32)")
	Pragma("noescape")
	k := &gemvR4{label: label}
	k.wp = Load(Param("w"), GP64())
	k.ap = Load(Param("a"), GP64())
	k.nb = Load(Param("nb"), GP64())
	k.pf = Load(Param("pf"), GP64())
	k.sum4 = XMM()
	op := Load(Param("out"), GP64())
	VMOVUPS(Mem{Base: op}, k.sum4)
	return k
}

// loop opens the block loop; lines is the block's size in cache lines,
// for prefetchBlock.
func (k *gemvR4) loop(lines int) {
	Label(k.label + "b")
	CMPQ(k.nb, Imm(0))
	JE(LabelRef(k.label + "d"))
	prefetchBlock(k.wp, k.pf, lines)
}

// next steps to the next block (blockSize bytes of weights, one Q8_K
// block), closes the loop and stores the four rows' results.
func (k *gemvR4) next(blockSize int) {
	ADDQ(U32(blockSize), k.wp)
	ADDQ(U32(q8kSize), k.ap)
	DECQ(k.nb)
	JMP(LabelRef(k.label + "b"))

	Label(k.label + "d")
	op := Load(Param("out"), GP64())
	VMOVUPS(k.sum4, Mem{Base: op})
	VZEROUPPER()
	RET()
}

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

// r4PairScaleShuf: entry p (64 bytes) is a vpshufb index that fills
// each 128-bit lane with that lane's sub-block scales 2p (words 0-3) and
// 2p+1 (words 4-7), from the lane's eight zero-extended int16 scales.
func r4PairScaleShuf() Mem {
	m := GLOBL("q4kr4PairScaleShuf", RODATA|NOPTR)
	for p := 0; p < 4; p++ {
		for l := 0; l < 4; l++ {
			for w := 0; w < 8; w++ {
				j := 2*p + w/4
				DATA(64*p+16*l+2*w, U8(2*j))
				DATA(64*p+16*l+2*w+1, U8(2*j+1))
			}
		}
	}
	return m
}

// r4PairsGather: a vpermd index taking dwords 0-1 of each 128-bit lane,
// [A0 M0 A1 M1 A2 M2 A3 M3] in the low 256 bits (the rest is unused).
func r4PairsGather() Mem {
	m := GLOBL("q4kr4PairsGather", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(uint32(4*(i/2%4)+i%2)))
	}
	return m
}

// r4SubBlockPair adds to acc sub-blocks 2p and 2p+1 of the repacked
// block at wp (qOff: the half of each sub-block's 64 bytes a YMM form
// reads) against the activation block at ap, at acc's width: low nibbles
// by mask, high ones by vgf2p8affineqb with shr4 (nil: a shift and the
// mask), two vpdpbusd into a fresh sum of eight products per sub-block
// (|sum| <= 8·15·128, an int16), vpackssdw of the pair (exact) and one
// vpdpwssd with the lanes' two scales from sc (pairShuf). With ahead,
// the weights come from its registers, which then take the next block's.
func r4SubBlockPair(wp, ap Register, qOff, p int, mask, shr4, sc, acc VecVirtual, pairShuf Mem, ahead *blockAhead) {
	wide := acc.Size() == 64
	vec := YMM
	if wide {
		vec = ZMM
	}
	var t [2]VecVirtual
	for k := 0; k < 2; k++ {
		j := 2*p + k
		q, lo, hi, a0, a1 := vec(), vec(), vec(), vec(), vec()
		if ahead != nil {
			q = ahead.q[j]
		} else {
			loadVec(Mem{Base: wp, Disp: r4Qs + 64*j + qOff}, q)
		}
		if wide {
			VPANDD(mask, q, lo)
			VBROADCASTI32X4(Mem{Base: ap, Disp: q8kQs + 32*j}, a0)
			VBROADCASTI32X4(Mem{Base: ap, Disp: q8kQs + 32*j + 16}, a1)
		} else {
			VPAND(mask, q, lo)
			VBROADCASTI128(Mem{Base: ap, Disp: q8kQs + 32*j}, a0)
			VBROADCASTI128(Mem{Base: ap, Disp: q8kQs + 32*j + 16}, a1)
		}
		if shr4 != nil {
			vgf2p8affineqb(0, shr4, q, hi)
		} else {
			VPSRLW(Imm(4), q, hi)
			if wide {
				VPANDD(mask, hi, hi)
			} else {
				VPAND(mask, hi, hi)
			}
		}
		if ahead != nil {
			ahead.reload(j) // q[j] is unpacked: it can take the next block's
		}
		t[k] = vec()
		zeroIdiom(t[k])
		vpdpbusd(a0, lo, t[k])
		vpdpbusd(a1, hi, t[k])
	}
	w, s := vec(), vec()
	VPACKSSDW(t[1], t[0], w) // lane: sub-block 2p's four sums, then 2p+1's
	VPSHUFB(pairShuf.Offset(64*p), sc, s)
	vpdpwssd(s, w, acc)
}

// r4PairSums reduces each 128-bit lane's scale sums [a0 a1 a2 a3] (acc)
// and min products [m0 m1 m2 m3] (mn) to [A M A M] (exact integers).
func r4PairSums(acc, mn VecVirtual) VecVirtual {
	vec := YMM
	if acc.Size() == 64 {
		vec = ZMM
	}
	u, v := vec(), vec()
	VPUNPCKLDQ(mn, acc, u)
	VPUNPCKHDQ(mn, acc, v)
	VPADDD(v, u, u)
	VPSHUFD(Imm(0x4e), u, v)
	VPADDD(v, u, u)
	return u
}

// gemvQ4KR4Q8KAVX512: four repacked Q4_K rows (one 128-bit lane each)
// by one Q8_K column. Per sub-block j one 64-byte load is all four rows'
// 32 weights: the low nibbles (a mask) and the high ones (one GFNI
// shift) meet 16 activations each, broadcast to the lanes, in two
// vpdpbusd into a fresh dword sum of eight products (|sum| <= 15360, an
// int16). Sub-blocks go in pairs: vpackssdw packs the pair's sums to
// words (exact) and one vpdpwssd applies both scales. So a sub-block
// costs 5.5 vector-port instructions where the vpmaddubsw form took 8,
// and decode is that much closer to streaming weights at memory speed.
// Without gfni (AVX-512 CPUs before Ice Lake) the high nibbles take a
// shift and a mask: 6.5.
// Per block, the scale sums and the mins' products are reduced together
// (exact integers), and the float step is floatPart4's, so each row's
// result is bit-identical to DotQ4KQ8K. The weights are loaded a block
// ahead (blockAhead).
func gemvQ4KR4Q8KAVX512(pairShuf, gather Mem, smc r4SMConsts, gfni bool) {
	name := "gemvQ4KR4Q8KAVX512"
	if gfni {
		name += "GFNI"
	}
	k := newGemvR4(name, name)
	wp, ap, sum4 := k.wp, k.ap, k.sum4
	mask := ZMM()
	broadcastConst(mask, nibbleMask)
	var shr4 VecVirtual // nil: shift and mask instead of GFNI
	if gfni {
		shr4 = ZMM()
		g := GP64()
		MOVQ(U64(gf2p8ShiftRight4), g)
		VPBROADCASTQ(g, shr4)
	}
	perm := ZMM()
	VMOVDQU64(gather, perm)
	var q [8]VecVirtual
	for j := range q {
		q[j] = ZMM()
	}
	ahead := newBlockAhead(k.wp, k.nb, k.label+"d", r4Qs, r4Size, q[:]...)

	k.loop(9)
	ahead.next()
	sc, mn := r4ScalesMinsZ(wp, smc)
	bs, bp := YMM(), XMM()
	VMOVDQU(Mem{Base: ap, Disp: q8kBsums}, bs)
	VEXTRACTI128(Imm(1), bs, bp)
	VPHADDW(bp, bs.AsX(), bp) // activation sums of each sub-block
	bp4 := ZMM()
	VSHUFI64X2(U8(0), bp.AsZ(), bp.AsZ(), bp4)
	VPMADDWD(bp4, mn, mn) // lane r: row r's min·sum products

	acc := ZMM()
	zeroIdiom(acc)
	for p := 0; p < 4; p++ {
		r4SubBlockPair(wp, ap, 0, p, mask, shr4, sc, acc, pairShuf, ahead)
	}
	// The lanes' first pairs gathered: [A0 M0 A1 M1 | A2 M2 A3 M3].
	u := r4PairSums(acc, mn)
	VPERMD(u, perm, u)
	ddm := XMM()
	VMOVDQU(Mem{Base: wp, Disp: r4DM}, ddm)
	floatPart4Pairs(ap, ddm, u.AsY(), sum4)

	k.next(r4Size)
}

// gemvQ4KR4Q8KAVX2: the same in two 256-bit halves (rows 0-1, then 2-3),
// for AVX2 and, with vnni, AVX-VNNI's vpdpwssd.
func gemvQ4KR4Q8KAVX2(shuf Mem, smc r4SMConsts, vnni bool) {
	name, l := "gemvQ4KR4Q8KAVX2", "r4y"
	if vnni {
		name, l = "gemvQ4KR4Q8KAVXVNNI", "r4v"
	}
	k := newGemvR4(name, l)
	wp, ap, sum4 := k.wp, k.ap, k.sum4

	k.loop(9)
	mask := YMM()
	broadcastConst(mask, nibbleMask)
	bs, bp, bp2 := YMM(), XMM(), YMM()
	VMOVDQU(Mem{Base: ap, Disp: q8kBsums}, bs)
	VEXTRACTI128(Imm(1), bs, bp)
	VPHADDW(bp, bs.AsX(), bp)
	VINSERTI128(Imm(1), bp, bp.AsY(), bp2)

	// Both halves' scales, mins and sums first, then the sub-blocks with
	// j outside, so each activation broadcast serves both halves: 16
	// broadcasts per block instead of 32 (on AMD cores a 128-bit
	// broadcast load also takes a shuffle slot). On Zen 3 in L1, 15
	// alternated runs: min 28.7 -> 27.4 ns per block, medians 32.3 ->
	// 31.7, within this host's noise.
	var accs, mins, scs [2]VecVirtual
	n := r4MHiWords(wp)
	for h := 0; h < 2; h++ {
		sm := r4SMWordsY(wp, h)
		scs[h] = r4ScalesY(sm, smc)
		mins[h] = r4MinsY(sm, h, n, smc)
		VPMADDWD(bp2, mins[h], mins[h])
		accs[h] = YMM()
		VPXOR(accs[h], accs[h], accs[h])
	}
	for j := 0; j < 8; j++ {
		a0, a1 := YMM(), YMM()
		VBROADCASTI128(Mem{Base: ap, Disp: q8kQs + 32*j}, a0)
		VBROADCASTI128(Mem{Base: ap, Disp: q8kQs + 32*j + 16}, a1)
		for h := 0; h < 2; h++ {
			q, lo, hi, s := YMM(), YMM(), YMM(), YMM()
			VMOVDQU(Mem{Base: wp, Disp: r4Qs + 64*j + 32*h}, q)
			VPAND(mask, q, lo)
			VPSRLW(Imm(4), q, hi)
			VPAND(mask, hi, hi)
			VPMADDUBSW(a0, lo, lo)
			VPMADDUBSW(a1, hi, hi)
			VPADDW(hi, lo, lo)
			VPSHUFB(shuf.Offset(64*j), scs[h], s)
			if vnni {
				vpdpwssd(s, lo, accs[h]) // rewritten as VEX bytes by vexVNNI
			} else {
				VPMADDWD(s, lo, lo)
				VPADDD(lo, accs[h], accs[h])
			}
		}
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

	k.next(r4Size)
}

// gemvQ4KR4Q8KAVXVNNIGFNI: gemvQ4KR4Q8KAVX512's paired sub-blocks in two
// 256-bit halves (rows 0-1, then 2-3) for AVX-VNNI CPUs with GFNI (Alder
// Lake and later hybrids, Zen 5): high nibbles by one VEX
// vgf2p8affineqb, two vpdpbusd into a fresh sum of eight products,
// vpackssdw per pair and one vpdpwssd for both scales — 11 instructions
// per pair and half where vpmaddubsw, vpaddw and a vpdpwssd per
// sub-block took 16. The VNNI instructions are rewritten as VEX bytes by
// vexVNNI. Bit-identical to DotQ4KQ8K, like every form.
func gemvQ4KR4Q8KAVXVNNIGFNI(pairShuf Mem, smc r4SMConsts) {
	name := "gemvQ4KR4Q8KAVXVNNIGFNI"
	k := newGemvR4(name, name)
	wp, ap, sum4 := k.wp, k.ap, k.sum4

	mask, shr4 := YMM(), YMM()
	broadcastConst(mask, nibbleMask)
	g := GP64()
	MOVQ(U64(gf2p8ShiftRight4), g)
	VMOVQ(g, shr4.AsX()) // VEX: a legacy-SSE MOVQ here cost 10× (SSE/AVX transitions)
	VPBROADCASTQ(shr4.AsX(), shr4)

	k.loop(9)
	bs, bp, bp2 := YMM(), XMM(), YMM()
	VMOVDQU(Mem{Base: ap, Disp: q8kBsums}, bs)
	VEXTRACTI128(Imm(1), bs, bp)
	VPHADDW(bp, bs.AsX(), bp) // activation sums of each sub-block
	VINSERTI128(Imm(1), bp, bp.AsY(), bp2)

	var sums [2]VecVirtual
	n := r4MHiWords(wp)
	for h := 0; h < 2; h++ {
		sm := r4SMWordsY(wp, h)
		sc, mn := r4ScalesY(sm, smc), r4MinsY(sm, h, n, smc)
		VPMADDWD(bp2, mn, mn) // lane r: row 2h+r's min·sum products
		acc := YMM()
		zeroIdiom(acc)
		for p := 0; p < 4; p++ {
			r4SubBlockPair(wp, ap, 32*h, p, mask, shr4, sc, acc, pairShuf, nil)
		}
		sums[h] = r4PairSums(acc, mn)
	}
	// [A0M0 A2M2 | A1M1 A3M3] as qwords, then in row order.
	v := YMM()
	VPUNPCKLQDQ(sums[1], sums[0], v)
	VPERMQ(U8(0xd8), v, v)
	ddm := XMM()
	VMOVDQU(Mem{Base: wp, Disp: r4DM}, ddm)
	floatPart4Pairs(ap, ddm, v, sum4)

	k.next(r4Size)
}
