// Command asmgen writes the kernels package's Go assembly with avo:
//
//	go generate ./kernels
//
// reproduces dot_amd64.s and dot_stub_amd64.go byte for byte. Every
// kernel here has a pure-Go twin in package kernels that it must match
// exactly (integer sums) and that the tests compare it against.
package main

import (
	"flag"
	"github.com/mmcloughlin/avo/ir"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Block layouts (bytes), as in package kernels.
const (
	q4kSize    = 144
	q4kScales  = 4
	q4kQs      = 16
	q8kSize    = 292
	q8kQs      = 4
	q8kBsums   = 260
	kmask1     = 0x3f3f3f3f
	kmask2     = 0x0f0f0f0f
	kmask3     = 0x03030303
	nibbleMask = 0x0f0f0f0f
)

func main() {
	ConstraintExpr("!purego")
	shuf := scaleShuffles()
	dotQ4KQ8KAVX2(shuf)
	q6kShuf := q6kScaleShuffles()
	dotQ6KQ8KAVX2(q6kShuf)
	sumU64AVX2()
	zshuf := zmmScaleShuffles()
	dotQ4KQ8KAVX512(zshuf)
	gemmQ4KQ8KAVX2(shuf)
	gemmQ6KQ8KAVX2(q6kShuf)
	gemmQ4KQ8KAVX512(zshuf)
	unpackQ4KAVX2(shuf)
	gemmUnpackedQ4KAVX512()
	dotQ4KF32AVX2()
	quantizeQ8KAVX2()
	gemvQ4KQ8KAVX2x4rows(shuf, false)
	gemvQ4KQ8KAVX2x4rows(shuf, true)
	gemvQ4KQ8KAVX512x4rows(zshuf)
	sumU64AVX512()
	gemvQ6KQ8KAVX2x4rows(q6kShuf)
	dotQ8_0Q8_0AVX2()
	dotF32AVX2x8()
	dotF16AVX2x8()
	axpyF32AVX2()
	dotQ8_0RowsAVX2()
	dotQ8_0Rows8AVX2()
	dequantQ8_0RowsAVX2()
	axpyF32RowsKernel("axpyF32RowsAVX2", 4, 32)
	axpyF32RowsKernel("axpyF32RowsAVX2x64", 8, 32)
	axpyF32RowsKernel("axpyF32RowsAVX512", 8, 64)
	ec := expConsts()
	expSubF32AVX2x8(ec)
	swiGLUAVX2(ec)
	scaleMaxF32AVX2x8()
	hadamardAVX2(hadamardSigns())
	quantizeQ8_0AVX2()
	int8PeakAVX512()
	int8PeakAVX2()
	r4shuf := r4ScaleShuf()
	laneFirst := r4LaneFirst()
	r4dw := r4ScaleDwords()
	pairShuf, pairsGather := r4PairScaleShuf(), r4PairsGather()
	smc := newR4SMConsts()
	gemvQ4KR4Q8KAVX512(pairShuf, pairsGather, smc, false)
	gemvQ4KR4Q8KAVX512(pairShuf, pairsGather, smc, true)
	gemvQ4KR4Q8KAVXVNNIGFNI(pairShuf, smc)
	gemvQ4KR4Q8KAVX2(r4shuf, smc, false)
	gemvQ4KR4Q8KAVX2(r4shuf, smc, true)
	splat, minsDup := r4LaneSplat(), r4MinsDup()
	gemmQ4KR4Q8KAVX512x4(r4dw, splat, minsDup, smc)
	transposeTab := r4Transpose()
	gemmQ4KR4Q8KAVX512x8(r4dw, splat, minsDup, transposeTab, smc)
	gemmQ4KR4Q8KAVX2x4(r4shuf, r4dw, smc, false)
	gemmQ4KR4Q8KAVX2x4(r4shuf, r4dw, smc, true)
	gemvQ6KR4Q8KAVX512(r4shuf, laneFirst)
	r6splat := r6LaneSplat()
	gemmQ6KR4Q8KAVX512x4(r4shuf, r6splat)
	gemmQ6KR4Q8KAVX512x8(r4shuf, r6splat, transposeTab)
	gemvQ6KR4Q8KAVX2(r4shuf, false)
	gemvQ6KR4Q8KAVX2(r4shuf, true)
	gemmQ6KR4Q8KAVX2x4(r4shuf, false)
	gemmQ6KR4Q8KAVX2x4(r4shuf, true)
	gemmPanelQ8KAVX512x4(32)
	gemmPanelQ8KAVX512x4(16)
	panelQsQ4KAVX512()
	panelScalesQ4KAVX512()
	panelQsQ6KAVX512()
	Generate()
	vexVNNI(flag.Lookup("out").Value.String(), "gemvQ4KQ8KAVXVNNIx4rows", "gemvQ4KR4Q8KAVXVNNI", "gemvQ4KR4Q8KAVXVNNIGFNI", "gemmQ4KR4Q8KAVXVNNIx4", "gemvQ6KR4Q8KAVXVNNI", "gemmQ6KR4Q8KAVXVNNIx4")
}

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
func dotQ4KQ8KAVX2(shuf Mem) {
	TEXT("dotQ4KQ8KAVX2", NOSPLIT, "func(w, a *byte, nb, pf int) float32")
	Pragma("noescape")
	wp := Load(Param("w"), GP64())
	ap := Load(Param("a"), GP64())
	nb := Load(Param("nb"), GP64())
	pf := Load(Param("pf"), GP64())

	sum := XMM()
	VXORPS(sum, sum, sum)
	mask := YMM()
	tmp := GP32()
	MOVL(U32(nibbleMask), tmp)
	VMOVD(tmp, mask.AsX())
	VPBROADCASTD(mask.AsX(), mask)

	Label("block")
	CMPQ(nb, Imm(0))
	JE(LabelRef("done"))
	// Weights stream from memory once: ask for the lines pf bytes ahead
	// (Ops.Prefetch) so the loads overlap this block's arithmetic.
	// Prefetches never fault, so running past the matrix is harmless.
	for _, off := range []int{0, 64, 128} {
		PREFETCHT0(Mem{Base: wp, Index: pf, Scale: 1, Disp: off})
	}

	scales, mins := unpackQ4KScales(wp)

	// Mins times the activation sums, paired to sub-blocks of 32.
	bs, bsHi := YMM(), XMM()
	VMOVDQU(Mem{Base: ap, Disp: q8kBsums}, bs)
	VEXTRACTI128(Imm(1), bs, bsHi)
	VPHADDW(bsHi, bs.AsX(), bsHi)
	VPMADDWD(mins, bsHi, bsHi)

	// Scales in both 128-bit halves for the broadcast shuffles.
	sc2 := YMM()
	VINSERTI128(Imm(1), scales, scales.AsY(), sc2)

	acc := YMM()
	VPXOR(acc, acc, acc)
	for j := 0; j < 4; j++ {
		q, lo, hi, s := YMM(), YMM(), YMM(), YMM()
		VMOVDQU(Mem{Base: wp, Disp: q4kQs + 32*j}, q)
		VPAND(mask, q, lo)
		VPSRLW(Imm(4), q, hi)
		VPAND(mask, hi, hi)
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

	// Float part, in the twin's order: d = f16(D)*y.d, dmin = f16(Dmin)*y.d,
	// sum += d*float(sumi) - dmin*float(summ).
	dw, dd, dm := GP32(), XMM(), XMM()
	MOVWLZX(Mem{Base: wp}, dw)
	VMOVD(dw, dd)
	VCVTPH2PS(dd, dd)
	VMULSS(Mem{Base: ap}, dd, dd)
	MOVWLZX(Mem{Base: wp, Disp: 2}, dw)
	VMOVD(dw, dm)
	VCVTPH2PS(dm, dm)
	VMULSS(Mem{Base: ap}, dm, dm)
	VCVTDQ2PS(x, x)
	VMULSS(x, dd, dd)
	VCVTDQ2PS(bsHi, bsHi)
	VMULSS(bsHi, dm, dm)
	VSUBSS(dm, dd, dd)
	VADDSS(dd, sum, sum)

	ADDQ(U32(q4kSize), wp)
	ADDQ(U32(q8kSize), ap)
	DECQ(nb)
	JMP(LabelRef("block"))

	Label("done")
	VZEROUPPER()
	Store(sum, ReturnIndex(0))
	RET()
}

// hsum4 leaves the sum of x's four int32 lanes in lane 0.
func hsum4(x VecVirtual) {
	t := XMM()
	VPSHUFD(Imm(0x4e), x, t)
	VPADDD(t, x, x)
	VPSHUFD(Imm(0xb1), x, t)
	VPADDD(t, x, x)
}

// Q6_K layout (bytes).
const (
	q6kSize   = 210
	q6kQl     = 0
	q6kQh     = 128
	q6kScales = 192
	q6kD      = 208
)

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
	TEXT("dotQ6KQ8KAVX2", NOSPLIT, "func(w, a *byte, nb, pf int) float32")
	Pragma("noescape")
	wp := Load(Param("w"), GP64())
	ap := Load(Param("a"), GP64())
	nb := Load(Param("nb"), GP64())
	pf := Load(Param("pf"), GP64())

	sum := XMM()
	VXORPS(sum, sum, sum)
	m4, m30 := YMM(), YMM()
	tmp := GP32()
	MOVL(U32(0x0f0f0f0f), tmp)
	VMOVD(tmp, m4.AsX())
	VPBROADCASTD(m4.AsX(), m4)
	MOVL(U32(0x30303030), tmp)
	VMOVD(tmp, m30.AsX())
	VPBROADCASTD(m30.AsX(), m30)

	Label("q6block")
	CMPQ(nb, Imm(0))
	JE(LabelRef("q6done"))
	for _, off := range []int{0, 64, 128, 192} {
		PREFETCHT0(Mem{Base: wp, Index: pf, Scale: 1, Disp: off})
	}

	// Scales: int8 in both halves (for the shuffles), and int16 for the sums.
	sc8, sc16 := YMM(), YMM()
	VBROADCASTI128(Mem{Base: wp, Disp: q6kScales}, sc8)
	VPMOVSXBW(Mem{Base: wp, Disp: q6kScales}, sc16)
	// Σ sc·bsum over the 16 sub-blocks.
	summ := YMM()
	VPMADDWD(Mem{Base: ap, Disp: q8kBsums}, sc16, summ)

	acc := YMM()
	VPXOR(acc, acc, acc)
	for h := 0; h < 2; h++ {
		ql0, ql1, qh := YMM(), YMM(), YMM()
		VMOVDQU(Mem{Base: wp, Disp: q6kQl + 64*h}, ql0)
		VMOVDQU(Mem{Base: wp, Disp: q6kQl + 64*h + 32}, ql1)
		VMOVDQU(Mem{Base: wp, Disp: q6kQh + 32*h}, qh)
		for i := 0; i < 4; i++ {
			q, s := q6kLevels32(i, ql0, ql1, qh, m4, m30), YMM()
			VPMADDUBSW(Mem{Base: ap, Disp: q8kQs + 128*h + 32*i}, q, q)
			VPSHUFB(shuf.Offset(32*(4*h+i)), sc8, s)
			VPSRAW(Imm(8), s, s)
			VPMADDWD(s, q, q)
			VPADDD(q, acc, acc)
		}
	}
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

	ADDQ(U32(q6kSize), wp)
	ADDQ(U32(q8kSize), ap)
	DECQ(nb)
	JMP(LabelRef("q6block"))

	Label("q6done")
	VZEROUPPER()
	Store(sum, ReturnIndex(0))
	RET()
}

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
	VCVTDQ2PS(s4, s4)
	VMULPS(s4, d4, d4)
	VCVTDQ2PS(m4, m4)
	VMULPS(m4, dm4, dm4)
	VSUBPS(dm4, d4, d4)
	VADDPS(d4, sum4, sum4)
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

// sumU64AVX2 adds up n bytes (a multiple of 256) as uint64 words: the
// memory bandwidth probe. Eight independent 256-bit accumulators keep
// enough loads in flight to saturate the memory system rather than the
// add latency.
func sumU64AVX2() {
	TEXT("sumU64AVX2", NOSPLIT, "func(p *byte, n int) uint64")
	Pragma("noescape")
	p := Load(Param("p"), GP64())
	n := Load(Param("n"), GP64())
	acc := make([]VecVirtual, 8)
	for i := range acc {
		acc[i] = YMM()
		VPXOR(acc[i], acc[i], acc[i])
	}
	Label("sumloop")
	CMPQ(n, Imm(0))
	JE(LabelRef("sumdone"))
	for i := range acc {
		VPADDQ(Mem{Base: p, Disp: 32 * i}, acc[i], acc[i])
	}
	for i := range acc {
		VPADDQ(Mem{Base: p, Disp: 256 + 32*i}, acc[i], acc[i])
	}
	ADDQ(U32(512), p)
	SUBQ(U32(512), n)
	JMP(LabelRef("sumloop"))
	Label("sumdone")
	for i := 1; i < 8; i++ {
		VPADDQ(acc[i], acc[0], acc[0])
	}
	x := XMM()
	VEXTRACTI128(Imm(1), acc[0], x)
	VPADDQ(x, acc[0].AsX(), x)
	t := XMM()
	VPSHUFD(Imm(0x4e), x, t)
	VPADDQ(t, x, x)
	r := GP64()
	VMOVQ(x, r)
	VZEROUPPER()
	Store(r, ReturnIndex(0))
	RET()
}

// vpdpwssd emits VPDPWSSD (AVX512_VNNI): acc[i] += a[2i]*b[2i] +
// a[2i+1]*b[2i+1] over int16 pairs, i.e. vpmaddwd and vpaddd in one.
// avo v0.5.0 does not know the instruction; the Go assembler does.
func vpdpwssd(b, a, acc Op) {
	Instruction(&ir.Instruction{
		Opcode:   "VPDPWSSD",
		Operands: []Op{b, a, acc},
		Inputs:   []Op{b, a, acc},
		Outputs:  []Op{acc},
		ISA:      []string{"AVX512_VNNI"},
	})
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
	TEXT("dotQ4KQ8KAVX512", NOSPLIT, "func(w, a *byte, nb, pf int) float32")
	Pragma("noescape")
	wp := Load(Param("w"), GP64())
	ap := Load(Param("a"), GP64())
	nb := Load(Param("nb"), GP64())
	pf := Load(Param("pf"), GP64())

	sum := XMM()
	VXORPS(sum, sum, sum)
	mask := ZMM()
	tmp := GP32()
	MOVL(U32(nibbleMask), tmp)
	VPBROADCASTD(tmp, mask)

	Label("zblock")
	CMPQ(nb, Imm(0))
	JE(LabelRef("zdone"))
	for _, off := range []int{0, 64, 128} {
		PREFETCHT0(Mem{Base: wp, Index: pf, Scale: 1, Disp: off})
	}

	scales, mins := unpackQ4KScales(wp)

	bs, bsHi := YMM(), XMM()
	VMOVDQU(Mem{Base: ap, Disp: q8kBsums}, bs)
	VEXTRACTI128(Imm(1), bs, bsHi)
	VPHADDW(bsHi, bs.AsX(), bsHi)
	VPMADDWD(mins, bsHi, bsHi)

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

	dw, dd, dm := GP32(), XMM(), XMM()
	MOVWLZX(Mem{Base: wp}, dw)
	VMOVD(dw, dd)
	VCVTPH2PS(dd, dd)
	VMULSS(Mem{Base: ap}, dd, dd)
	MOVWLZX(Mem{Base: wp, Disp: 2}, dw)
	VMOVD(dw, dm)
	VCVTPH2PS(dm, dm)
	VMULSS(Mem{Base: ap}, dm, dm)
	VCVTDQ2PS(y, y)
	VMULSS(y, dd, dd)
	VCVTDQ2PS(bsHi, bsHi)
	VMULSS(bsHi, dm, dm)
	VSUBSS(dm, dd, dd)
	VADDSS(dd, sum, sum)

	ADDQ(U32(q4kSize), wp)
	ADDQ(U32(q8kSize), ap)
	DECQ(nb)
	JMP(LabelRef("zblock"))

	Label("zdone")
	VZEROUPPER()
	Store(sum, ReturnIndex(0))
	RET()
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
func gemmQ4KQ8KAVX2(shuf Mem) {
	TEXT("gemmQ4KQ8KAVX2x4", NOSPLIT, "func(w, a *byte, stride, nb int, out *float32)")
	Pragma("noescape")
	wp := Load(Param("w"), GP64())
	ap := Load(Param("a"), GP64())
	stride := Load(Param("stride"), GP64())
	nb := Load(Param("nb"), GP64())

	cols := columnPointers(ap, stride)
	sum4 := XMM()
	VXORPS(sum4, sum4, sum4)
	mask := YMM()
	tmp := GP32()
	MOVL(U32(nibbleMask), tmp)
	VMOVD(tmp, mask.AsX())
	VPBROADCASTD(mask.AsX(), mask)

	Label("gblock")
	CMPQ(nb, Imm(0))
	JE(LabelRef("gdone"))

	scales, mins := unpackQ4KScales(wp)
	sc2 := YMM()
	VINSERTI128(Imm(1), scales, scales.AsY(), sc2)

	// Mins × paired activation sums, per column (4 int32 lanes each),
	// then reduced across the four columns: m4 = [M0 M1 M2 M3].
	bh := make([]VecVirtual, 4)
	for c := 0; c < 4; c++ {
		bs := YMM()
		bh[c] = XMM()
		VMOVDQU(Mem{Base: cols[c], Disp: q8kBsums}, bs)
		VEXTRACTI128(Imm(1), bs, bh[c])
		VPHADDW(bh[c], bs.AsX(), bh[c])
		VPMADDWD(mins, bh[c], bh[c])
	}
	VPHADDD(bh[1], bh[0], bh[0])
	VPHADDD(bh[3], bh[2], bh[2])
	VPHADDD(bh[2], bh[0], bh[0])
	m4 := bh[0]

	accs := make([]VecVirtual, 4)
	for c := range accs {
		accs[c] = YMM()
		VPXOR(accs[c], accs[c], accs[c])
	}
	for j := 0; j < 4; j++ {
		q, lo, hi, sl, sh := YMM(), YMM(), YMM(), YMM(), YMM()
		VMOVDQU(Mem{Base: wp, Disp: q4kQs + 32*j}, q)
		VPAND(mask, q, lo)
		VPSRLW(Imm(4), q, hi)
		VPAND(mask, hi, hi)
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
	// s4 = [S0 S1 S2 S3]: each column's sum over its 8 lanes.
	VPHADDD(accs[1], accs[0], accs[0])
	VPHADDD(accs[3], accs[2], accs[2])
	VPHADDD(accs[2], accs[0], accs[0])
	s4 := XMM()
	VEXTRACTI128(Imm(1), accs[0], s4)
	VPADDD(s4, accs[0].AsX(), s4)

	// yd4 = the four columns' Q8_K scales.
	yd := columnScales(cols)
	floatPartCols(wp, yd, s4, m4, sum4)

	ADDQ(U32(q4kSize), wp)
	for c := 0; c < 4; c++ {
		ADDQ(U32(q8kSize), cols[c])
	}
	DECQ(nb)
	JMP(LabelRef("gblock"))

	Label("gdone")
	op := Load(Param("out"), GP64())
	VMOVUPS(sum4, Mem{Base: op})
	VZEROUPPER()
	RET()
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
	TEXT("gemmQ6KQ8KAVX2x4", NOSPLIT, "func(w, a *byte, stride, nb int, out *float32)")
	Pragma("noescape")
	wp := Load(Param("w"), GP64())
	ap := Load(Param("a"), GP64())
	stride := Load(Param("stride"), GP64())
	nb := Load(Param("nb"), GP64())
	cols := columnPointers(ap, stride)
	sum4 := XMM()
	VXORPS(sum4, sum4, sum4)

	Label("g6block")
	CMPQ(nb, Imm(0))
	JE(LabelRef("g6done"))

	// Σ sc·bsum per column, reduced across the columns: m4 = [M0..M3].
	sc8 := YMM()
	VBROADCASTI128(Mem{Base: wp, Disp: q6kScales}, sc8)
	sm := make([]VecVirtual, 4)
	{
		sc16 := YMM()
		VPMOVSXBW(Mem{Base: wp, Disp: q6kScales}, sc16)
		for c := 0; c < 4; c++ {
			sm[c] = YMM()
			VPMADDWD(Mem{Base: cols[c], Disp: q8kBsums}, sc16, sm[c])
		}
	}
	VPHADDD(sm[1], sm[0], sm[0])
	VPHADDD(sm[3], sm[2], sm[2])
	VPHADDD(sm[2], sm[0], sm[0])
	m4s := XMM()
	VEXTRACTI128(Imm(1), sm[0], m4s)
	VPADDD(m4s, sm[0].AsX(), m4s)

	accs := make([]VecVirtual, 4)
	for c := range accs {
		accs[c] = YMM()
		VPXOR(accs[c], accs[c], accs[c])
	}
	for h := 0; h < 2; h++ {
		ql0, ql1, qh := YMM(), YMM(), YMM()
		VMOVDQU(Mem{Base: wp, Disp: q6kQl + 64*h}, ql0)
		VMOVDQU(Mem{Base: wp, Disp: q6kQl + 64*h + 32}, ql1)
		VMOVDQU(Mem{Base: wp, Disp: q6kQh + 32*h}, qh)
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
	VPHADDD(accs[1], accs[0], accs[0])
	VPHADDD(accs[3], accs[2], accs[2])
	VPHADDD(accs[2], accs[0], accs[0])
	s4 := XMM()
	VEXTRACTI128(Imm(1), accs[0], s4)
	VPADDD(s4, accs[0].AsX(), s4)
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

	ADDQ(U32(q6kSize), wp)
	for c := 0; c < 4; c++ {
		ADDQ(U32(q8kSize), cols[c])
	}
	DECQ(nb)
	JMP(LabelRef("g6block"))

	Label("g6done")
	op := Load(Param("out"), GP64())
	VMOVUPS(sum4, Mem{Base: op})
	VZEROUPPER()
	RET()
}

// gemmQ4KQ8KAVX512 is the 4-column Q4_K kernel on AVX-512 (BW, VNNI):
// 128 weights per step in ZMM registers as in dotQ4KQ8KAVX512, with
// vpmaddubsw + vpdpwssd per column. Each column's 16 int32 lanes are
// folded to 8 and the four columns reduced together per block, then the
// float part runs lane-wise in the Go twin's order: bit-identical to
// DotQ4KQ8K per column.
func gemmQ4KQ8KAVX512(shuf Mem) {
	TEXT("gemmQ4KQ8KAVX512x4", NOSPLIT, "func(w, a *byte, stride, nb int, out *float32)")
	Pragma("noescape")
	wp := Load(Param("w"), GP64())
	ap := Load(Param("a"), GP64())
	stride := Load(Param("stride"), GP64())
	nb := Load(Param("nb"), GP64())
	cols := columnPointers(ap, stride)
	sum4 := XMM()
	VXORPS(sum4, sum4, sum4)
	mask := ZMM()
	tmp := GP32()
	MOVL(U32(nibbleMask), tmp)
	VPBROADCASTD(tmp, mask)

	Label("gzblock")
	CMPQ(nb, Imm(0))
	JE(LabelRef("gzdone"))

	scales, mins := unpackQ4KScales(wp)
	sc4 := ZMM()
	VSHUFI64X2(U8(0x00), scales.AsZ(), scales.AsZ(), sc4)

	bh := make([]VecVirtual, 4)
	for c := 0; c < 4; c++ {
		bs := YMM()
		bh[c] = XMM()
		VMOVDQU(Mem{Base: cols[c], Disp: q8kBsums}, bs)
		VEXTRACTI128(Imm(1), bs, bh[c])
		VPHADDW(bh[c], bs.AsX(), bh[c])
		VPMADDWD(mins, bh[c], bh[c])
	}
	VPHADDD(bh[1], bh[0], bh[0])
	VPHADDD(bh[3], bh[2], bh[2])
	VPHADDD(bh[2], bh[0], bh[0])
	m4 := bh[0]

	accs := make([]VecVirtual, 4)
	for c := range accs {
		accs[c] = ZMM()
		VPXORD(accs[c], accs[c], accs[c])
	}
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
	// Fold each column's 16 lanes to 8, then reduce the four together.
	ys := make([]VecVirtual, 4)
	for c := 0; c < 4; c++ {
		ys[c] = YMM()
		VEXTRACTI64X4(Imm(1), accs[c], ys[c])
		VPADDD(ys[c], accs[c].AsY(), ys[c])
	}
	VPHADDD(ys[1], ys[0], ys[0])
	VPHADDD(ys[3], ys[2], ys[2])
	VPHADDD(ys[2], ys[0], ys[0])
	s4 := XMM()
	VEXTRACTI128(Imm(1), ys[0], s4)
	VPADDD(s4, ys[0].AsX(), s4)

	yd := columnScales(cols)
	floatPartCols(wp, yd, s4, m4, sum4)

	ADDQ(U32(q4kSize), wp)
	for c := 0; c < 4; c++ {
		ADDQ(U32(q8kSize), cols[c])
	}
	DECQ(nb)
	JMP(LabelRef("gzblock"))

	Label("gzdone")
	op := Load(Param("out"), GP64())
	VMOVUPS(sum4, Mem{Base: op})
	VZEROUPPER()
	RET()
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

// UnpackedQ4K layout (bytes), as in package kernels.
const (
	unpSize = 576
	unpW    = 0
	unpS    = 256
	unpM    = 512
	unpD    = 544
)

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
	tmp := GP32()
	MOVL(U32(nibbleMask), tmp)
	VMOVD(tmp, mask.AsX())
	VPBROADCASTD(mask.AsX(), mask)

	Label("ublock")
	CMPQ(nb, Imm(0))
	JE(LabelRef("udone"))
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

	ADDQ(U32(q4kSize), wp)
	ADDQ(U32(unpSize), up)
	DECQ(nb)
	JMP(LabelRef("ublock"))
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
	TEXT("gemmUnpackedQ4KAVX512x4", NOSPLIT, "func(u, a *byte, stride, nb int, out *float32)")
	Pragma("noescape")
	up := Load(Param("u"), GP64())
	ap := Load(Param("a"), GP64())
	stride := Load(Param("stride"), GP64())
	nb := Load(Param("nb"), GP64())
	cols := columnPointers(ap, stride)
	sum4 := XMM()
	VXORPS(sum4, sum4, sum4)

	Label("gublock")
	CMPQ(nb, Imm(0))
	JE(LabelRef("gudone"))

	// Mins × activation sums per column (8 int32 each), reduced across
	// the columns: m4 = [M0..M3].
	sm := make([]VecVirtual, 4)
	{
		md := YMM()
		VMOVDQU(Mem{Base: up, Disp: unpM}, md)
		for c := 0; c < 4; c++ {
			sm[c] = YMM()
			VPMADDWD(Mem{Base: cols[c], Disp: q8kBsums}, md, sm[c])
		}
	}
	VPHADDD(sm[1], sm[0], sm[0])
	VPHADDD(sm[3], sm[2], sm[2])
	VPHADDD(sm[2], sm[0], sm[0])
	m4 := XMM()
	VEXTRACTI128(Imm(1), sm[0], m4)
	VPADDD(m4, sm[0].AsX(), m4)

	accs := make([]VecVirtual, 4)
	for c := range accs {
		accs[c] = ZMM()
		VPXORD(accs[c], accs[c], accs[c])
	}
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
	ys := make([]VecVirtual, 4)
	for c := 0; c < 4; c++ {
		ys[c] = YMM()
		VEXTRACTI64X4(Imm(1), accs[c], ys[c])
		VPADDD(ys[c], accs[c].AsY(), ys[c])
	}
	VPHADDD(ys[1], ys[0], ys[0])
	VPHADDD(ys[3], ys[2], ys[2])
	VPHADDD(ys[2], ys[0], ys[0])
	s4 := XMM()
	VEXTRACTI128(Imm(1), ys[0], s4)
	VPADDD(s4, ys[0].AsX(), s4)

	yd := columnScales(cols)
	d4, dm4 := XMM(), XMM()
	VBROADCASTSS(Mem{Base: up, Disp: unpD}, d4)
	VMULPS(yd, d4, d4)
	VBROADCASTSS(Mem{Base: up, Disp: unpD + 4}, dm4)
	VMULPS(yd, dm4, dm4)
	VCVTDQ2PS(s4, s4)
	VMULPS(s4, d4, d4)
	VCVTDQ2PS(m4, m4)
	VMULPS(m4, dm4, dm4)
	VSUBPS(dm4, d4, d4)
	VADDPS(d4, sum4, sum4)

	ADDQ(U32(unpSize), up)
	for c := 0; c < 4; c++ {
		ADDQ(U32(q8kSize), cols[c])
	}
	DECQ(nb)
	JMP(LabelRef("gublock"))

	Label("gudone")
	op := Load(Param("out"), GP64())
	VMOVUPS(sum4, Mem{Base: op})
	VZEROUPPER()
	RET()
}

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

	Label("fblock")
	CMPQ(nb, Imm(0))
	JE(LabelRef("fdone"))
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
	DECQ(nb)
	JMP(LabelRef("fblock"))
	Label("fdone")
	VZEROUPPER()
	Store(total, ReturnIndex(0))
	RET()
}

// quantizeQ8KAVX2 is QuantizeRowQ8K for AVX2, block by block: the largest
// magnitude (vmaxps over |x|), then the first element reaching it (the Go
// twin's choice, which fixes the sign of the scale), iscale = −127/max
// (vdivss), values scaled (vmulps) and rounded half to even (vcvtps2dq
// under the default rounding mode), capped at 127, packed to int8, and
// the sums of each 16 — bit-identical to the twin.
func quantizeQ8KAVX2() {
	TEXT("quantizeQ8KAVX2", NOSPLIT, "func(x *float32, y *byte, nb int)")
	Pragma("noescape")
	xp := Load(Param("x"), GP64())
	yp := Load(Param("y"), GP64())
	nb := Load(Param("nb"), GP64())
	absMask, c127 := YMM(), YMM()
	tmp := GP32()
	MOVL(U32(0x7fffffff), tmp)
	VMOVD(tmp, absMask.AsX())
	VPBROADCASTD(absMask.AsX(), absMask)
	MOVL(U32(127), tmp)
	VMOVD(tmp, c127.AsX())
	VPBROADCASTD(c127.AsX(), c127)

	Label("qblock")
	CMPQ(nb, Imm(0))
	JE(LabelRef("qdone"))

	// amax over the 256 values.
	am := YMM()
	VANDPS(Mem{Base: xp}, absMask, am)
	for i := 1; i < 32; i++ {
		a := YMM()
		VANDPS(Mem{Base: xp, Disp: 32 * i}, absMask, a)
		VMAXPS(a, am, am)
	}
	h := XMM()
	VEXTRACTF128(Imm(1), am, h)
	VMAXPS(h, am.AsX(), h)
	t := XMM()
	VPERMILPS(Imm(0x4e), h, t)
	VMAXPS(t, h, h)
	VPERMILPS(Imm(0xb1), h, t)
	VMAXPS(t, h, h) // every lane: amax
	zero := XMM()
	VXORPS(zero, zero, zero)
	VUCOMISS(zero, h)
	JNE(LabelRef("qnonzero"))
	// All zero: d = 0, quants and sums 0.
	z := YMM()
	VPXOR(z, z, z)
	MOVL(U32(0), Mem{Base: yp})
	for i := 0; i < 8; i++ {
		VMOVDQU(z, Mem{Base: yp, Disp: q8kQs + 32*i})
	}
	VMOVDQU(z, Mem{Base: yp, Disp: q8kBsums})
	JMP(LabelRef("qnext"))

	Label("qnonzero")
	// First index whose |x| equals amax: its value is max.
	amb := YMM()
	VBROADCASTSS(h, amb)
	idx := GP64()
	XORQ(idx, idx)
	Label("qfind")
	{
		a, m := YMM(), GP32()
		VANDPS(Mem{Base: xp, Index: idx, Scale: 4}, absMask, a)
		VCMPPS(Imm(0), amb, a, a) // equal
		VMOVMSKPS(a, m)
		TESTL(m, m)
		JNZ(LabelRef("qfound"))
		ADDQ(Imm(8), idx)
		JMP(LabelRef("qfind"))
		Label("qfound")
		bit := GP32()
		BSFL(m, bit)
		ADDQ(bit.As64(), idx)
	}
	mx, is := XMM(), XMM()
	VMOVSS(Mem{Base: xp, Index: idx, Scale: 4}, mx)
	MOVL(U32(0xc2fe0000), tmp) // −127.0
	VMOVD(tmp, is)
	VDIVSS(mx, is, is) // iscale = −127/max
	one := XMM()
	MOVL(U32(0x3f800000), tmp) // 1.0
	VMOVD(tmp, one)
	VDIVSS(is, one, one) // d = 1/iscale
	VMOVSS(one, Mem{Base: yp})
	isb := YMM()
	VBROADCASTSS(is, isb)

	// Quantize 16 values at a time: two vectors of 8 int32, their sum
	// (for the bsum), then packed to 16 bytes.
	for g := 0; g < 16; g++ {
		a, b := YMM(), YMM()
		VMULPS(Mem{Base: xp, Disp: 64 * g}, isb, a)
		VMULPS(Mem{Base: xp, Disp: 64*g + 32}, isb, b)
		VCVTPS2DQ(a, a)
		VCVTPS2DQ(b, b)
		VPMINSD(c127, a, a)
		VPMINSD(c127, b, b)
		// bsum: the 16 int32 summed.
		s, sh := YMM(), XMM()
		VPADDD(b, a, s)
		VEXTRACTI128(Imm(1), s, sh)
		VPADDD(sh, s.AsX(), sh)
		hsum4(sh)
		sumr := GP32()
		VMOVD(sh, sumr)
		MOVW(sumr.As16(), Mem{Base: yp, Disp: q8kBsums + 2*g})
		// pack: int32 → int16 (saturating) → int8; vpackssdw works per
		// 128-bit lane, so fix the order with vpermq.
		p16 := YMM()
		VPACKSSDW(b, a, p16)
		VPERMQ(Imm(0xd8), p16, p16)
		p8 := XMM()
		VEXTRACTI128(Imm(1), p16, p8)
		VPACKSSWB(p8, p16.AsX(), p8)
		VMOVDQU(p8, Mem{Base: yp, Disp: q8kQs + 16*g})
	}

	Label("qnext")
	ADDQ(U32(4*256), xp)
	ADDQ(U32(q8kSize), yp)
	DECQ(nb)
	JMP(LabelRef("qblock"))
	Label("qdone")
	VZEROUPPER()
	RET()
}
