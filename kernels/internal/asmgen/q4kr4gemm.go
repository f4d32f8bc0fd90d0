package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The repacked Q4_K GEMMs (2-8 token columns, AVX-512 and AVX2/AVX-VNNI)
// and what only they use; the GEMVs and the shared pieces are in q4kr4.go.

// r4ScaleDwords is a VPSHUFB table for the zero-extended Scales, whose
// 128-bit lane r holds row r's eight scales as words: entry j (64 bytes,
// the first 32 for YMM) puts scale j in the low word of every dword of
// the lane and zeroes the high word. Each dword is then (s, 0) as
// vpdpwssd's int16 pair: t·s + 0 for an int32 t that fits int16.
func r4ScaleDwords() Mem {
	m := GLOBL("q4kr4ScaleDwords", RODATA|NOPTR)
	for j := 0; j < 8; j++ {
		for k := 0; k < 16; k++ {
			DATA(64*j+4*k, U8(2*j))
			DATA(64*j+4*k+1, U8(2*j+1))
			DATA(64*j+4*k+2, U8(0x80))
			DATA(64*j+4*k+3, U8(0x80))
		}
	}
	return m
}

// r4MinsDup is a VPSHUFB table for the zero-extended Mins (row r's eight
// words in lane r): entry 0 (64 bytes) repeats words 0-3 twice each,
// entry 1 words 4-7.
func r4MinsDup() Mem {
	m := GLOBL("q4kr4MinsDup", RODATA|NOPTR)
	for e := 0; e < 2; e++ {
		for i := 0; i < 64; i++ {
			w := 4*e + (i%16)/4 // word of the lane
			DATA(64*e+i, U8(2*w+i%2))
		}
	}
	return m
}

// r4LaneSplat: vpermps indexes that repeat float 2r (d of row r) or
// 2r+1 (dmin of row r) across 128-bit lane r.
func r4LaneSplat() Mem {
	m := GLOBL("q4kr4LaneSplat", RODATA|NOPTR)
	for k := 0; k < 2; k++ {
		for i := 0; i < 16; i++ {
			DATA(64*k+4*i, U32(uint32(2*(i/4)+k)))
		}
	}
	return m
}

// transposeSum4 sums each 128-bit lane's four dwords of v[0..3] and
// leaves them in v[0] as lane r = [Σv0 Σv1 Σv2 Σv3] (exact integers).
func transposeSum4(v [4]VecVirtual) VecVirtual {
	var t [2]VecVirtual
	for k := 0; k < 2; k++ {
		a, b := v[2*k], v[2*k+1]
		lo, hi := ZMM(), ZMM()
		VPUNPCKLDQ(b, a, lo)
		VPUNPCKHDQ(b, a, hi)
		VPADDD(hi, lo, lo)
		t[k] = lo
	}
	lo, hi := ZMM(), ZMM()
	VPUNPCKLQDQ(t[1], t[0], lo)
	VPUNPCKHQDQ(t[1], t[0], hi)
	VPADDD(hi, lo, lo)
	return lo
}

// gemmQ4KR4Q8KAVX512x4: four repacked rows against four Q8_K columns
// (the prompt's GEMM on the decode layout). Each 64-byte weight load and
// nibble split serves four columns; per block the 16 integer sums are
// reduced by one in-lane transpose, and the float step runs on all 16
// (row, column) pairs at once in DotQ4KQ8K's order. out[4r+c] is row r
// against column c, bit-identical to DotQ4KQ8K.
func gemmQ4KR4Q8KAVX512x4(scaleShuf, splat, minsDup Mem, smc r4SMConsts) {
	gemmQ4KR4Q8KAVX512(4, scaleShuf, splat, minsDup, Mem{}, smc)
}

