package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The repacked Q4_K GEMMs (2-8 token columns, AVX-512 and AVX2/AVX-VNNI)
// and what only they use; the GEMVs and the shared pieces are in q4kr4.go.

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
// returns them as lane r = [Σv0 Σv1 Σv2 Σv3] (exact integers), at v's
// width (ZMM: four lanes, YMM: two).
func transposeSum4(v [4]VecVirtual) VecVirtual {
	vec := YMM
	if v[0].Size() == 64 {
		vec = ZMM
	}
	var t [2]VecVirtual
	for k := 0; k < 2; k++ {
		a, b := v[2*k], v[2*k+1]
		lo, hi := vec(), vec()
		VPUNPCKLDQ(b, a, lo)
		VPUNPCKHDQ(b, a, hi)
		VPADDD(hi, lo, lo)
		t[k] = lo
	}
	lo, hi := vec(), vec()
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
func gemmQ4KR4Q8KAVX512x4(splat Mem, smc r4SMConsts) {
	gemmQ4KR4Q8KAVX512(4, splat, Mem{}, smc)
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
func gemmQ4KR4Q8KAVX512x2(splat Mem, smc r4SMConsts) {
	gemmQ4KR4Q8KAVX512(2, splat, Mem{}, smc)
}

func gemmQ4KR4Q8KAVX512x3(splat Mem, smc r4SMConsts) {
	gemmQ4KR4Q8KAVX512(3, splat, Mem{}, smc)
}

func gemmQ4KR4Q8KAVX512x8(splat, transpose Mem, smc r4SMConsts) {
	gemmQ4KR4Q8KAVX512(8, splat, transpose, smc)
}

// gemmR4 holds what the 4-row × n-column AVX-512 GEMMs (Q4_K and Q6_K,
// n = 4 or 8) share: the arguments, the column pointers, one running sum
// per group of four columns, the block loop's tail and the final store.
type gemmR4 struct {
	wp, nb Register
	cols   []Register
	sums   []VecVirtual
	label  string
	direct bool // results stored token-major (out[c·ostride + r])
	n      int  // columns
}

// newGemmR4 emits the function header and the setup before the block
// loop, whose labels start with label. With a transpose index (Mem with
// a symbol: r4Transpose) the results go token-major to out
// (gemmR4.store): written by the kernels of 4 and 8 columns, which take
// a row group in one call; added to by those of 2 and 3, which split it
// into calls as the GEMVs do (out[c·ostride:] holds the sums so far).
func newGemmR4(name, label string, n int, transpose Mem) *gemmR4 {
	k := &gemmR4{label: label, direct: transpose.Symbol.Name != "", n: n}
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
	if k.direct && n >= 4 {
		k.sums = zeroedZ((n + 3) / 4)
		return k
	}
	if k.direct {
		// Column c's four rows from out + c·ostride into lane c, then
		// the 4r+c order the sums keep (the transpose is its own inverse).
		op, ost := Load(Param("out"), GP64()), Load(Param("ostride"), GP64())
		s, idx := ZMM(), ZMM()
		zeroIdiom(s)
		for c := 0; c < n; c++ {
			if c > 0 {
				ADDQ(ost, op)
			}
			VINSERTF32X4(U8(c), Mem{Base: op}, s, s)
		}
		VMOVDQU64(transpose, idx)
		VPERMPS(s, idx, s)
		k.sums = []VecVirtual{s}
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
		for c := 0; c < min(4, k.n-4*g); c++ { // the columns there are
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

// gemmQ4KR4Q8KAVX512 emits the n-column repacked Q4_K GEMM on the chunk
// layout (kernels.BlockQ4KR4). Chunk i's nibble split gives lo = rows 0
// and 2, hi = rows 1 and 3, each dword four weights of one (row,
// sub-block); a 32-byte broadcast of the column's activations in the
// same order (dword k: sub-block k) meets both in one vpdpbusd each, so
// a column costs one broadcast and two vpdpbusd per chunk and its two
// accumulators keep every (row, sub-block) sum apart for the whole
// block (|sum| <= 32·15·128). At the block's end one vpmulld by the
// scales per accumulator, in-lane transposes and one lane regrouping per
// group of four columns give the (row, column) integer sums of
// DotQ4KQ8K, exactly; the float step runs on 16 (row, column) pairs at
// once in its order (r4GemmTail). Three and four columns are software
// pipelined (gemmQ4KR4Q8KAVX512Piped).
//
// What the time goes to, on Zen 5 (a loop of 16 vpdpbusd with other
// instructions mixed in, go test -bench in a scratch module): vpmulld,
// vpmaddwd and vmulps take a vpdpbusd slot each (the two multiply
// pipes); cross-lane shuffles and broadcasts from memory (vshufi32x4,
// vpermps, vpmovzx, vbroadcasti32x4) about half a slot; in-lane unpacks,
// adds, logic and conversions none. Per 4-column block: 64 vpdpbusd,
// 16 multiplies and about 50 cross-lane operations (32 of them the
// broadcasts).
func gemmQ4KR4Q8KAVX512(n int, splat, transpose Mem, smc r4SMConsts) {
	if n == 3 || n == 4 {
		gemmQ4KR4Q8KAVX512Piped(n, splat, transpose, smc)
		return
	}
	name, label := fmt.Sprintf("gemmQ4KR4Q8KAVX512x%d", n), fmt.Sprintf("r4g%d", n)
	if transpose.Symbol.Name != "" && n != 8 {
		name, label = name+"T", label+"t"
	}
	k := newGemmR4(name, label, n, transpose)
	wp, nb, cols, l := k.wp, k.nb, k.cols, k.label
	mask := ZMM()
	broadcastConst(mask, nibbleMask)

	// Two columns stream their rows as decode does: the registers hold
	// the next block's weights too (blockAhead), which the pipelined
	// kernel has no registers for. Its in-cache gain (4%) did not make up
	// for them: the 7B mock's 2-token batches took 10% longer.
	ahead := blockAheadZ(n <= 4, wp, nb, l+"d", r4Qs, r4Size, 8)
	blockLoop(nb, l+"b", l+"d")
	ahead.next()
	// Small batches (speculative verification) are memory-bound like
	// decode: fetch the rows ten blocks ahead, as the GEMV kernels do.
	// With a large batch the rows are already in L1 and this costs nine
	// loads per block.
	gemmPrefetchBlock(wp, r4Size)
	var sc, sLo, sHi, mn VecVirtual
	scales := func() {
		sc, mn = r4ScalesMinsZ(wp, smc)
		sLo, sHi = r4ChunkScales(sc)
	}
	if n > 4 {
		scales() // before the 16 accumulators are live, for the register allocator
	}
	acc := zeroedZ(2 * n) // column c: 2c rows 0 and 2, 2c+1 rows 1 and 3
	for i := 0; i < 8; i++ {
		var q VecVirtual
		if ahead != nil {
			q = ahead.q[i]
		}
		r4Chunk(wp, 0, cols, mask, i, acc, q, func() {
			if ahead != nil {
				ahead.reload(i)
			}
		})
	}
	if n <= 4 {
		scales()
	}
	r4GemmTail(k, n, acc, sLo, sHi, mn, splat, func() {})
	k.next(r4Size)
	k.store(transpose)
}

// r4Chunk runs chunk i of the block at wp+off (bytes) against the
// columns' activations one block past cols when off > 0: the nibble
// split and, per column, one broadcast and two vpdpbusd into acc.
// q, when given, holds the chunk already (blockAhead); split runs once
// it is split.
func r4Chunk(wp Register, off int, cols []Register, mask VecVirtual, i int, acc []VecVirtual, q VecVirtual, split func()) {
	lo, hi := ZMM(), ZMM()
	if q == nil {
		q = ZMM()
		VMOVDQU64(Mem{Base: wp, Disp: off + r4Qs + 64*i}, q)
	}
	VPANDD(mask, q, lo)
	VPSRLW(Imm(4), q, hi)
	VPANDD(mask, hi, hi)
	if split != nil {
		split()
	}
	coff := 0
	if off > 0 {
		coff = q8kSize
	}
	for c := range len(acc) / 2 {
		a := ZMM()
		VBROADCASTI64X4(Mem{Base: cols[c], Disp: coff + q8kQs + 32*i}, a)
		vpdpbusd(a, lo, acc[2*c])
		vpdpbusd(a, hi, acc[2*c+1])
	}
}

// r4GemmTail ends the block at k.wp whose chunk sums are acc: the scales,
// the in-lane transposes, the mins and the float step into k.sums.
// yield is called between its stages (the pipelined kernels run the
// next block's chunks there).
func r4GemmTail(k *gemmR4, n int, acc []VecVirtual, sLo, sHi, mn VecVirtual, splat Mem, yield func()) {
	wp, cols, sums := k.wp, k.cols, k.sums
	for g := range sums {
		var los, his, ms [4]VecVirtual
		var z, S VecVirtual
		gc := cols[4*g:]
		// The sums first, then the mins: the group's accumulators are
		// free before its min products are made (eight columns fill the
		// registers).
		for _, mins := range []bool{false, true} {
			for c := 0; c < 4; c++ {
				col := 4*g + c
				switch {
				case col >= n:
					if z == nil {
						z = ZMM()
						zeroIdiom(z)
					}
					los[c], his[c], ms[c] = z, z, z
				case !mins:
					los[c], his[c] = acc[2*col], acc[2*col+1]
					VPMULLD(sLo, los[c], los[c])
					VPMULLD(sHi, his[c], his[c])
					yield()
				default:
					b := ZMM()
					VBROADCASTI32X4(Mem{Base: gc[c], Disp: q8kBsums}, b) // the sub-blocks' sums
					ms[c] = ZMM()
					VPMADDWD(b, mn, ms[c])
				}
			}
			if !mins {
				S = groupRowSums(transposeSum4(los), transposeSum4(his))
				yield()
			}
		}
		M := transposeSum4(ms) // lane r: [M_r0 M_r1 M_r2 M_r3]
		yield()

		// Scales: element 4r+c of D is f16(d_r)·yd_c, of DM f16(dmin_r)·yd_c.
		dm8, dl, ml, idx := YMM(), ZMM(), ZMM(), ZMM()
		VCVTPH2PS(Mem{Base: wp, Disp: r4DM}, dm8)
		VMOVDQU64(splat, idx)
		VPERMPS(dm8.AsZ(), idx, dl)
		VMOVDQU64(splat.Offset(64), idx)
		VPERMPS(dm8.AsZ(), idx, ml)
		yc := [4]Register{}
		for c := range yc {
			yc[c] = gc[min(c, n-1-4*g)]
		}
		yd, yd16 := columnScales(yc), ZMM()
		VSHUFF32X4(U8(0), yd.AsZ(), yd.AsZ(), yd16)
		VMULPS(yd16, dl, dl)
		VMULPS(yd16, ml, ml)
		scaleDiff(S, M, dl, ml)
		VADDPS(dl, sums[g], sums[g])
		yield()
	}
}

// gemmQ4KR4Q8KAVX512Piped is the kernel for three and four columns,
// software pipelined: the end of a block (scales, transposes, mins, float step;
// about 75 instructions, most of them shuffles) runs interleaved with
// the next block's chunks, whose vpdpbusd do not depend on it. In
// program order one after the other, the two barely overlapped: in
// cache the 4-column kernel took the sum of its block loop alone and
// its block ends alone.
func gemmQ4KR4Q8KAVX512Piped(n int, splat, transpose Mem, smc r4SMConsts) {
	name, label := fmt.Sprintf("gemmQ4KR4Q8KAVX512x%d", n), fmt.Sprintf("r4g%d", n)
	if transpose.Symbol.Name != "" {
		name, label = name+"T", label+"t"
	}
	k := newGemmR4(name, label, n, transpose)
	wp, nb, cols, l := k.wp, k.nb, k.cols, k.label
	mask := ZMM()
	broadcastConst(mask, nibbleMask)
	CMPQ(nb, Imm(0))
	JE(LabelRef(l + "d"))

	// The first block alone.
	gemmPrefetchBlock(wp, r4Size)
	acc := zeroedZ(2 * n)
	for i := 0; i < 8; i++ {
		r4Chunk(wp, 0, cols, mask, i, acc, nil, nil)
	}
	DECQ(nb)

	// Each turn: the block after wp, with the end of the block at wp.
	Label(l + "b")
	CMPQ(nb, Imm(0))
	JE(LabelRef(l + "e"))
	gemmPrefetchBlock(wp, r4Size) // ten blocks ahead of wp, nine of the block computed
	done := make([]VecVirtual, len(acc))
	for j := range acc {
		done[j] = ZMM()
		VMOVDQA64(acc[j], done[j])
		zeroIdiom(acc[j])
	}
	i := 0
	chunk := func() {
		if i < 8 {
			r4Chunk(wp, r4Size, cols, mask, i, acc, nil, nil)
			i++
		}
	}
	chunk()
	sc, mn := r4ScalesMinsZ(wp, smc)
	sLo, sHi := r4ChunkScales(sc)
	chunk()
	r4GemmTail(k, n, done, sLo, sHi, mn, splat, chunk)
	for i < 8 {
		chunk()
	}
	ADDQ(U32(r4Size), wp)
	for _, c := range cols {
		ADDQ(U32(q8kSize), c)
	}
	DECQ(nb)
	JMP(LabelRef(l + "b"))

	// The last block's end.
	Label(l + "e")
	sc2, mn2 := r4ScalesMinsZ(wp, smc)
	sLo2, sHi2 := r4ChunkScales(sc2)
	r4GemmTail(k, n, acc, sLo2, sHi2, mn2, splat, func() {})
	k.store(transpose)
}

// r4ChunkScales turns the block's scales (sc: lane r holds row r's eight
// as words) into the two dword vectors the chunk accumulators take:
// sLo = rows 0 and 2 (dword 8h+k: row 2h's scale k), sHi = rows 1, 3.
func r4ChunkScales(sc VecVirtual) (sLo, sHi VecVirtual) {
	t, u := ZMM(), YMM()
	VSHUFI64X2(U8(0xd8), sc, sc, t) // lanes rows 0, 2, 1, 3
	sLo, sHi = ZMM(), ZMM()
	VPMOVZXWD(t.AsY(), sLo)
	VEXTRACTI64X4(Imm(1), t, u)
	VPMOVZXWD(u, sHi)
	return sLo, sHi
}

// groupRowSums gives the (row, column) sums S of a group of four
// columns, lane r = [S_r0 S_r1 S_r2 S_r3], from its scaled chunk sums
// reduced in lane (transposeSum4) over the lo accumulators (L: lanes
// row 0 sub-blocks 0-3, row 0 4-7, row 2 0-3, row 2 4-7, four columns
// each) and the hi ones (H: rows 1 and 3). Reducing each column's two
// accumulators first took two cross-lane shuffles per column; on Zen 5
// those share the vpdpbusd pipes, in-lane unpacks and adds do not.
// (Exact integers: each (row, sub-block) sum times its 6-bit scale fits
// an int32, and so do a row's eight.)
func groupRowSums(L, H VecVirtual) VecVirtual {
	x, y := ZMM(), ZMM()
	VSHUFI32X4(U8(0x88), H, L, x) // L0 L2 H0 H2: rows 0, 2, 1, 3, sub-blocks 0-3
	VSHUFI32X4(U8(0xdd), H, L, y) // L1 L3 H1 H3: the same rows, sub-blocks 4-7
	VPADDD(y, x, x)
	VSHUFI64X2(U8(0xd8), x, x, x) // lanes in row order
	return x
}

// chunkRowSums scales one column's chunk accumulators (lo: rows 0, 2;
// hi: rows 1, 3; dword 8h+k sub-block k) and folds them to lane order
// rows 0, 2, 1, 3, four partial sums per lane (exact integers, as in
// groupRowSums): the GEMV's block end.
func chunkRowSums(lo, hi, sLo, sHi VecVirtual) VecVirtual {
	VPMULLD(sLo, lo, lo)
	VPMULLD(sHi, hi, hi)
	x, y := ZMM(), ZMM()
	VSHUFI32X4(U8(0x88), hi, lo, x) // lanes lo0 lo2 hi0 hi2: rows 0, 2, 1, 3 first halves
	VSHUFI32X4(U8(0xdd), hi, lo, y) // their second halves
	VPADDD(y, x, x)
	return x
}

// scaleDiff leaves dl·S − ml·M in dl for the integer sums S (scales)
// and M (mins) of a block's (row, column) pairs, dl and ml their d and
// dmin times the columns' d: DotQ4KQ8K's float step, in its order.
func scaleDiff(S, M, dl, ml VecVirtual) {
	VCVTDQ2PS(S, S)
	VMULPS(S, dl, dl)
	VCVTDQ2PS(M, M)
	VMULPS(M, ml, ml)
	VSUBPS(ml, dl, dl)
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
// AVX2 (Alder Lake) and, with vnni, AVX-VNNI, on the chunk layout: in
// two 256-bit halves (rows 2h and 2h+1, one per nibble kind of the
// half's 32 bytes), each chunk's half meeting each column's 32
// activation bytes (R4 order, one plain load) as gemvQ4KR4Q8KAVX2 does,
// the rows' (sub-block) sums kept apart for the whole block and scaled
// at its end. Each half ends with the in-lane transpose and a float step
// over its 8 (row, token) pairs. out[4r+c] as in gemmQ4KR4Q8KAVX512x4;
// with n < 4 the missing columns' sums are zero registers, so out[4r+c]
// is 0 for c ≥ n. A 2- or 3-token batch (speculative verification) then
// does half or three quarters of the 4-column arithmetic.
func gemmQ4KR4Q8KAVX2(n int, smc r4SMConsts, vnni bool) {
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
		acc := make([][2]VecVirtual, n) // column c: rows 2h, 2h+1
		for c := range acc {
			for e := range acc[c] {
				acc[c][e] = YMM()
				VPXOR(acc[c][e], acc[c][e], acc[c][e])
			}
		}
		for i := 0; i < 8; i++ {
			q, lo, hi := YMM(), YMM(), YMM()
			VMOVDQU(Mem{Base: wp, Disp: r4Qs + 64*i + 32*h}, q)
			VPAND(mask, q, lo)
			VPSRLW(Imm(4), q, hi)
			VPAND(mask, hi, hi)
			for c := 0; c < n; c++ {
				a := YMM()
				VMOVDQU(Mem{Base: cols[c], Disp: q8kQs + 32*i}, a)
				for e, w := range []VecVirtual{lo, hi} {
					if vnni { // VEX bytes by vexVNNI
						vpdpbusd(a, w, acc[c][e])
					} else { // |word sum| ≤ 8·2·15·128 = 30720
						t := YMM()
						VPMADDUBSW(a, w, t)
						VPADDW(t, acc[c][e], acc[c][e])
					}
				}
			}
		}
		sc := r4ScalesY(r4SMWordsY(wp, h), smc)
		s0, s1 := rowScales(sc, 0, vnni), rowScales(sc, 1, vnni)
		vs := make([]VecVirtual, n)
		for c := range vs {
			scaleRow(acc[c][0], s0, vnni)
			scaleRow(acc[c][1], s1, vnni)
			vs[c] = laneRows(acc[c][0], acc[c][1])
		}
		S := transposeSum4([4]VecVirtual(padToFour(vs)))
		// Mins: lane r, token c: Σ min·(paired Q8_K sums of token c).
		mn := r4MinsY(r4SMWordsY(wp, h), h, r4MHiWords(wp), smc)
		ms := make([]VecVirtual, n)
		for c := range ms {
			bp2 := YMM()
			VBROADCASTI128(Mem{Base: cols[c], Disp: q8kBsums}, bp2) // the sub-blocks' sums
			ms[c] = YMM()
			VPMADDWD(bp2, mn, ms[c])
		}
		M := transposeSum4([4]VecVirtual(padToFour(ms)))

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
		scaleDiff(S, M, dl, ml)
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
