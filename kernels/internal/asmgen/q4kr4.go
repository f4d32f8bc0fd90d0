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
// gemmPrefetch bytes past wp into L1 and twice as far into L2 (every
// repacked GEMM, every ISA), for prefetchBlock's reason: an L1 prefetch
// that goes all the way to memory holds one of the core's few fill
// buffers for the whole latency. With L1 alone the 7B mock's batches of
// 3 and 4 tokens cost 1.31-1.37 and 1.47-1.49 decode steps, with L2 too
// 1.14-1.20 and 1.34-1.35 (three alternated rounds, bench --curve, 2
// threads); 2 and 8 tokens about the same.
func gemmPrefetchBlock(wp Register, size int) {
	for k := 0; k < (size+63)/64; k++ {
		PREFETCHT0(Mem{Base: wp, Disp: gemmPrefetch + 64*k})
		PREFETCHT2(Mem{Base: wp, Disp: 2*gemmPrefetch + 64*k})
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

// r4PairsGather: a vpermd index taking dwords 0-1 of each 128-bit lane,
// [A0 M0 A1 M1 A2 M2 A3 M3] in the low 256 bits (the rest is unused).
func r4PairsGather() Mem {
	m := GLOBL("q4kr4PairsGather", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(uint32(4*(i/2%4)+i%2)))
	}
	return m
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

// gemvQ4KR4Q8KAVX512: four repacked Q4_K rows by one Q8_K column in
// the R4 order, on the chunk layout (kernels.BlockQ4KR4). Per chunk one
// 64-byte load is four weights of every (row, sub-block): the low
// nibbles (a mask) are rows 0 and 2, the high ones (one GFNI shift, or
// a shift and the mask before Ice Lake) rows 1 and 3, and one 32-byte
// broadcast of the activations meets both in one vpdpbusd each. The
// dword accumulators keep each (row, sub-block) sum for the whole block
// (two pairs, even and odd chunks, to halve the vpdpbusd chain), scaled
// once at its end by two vpmulld: 4.5 vector-port instructions per
// chunk (32 weights of each row) plus 7 for the scaling, where one load
// per sub-block took 6 per sub-block plus 1.5 for its scaling. The mins
// take one vpmaddwd with the sub-block sums the activation copy
// carries (kernels.Q8KToR4Order). Per block, the scale sums and the mins'
// products are reduced together (exact integers), and the float step is
// floatPart4's, so each row's result is bit-identical to DotQ4KQ8K. The
// weights are loaded a block ahead (blockAhead).
func gemvQ4KR4Q8KAVX512(gather Mem, smc r4SMConsts, gfni bool) {
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
	ahead := blockAheadZ(true, k.wp, k.nb, k.label+"d", r4Qs, r4Size, 8)
	q := ahead.q

	k.loop(9)
	ahead.next()
	// The mins' products first, while few registers are live: VPHADDW
	// has no EVEX form and needs one of the first 16.
	sc, mn := r4ScalesMinsZ(wp, smc)
	bp4 := ZMM()
	VBROADCASTI32X4(Mem{Base: ap, Disp: q8kBsums}, bp4) // the sub-blocks' activation sums
	VPMADDWD(bp4, mn, mn)                               // lane r: row r's min·sum products
	sLo, sHi := r4ChunkScales(sc)
	acc := zeroedZ(4) // chunk i: 2(i%2) rows 0 and 2, 2(i%2)+1 rows 1 and 3
	for i := 0; i < 8; i++ {
		lo, hi, a := ZMM(), ZMM(), ZMM()
		VPANDD(mask, q[i], lo)
		if shr4 != nil {
			vgf2p8affineqb(0, shr4, q[i], hi)
		} else {
			VPSRLW(Imm(4), q[i], hi)
			VPANDD(mask, hi, hi)
		}
		ahead.reload(i) // q[i] is unpacked: it can take the next block's
		VBROADCASTI64X4(Mem{Base: ap, Disp: q8kQs + 32*i}, a)
		vpdpbusd(a, lo, acc[2*(i%2)])
		vpdpbusd(a, hi, acc[2*(i%2)+1])
	}
	VPADDD(acc[2], acc[0], acc[0])
	VPADDD(acc[3], acc[1], acc[1])
	v := chunkRowSums(acc[0], acc[1], sLo, sHi)
	VSHUFI64X2(U8(0xd8), v, v, v) // lane r: row r's four partial sums

	// The lanes' first pairs gathered: [A0 M0 A1 M1 | A2 M2 A3 M3].
	u := r4PairSums(v, mn)
	VPERMD(u, perm, u)
	ddm := XMM()
	VMOVDQU(Mem{Base: wp, Disp: r4DM}, ddm)
	floatPart4Pairs(ap, ddm, u.AsY(), sum4)

	k.next(r4Size)
}

// gemvQ4KR4Q8KAVX2: the same for AVX2 and, with vnni, AVX-VNNI, in two
// 256-bit halves: a half of chunk i is four weights of every sub-block
// of rows 2h (low nibbles) and 2h+1 (high), so the 32 activation bytes
// of the chunk's R4 order are one plain load, shared by both halves. A
// row's accumulator keeps its eight (sub-block) sums apart for the whole
// block: with vpdpbusd as dwords, scaled by a vpmulld at the block's
// end; with vpmaddubsw as word pairs (|sum| <= 8·2·15·128 = 30720, an
// int16), scaled by one vpmaddwd. With gfni (AVX-VNNI CPUs that have
// it: Alder Lake and later hybrids, Zen 5) the high nibbles take one
// VEX vgf2p8affineqb instead of a shift and a mask.
func gemvQ4KR4Q8KAVX2(smc r4SMConsts, vnni, gfni bool) {
	name, l := "gemvQ4KR4Q8KAVX2", "r4y"
	switch {
	case vnni && gfni:
		name, l = "gemvQ4KR4Q8KAVXVNNIGFNI", "r4vg"
	case vnni:
		name, l = "gemvQ4KR4Q8KAVXVNNI", "r4v"
	}
	k := newGemvR4(name, l)
	wp, ap, sum4 := k.wp, k.ap, k.sum4
	var shr4 VecVirtual
	if gfni {
		shr4 = YMM()
		g := GP64()
		MOVQ(U64(gf2p8ShiftRight4), g)
		VMOVQ(g, shr4.AsX()) // VEX: a legacy-SSE MOVQ here cost 10× (SSE/AVX transitions)
		VPBROADCASTQ(shr4.AsX(), shr4)
	}

	k.loop(9)
	mask := YMM()
	broadcastConst(mask, nibbleMask)
	bp2 := YMM()
	VBROADCASTI128(Mem{Base: ap, Disp: q8kBsums}, bp2) // the sub-blocks' activation sums

	var mins [2]VecVirtual
	n := r4MHiWords(wp)
	for h := 0; h < 2; h++ {
		sm := r4SMWordsY(wp, h)
		mins[h] = r4MinsY(sm, h, n, smc)
		VPMADDWD(bp2, mins[h], mins[h])
	}
	var acc [4]VecVirtual // row r
	for r := range acc {
		acc[r] = YMM()
		VPXOR(acc[r], acc[r], acc[r])
	}
	for i := 0; i < 8; i++ {
		a := YMM()
		VMOVDQU(Mem{Base: ap, Disp: q8kQs + 32*i}, a)
		for h := 0; h < 2; h++ {
			q, lo, hi := YMM(), YMM(), YMM()
			VMOVDQU(Mem{Base: wp, Disp: r4Qs + 64*i + 32*h}, q)
			VPAND(mask, q, lo)
			if gfni {
				vgf2p8affineqb(0, shr4, q, hi)
			} else {
				VPSRLW(Imm(4), q, hi)
				VPAND(mask, hi, hi)
			}
			for e, w := range []VecVirtual{lo, hi} {
				if vnni {
					vpdpbusd(a, w, acc[2*h+e]) // rewritten as VEX bytes by vexVNNI
				} else {
					VPMADDUBSW(a, w, w)
					VPADDW(w, acc[2*h+e], acc[2*h+e])
				}
			}
		}
	}
	// Each row's eight sums times its scales, then lane r of accs[h]:
	// row 2h+r's four partial sums.
	var accs [2]VecVirtual
	for h := 0; h < 2; h++ {
		sc := r4ScalesY(r4SMWordsY(wp, h), smc)
		for e := 0; e < 2; e++ {
			scaleRow(acc[2*h+e], rowScales(sc, e, vnni), vnni)
		}
		accs[h] = laneRows(acc[2*h], acc[2*h+1])
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

// rowScales makes row 2h+e's eight scales (sc: lane e holds them as
// words) into what scaleRow multiplies a chunk accumulator by: dwords
// for vpmulld (vnni), or each scale in both words of its pair for
// vpmaddwd.
func rowScales(sc VecVirtual, e int, vnni bool) VecVirtual {
	s := YMM()
	if e == 0 {
		VPMOVZXWD(sc.AsX(), s)
	} else {
		w := XMM()
		VEXTRACTI128(Imm(1), sc, w)
		VPMOVZXWD(w, s)
	}
	if !vnni {
		t := YMM()
		VPSLLD(Imm(16), s, t)
		VPOR(t, s, s) // (s, s) word pairs
	}
	return s
}

// scaleRow multiplies a row's chunk accumulator by its scales
// (rowScales): dword sums by vpmulld, word-pair sums by vpmaddwd. The
// result is the row's eight scaled sums as dwords, exact.
func scaleRow(acc, s VecVirtual, vnni bool) {
	if vnni {
		VPMULLD(s, acc, acc)
	} else {
		VPMADDWD(s, acc, acc)
	}
}

// laneRows folds two rows' eight dwords each (p0, p1) into lane 0 = p0's
// four pairwise sums and lane 1 = p1's.
func laneRows(p0, p1 VecVirtual) VecVirtual {
	x, y := YMM(), YMM()
	VPERM2I128(Imm(0x20), p1, p0, x) // p0.lo, p1.lo
	VPERM2I128(Imm(0x31), p1, p0, y) // p0.hi, p1.hi
	VPADDD(y, x, x)
	return x
}