// gemmQ4KR4Q8KAVX512x8 is the same for eight columns: each weight load,
// nibble split and scale shuffle serves twice as many tokens. Column
// groups 0-3 and 4-7 keep their own sums; at the end each is transposed
// so that column c's four rows are stored straight into the output:
// out[c·ostride + r] (ostride in bytes), the token-major layout the
// engine writes, with no scatter loop in Go.
// gemmQ4KR4Q8KAVX512x2 and x3 are the same for two and three columns
// (speculative verification of one or two draft tokens): out as for
// four columns, the missing ones zero. Each weight load and nibble split
// serves the columns there are instead of being padded to four.
func gemmQ4KR4Q8KAVX512x2(scaleShuf, splat, minsDup Mem, smc r4SMConsts) {
	gemmQ4KR4Q8KAVX512(2, scaleShuf, splat, minsDup, Mem{}, smc)
}

func gemmQ4KR4Q8KAVX512x3(scaleShuf, splat, minsDup Mem, smc r4SMConsts) {
	gemmQ4KR4Q8KAVX512(3, scaleShuf, splat, minsDup, Mem{}, smc)
}

func gemmQ4KR4Q8KAVX512x8(scaleShuf, splat, minsDup, transpose Mem, smc r4SMConsts) {
	gemmQ4KR4Q8KAVX512(8, scaleShuf, splat, minsDup, transpose, smc)
}

// gemmR4 holds what the 4-row × n-column AVX-512 GEMMs (Q4_K and Q6_K,
// n = 4 or 8) share: the arguments, the column pointers, one running sum
// per group of four columns, the block loop's tail and the final store.
type gemmR4 struct {
	wp, nb Register
	cols   []Register
	sums   []VecVirtual
	label  string
	direct bool // n = 8: results stored token-major (out[c·ostride + r])
}

// newGemmR4 emits the function header and the setup before the block
// loop, whose labels start with label.
func newGemmR4(name, label string, n int) *gemmR4 {
	k := &gemmR4{label: label, direct: n == 8}
	if k.direct {
		TEXT(name, NOSPLIT, "func(w, a *byte, stride, nb int, out *float32, ostride int)")
	} else {
		TEXT(name, NOSPLIT, "func(w, a *byte, stride, nb int, out *float32)")
	}
	Pragma("noescape")
	k.wp = Load(Param("w"), GP64())
	ap := Load(Param("a"), GP64())
	stride := Load(Param("stride"), GP64())
	k.nb = Load(Param("nb"), GP64())
	k.cols = []Register{ap}
	for c := 1; c < n; c++ {
		p := GP64()
		LEAQ(Mem{Base: k.cols[c-1], Index: stride, Scale: 1}, p)
		k.cols = append(k.cols, p)
	}
	if k.direct {
		k.sums = zeroedZ((n + 3) / 4)
		return k
	}
	// Up to four columns the kernel adds to out (16 floats, 4r+c; the
	// columns past n stay as they are), so a row group can be split
	// into several calls with the Go twin's sums (see newGemvR4).
	op := Load(Param("out"), GP64())
	k.sums = []VecVirtual{ZMM()}
	VMOVUPS(Mem{Base: op}, k.sums[0])
	return k
}

// next ends a block: weights and columns move on, back to the loop head.
func (k *gemmR4) next(blockSize int) {
	ADDQ(U32(blockSize), k.wp)
	for _, c := range k.cols {
		ADDQ(U32(q8kSize), c)
	}
	DECQ(k.nb)
	JMP(LabelRef(k.label + "b"))
}

// store writes the sums: 16 floats per group (4r+c) for n = 4; for n = 8
// each group transposed (transpose: r4Transpose) and column c's four rows
// stored at out + c·ostride.
func (k *gemmR4) store(transpose Mem) {
	Label(k.label + "d")
	op := Load(Param("out"), GP64())
	if !k.direct {
		for g := range k.sums {
			VMOVUPS(k.sums[g], Mem{Base: op, Disp: 64 * g})
		}
		VZEROUPPER()
		RET()
		return
	}
	ost := Load(Param("ostride"), GP64())
	idx := ZMM()
	VMOVDQU64(transpose, idx)
	for g := range k.sums {
		VPERMPS(k.sums[g], idx, k.sums[g])
		for c := 0; c < 4; c++ {
			VEXTRACTF32X4(Imm(uint64(c)), k.sums[g], Mem{Base: op})
			ADDQ(ost, op)
		}
	}
	VZEROUPPER()
	RET()
}

// r4Transpose is the vpermps index turning a 4×4 block stored as 4r+c
// into 4c+r: 128-bit lane c then holds column c's four rows.
func r4Transpose() Mem {
	m := GLOBL("q4kr4Transpose", RODATA|NOPTR)
	for c := 0; c < 4; c++ {
		for r := 0; r < 4; r++ {
			DATA(16*c+4*r, U32(uint32(4*r+c)))
		}
	}
	return m
}

// padColumns fills a GEMM of n < 4 columns out to one group of four:
// zero sums (accs to accsLen, ms to 4 where given) for the missing
// columns, whose scales are then the last column's (any finite value
// gives 0 there).
func padColumns(n int, accs *[]VecVirtual, accsLen int, ms *[]VecVirtual, cols *[]Register) {
	if n >= 4 {
		return
	}
	z := ZMM()
	zeroIdiom(z)
	for len(*accs) < accsLen {
		*accs = append(*accs, z)
	}
	for ms != nil && len(*ms) < 4 {
		*ms = append(*ms, z)
	}
	for len(*cols) < 4 {
		*cols = append(*cols, (*cols)[n-1])
	}
}

// pairSums folds the column-pair sums of the repacked GEMM: lane r of
// a holds [x0 y0 x1 y1] (two partial sums of columns 0 and 1), of b the
// same for columns 2 and 3; the result's lane r is [S0 S1 S2 S3].
func pairSums(a, b VecVirtual) VecVirtual {
	for _, v := range []VecVirtual{a, b} {
		t := ZMM()
		VPSHUFD(Imm(0xb1), v, t)
		VPADDD(t, v, v) // [x0+y0, x0+y0, x1+y1, x1+y1]
	}
	s := ZMM()
	VSHUFPS(Imm(0x88), b, a, s) // dwords 0 and 2 of a, then of b
	return s
}

// gemmQ4KR4Q8KAVX512 emits the n-column repacked Q4_K GEMM. Per
// sub-block each column's two vpdpbusd sums fit an int16, so a pair of
// columns is packed into one register and scaled by one vpdpwssd (the
// scale in every word: scaleShuf, r4ScaleShuf): 16 instead of 32
// vpdpwssd per block at four columns, the integer sums unchanged.
func gemmQ4KR4Q8KAVX512(n int, scaleShuf, splat, minsDup, transpose Mem, smc r4SMConsts) {
	k := newGemmR4(fmt.Sprintf("gemmQ4KR4Q8KAVX512x%d", n), fmt.Sprintf("r4g%d", n), n)
	wp, nb, cols, sums, l := k.wp, k.nb, k.cols, k.sums, k.label
	mask := ZMM()
	tmp := GP32()
	MOVL(U32(nibbleMask), tmp)
	VPBROADCASTD(tmp, mask)

	// Up to four columns the registers hold the next block's weights too
	// (blockAhead: small batches stream their rows as decode does).
	ahead := blockAheadZ(n <= 4, wp, nb, l+"d", r4Qs, r4Size, 8)
	blockLoop(nb, l+"b", l+"d")
	ahead.next()
	// Small batches (speculative verification) are memory-bound like
	// decode: fetch the rows ten blocks ahead, as the GEMV kernels do.
	// With a large batch the rows are already in L1 and this costs nine
	// loads per block.
	gemmPrefetchBlock(wp, r4Size)
	mnA, mnB := ZMM(), ZMM()
	sc, mn := r4ScalesMinsZ(wp, smc)
	// Each min twice (lane r: row r's m0 m0 m1 m1 … in mnA, m4 m4 … in
	// mnB), so vpmaddwd pairs it with both Q8_K sums of 16 of its
	// sub-block: no per-token pairing of the sums.
	VPSHUFB(minsDup, mn, mnA)
	VPSHUFB(minsDup.Offset(64), mn, mnB)
	ms, accs := make([]VecVirtual, n), make([]VecVirtual, (n+1)/2)
	for c := 0; c < n; c++ {
		bA, bB := ZMM(), ZMM()
		VBROADCASTI32X4(Mem{Base: cols[c], Disp: q8kBsums}, bA)
		VBROADCASTI32X4(Mem{Base: cols[c], Disp: q8kBsums + 16}, bB)
		ms[c] = ZMM()
		VPMADDWD(bA, mnA, ms[c])
		vpdpwssd(bB, mnB, ms[c])
	}
	for p := range accs {
		accs[p] = ZMM()
		VPXORD(accs[p], accs[p], accs[p])
	}
	for j := 0; j < 8; j++ {
		q, lo, hi, s := ZMM(), ZMM(), ZMM(), ZMM()
		if ahead != nil {
			q = ahead.q[j]
		} else {
			VMOVDQU64(Mem{Base: wp, Disp: r4Qs + 64*j}, q)
		}
		VPANDD(mask, q, lo)
		VPSRLW(Imm(4), q, hi)
		VPANDD(mask, hi, hi)
		if ahead != nil {
			ahead.reload(j)
		}
		VPSHUFB(scaleShuf.Offset(64*j), sc, s) // every word of lane r: s_rj
		var t [2]VecVirtual
		for c := 0; c < n; c++ {
			a0, a1 := ZMM(), ZMM()
			VBROADCASTI32X4(Mem{Base: cols[c], Disp: q8kQs + 32*j}, a0)
			VBROADCASTI32X4(Mem{Base: cols[c], Disp: q8kQs + 32*j + 16}, a1)
			t[c%2] = ZMM()
			zeroIdiom(t[c%2])
			vpdpbusd(a0, lo, t[c%2])
			vpdpbusd(a1, hi, t[c%2]) // |t| ≤ 8·15·128 = 15360: an int16
			if c%2 == 1 {
				// Two columns' sums as words (exact), one vpdpwssd scales
				// both: dwords 0-1 of lane r are column c−1's, 2-3 column c's.
				pk := ZMM()
				VPACKSSDW(t[1], t[0], pk)
				vpdpwssd(s, pk, accs[c/2])
			} else if c == n-1 {
				// An odd last column pairs with zeros.
				pk, z := ZMM(), ZMM()
				zeroIdiom(z)
				VPACKSSDW(z, t[0], pk)
				vpdpwssd(s, pk, accs[c/2])
			}
		}
	}
	padColumns(n, &accs, 2, &ms, &cols) // accs: column pairs
	for g := range sums {
		S := pairSums(accs[2*g], accs[2*g+1]) // lane r: [S_r0 S_r1 S_r2 S_r3]
		M := transposeSum4([4]VecVirtual(ms[4*g : 4*g+4]))

		// Scales: element 4r+c of D is f16(d_r)·yd_c, of DM f16(dmin_r)·yd_c.
		dm8, dl, ml, idx := YMM(), ZMM(), ZMM(), ZMM()
		VCVTPH2PS(Mem{Base: wp, Disp: r4DM}, dm8)
		VMOVDQU64(splat, idx)
		VPERMPS(dm8.AsZ(), idx, dl)
		VMOVDQU64(splat.Offset(64), idx)
		VPERMPS(dm8.AsZ(), idx, ml)
		yd, yd16 := columnScales([4]Register(cols[4*g:4*g+4])), ZMM()
		VSHUFF32X4(U8(0), yd.AsZ(), yd.AsZ(), yd16)
		VMULPS(yd16, dl, dl)
		VMULPS(yd16, ml, ml)
		VCVTDQ2PS(S, S)
		VMULPS(S, dl, dl)
		VCVTDQ2PS(M, M)
		VMULPS(M, ml, ml)
		VSUBPS(ml, dl, dl)
		VADDPS(dl, sums[g], sums[g])
	}

	k.next(r4Size)
	k.store(transpose)
}

// gemmR4AVX2Frame opens a repacked AVX2 GEMM of n ≤ 4 columns,
// func(w, a *byte, stride, nb int, out *float32): the weight pointer,
// the block count, the columns' pointers and out, whose 16 floats are
// zeroed there: the running sums live in out, because two YMM of them
// per block would not leave registers for the four token accumulators.
// With n < 4 the missing columns' pointers are column n−1's register
// (columnPointersN).
func gemmR4AVX2Frame(name string, n int) (wp, nb Register, cols [4]Register, op Register) {
	TEXT(name, NOSPLIT, "func(w, a *byte, stride, nb int, out *float32)")
	Pragma("noescape")
	wp = Load(Param("w"), GP64())
	ap := Load(Param("a"), GP64())
	stride := Load(Param("stride"), GP64())
	nb = Load(Param("nb"), GP64())
	cols = columnPointersN(ap, stride, n)
	op = Load(Param("out"), GP64())
	zero := YMM()
	VXORPS(zero, zero, zero)
	VMOVUPS(zero, Mem{Base: op})
	VMOVUPS(zero, Mem{Base: op, Disp: 32})
	return
}

// gemmQ4KR4Q8KAVX2: the repacked GEMM of four rows by n ≤ 4 columns for
// AVX2 (Alder Lake) and, with vnni, AVX-VNNI. Rows go in two 256-bit
// halves (rows 0-1, then 2-3), one row per 128-bit lane as in the
// AVX-512 kernel; each half ends with the same in-lane transpose and a
// float step over its 8 (row, token) pairs. out[4r+c] as in
// gemmQ4KR4Q8KAVX512x4; with n < 4 the missing columns' sums are zero
// registers, so out[4r+c] is 0 for c ≥ n. A 2- or 3-token batch
// (speculative verification) then does half or three quarters of the
// 4-column arithmetic.
func gemmQ4KR4Q8KAVX2(n int, shuf, dwords Mem, smc r4SMConsts, vnni bool) {
	name, l := fmt.Sprintf("gemmQ4KR4Q8KAVX2x%d", n), fmt.Sprintf("r4g2c%d", n)
	if vnni {
		name, l = fmt.Sprintf("gemmQ4KR4Q8KAVXVNNIx%d", n), fmt.Sprintf("r4gvc%d", n)
	}
	wp, nb, cols, op := gemmR4AVX2Frame(name, n)

	blockLoop(nb, l+"b", l+"d")
	// The AVX-512 kernel's prefetch, which this one lacked: on Zen 3
	// (AVX2 only) the 7B mock's 2-4 token batches cost 1.72-1.77x a
	// decode step, the stream waiting on the arithmetic.
	gemmPrefetchBlock(wp, r4Size)
	for h := 0; h < 2; h++ {
		mask := YMM()
		broadcastConst(mask, nibbleMask)
		sc := r4ScalesY(r4SMWordsY(wp, h), smc)
		accs := padY(n)
		for j := 0; j < 8; j++ {
			q, lo, hi, s := YMM(), YMM(), YMM(), YMM()
			VMOVDQU(Mem{Base: wp, Disp: r4Qs + 64*j + 32*h}, q)
			VPAND(mask, q, lo)
			VPSRLW(Imm(4), q, hi)
			VPAND(mask, hi, hi)
			if vnni { // (s, 0) dwords for vpdpbusd's int32 sums
				VPSHUFB(dwords.Offset(64*j), sc, s)
			} else {
				VPSHUFB(shuf.Offset(64*j), sc, s)
			}
			for c := 0; c < n; c++ {
				a0, a1 := YMM(), YMM()
				VBROADCASTI128(Mem{Base: cols[c], Disp: q8kQs + 32*j}, a0)
				VBROADCASTI128(Mem{Base: cols[c], Disp: q8kQs + 32*j + 16}, a1)
				if vnni { // VEX bytes by vexVNNI; |t| ≤ 8·15·127 fits int16
					t := YMM()
					zeroIdiom(t)
					vpdpbusd(a0, lo, t)
					vpdpbusd(a1, hi, t)
					vpdpwssd(s, t, accs[c])
				} else {
					VPMADDUBSW(a0, lo, a0)
					VPMADDUBSW(a1, hi, a1)
					VPADDW(a1, a0, a0)
					VPMADDWD(s, a0, a0)
					VPADDD(a0, accs[c], accs[c])
				}
			}
		}
		S := transposeSum4Y([4]VecVirtual(accs))
		// Mins: lane r, token c: Σ min·(paired Q8_K sums of token c).
		mn := r4MinsY(r4SMWordsY(wp, h), h, r4MHiWords(wp), smc)
		ms := make([]VecVirtual, n)
		for c := range ms {
			bs, bp, bp2 := YMM(), XMM(), YMM()
			VMOVDQU(Mem{Base: cols[c], Disp: q8kBsums}, bs)
			VEXTRACTI128(Imm(1), bs, bp)
			VPHADDW(bp, bs.AsX(), bp)
			VINSERTI128(Imm(1), bp, bp.AsY(), bp2)
			ms[c] = YMM()
			VPMADDWD(bp2, mn, ms[c])
		}
		M := transposeSum4Y([4]VecVirtual(padToFour(ms)))

		// d of rows 2h and 2h+1, each across its lane, times the tokens' d.
		dm, dl, ml := XMM(), YMM(), YMM()
		VCVTPH2PS(Mem{Base: wp, Disp: r4DM + 8*h}, dm) // [d m d' m']
		yd := columnScales(cols)
		yd2 := YMM()
		VINSERTF128(Imm(1), yd, yd.AsY(), yd2)
		for k, dst := range []VecVirtual{dl, ml} {
			lo, hi := XMM(), XMM()
			VSHUFPS(U8(0x00*(1-k)+0x55*k), dm, dm, lo) // element k: this row's d or dmin
			VSHUFPS(U8(0xaa*(1-k)+0xff*k), dm, dm, hi) // elements 2, 3: the next row's
			VINSERTF128(Imm(1), hi, lo.AsY(), dst)
			VMULPS(yd2, dst, dst)
		}
		VCVTDQ2PS(S, S)
		VMULPS(S, dl, dl)
		VCVTDQ2PS(M, M)
		VMULPS(M, ml, ml)
		VSUBPS(ml, dl, dl)
		VADDPS(Mem{Base: op, Disp: 32 * h}, dl, dl)
		VMOVUPS(dl, Mem{Base: op, Disp: 32 * h})
	}

	ADDQ(U32(r4Size), wp)
	advance(q8kSize, cols[:n]...)
	loopBack(nb, l+"b")

	Label(l + "d")
	VZEROUPPER()
	RET()
}

// padY is n zeroed YMM accumulators padded to four (padToFour).
func padY(n int) []VecVirtual { return padToFour(zeroedY(n)) }

// padToFour appends one shared zeroed YMM for columns len(v)..3 of a
// GEMM of fewer than four columns.
func padToFour(v []VecVirtual) []VecVirtual {
	if len(v) < 4 {
		z := YMM()
		VPXOR(z, z, z)
		for len(v) < 4 {
			v = append(v, z)
		}
	}
	return v
}

// transposeSum4Y is transposeSum4 for YMM registers (two lanes).
func transposeSum4Y(v [4]VecVirtual) VecVirtual {
	var t [2]VecVirtual
	for k := 0; k < 2; k++ {
		a, b := v[2*k], v[2*k+1]
		lo, hi := YMM(), YMM()
		VPUNPCKLDQ(b, a, lo)
		VPUNPCKHDQ(b, a, hi)
		VPADDD(hi, lo, lo)
		t[k] = lo
	}
	lo, hi := YMM(), YMM()
	VPUNPCKLQDQ(t[1], t[0], lo)
	VPUNPCKHQDQ(t[1], t[0], hi)
	VPADDD(hi, lo, lo)
	return lo
}
