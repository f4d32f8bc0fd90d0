package main

import (
	"math"
	"math/bits"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Flash attention's kernels over the Q8_0 KV cache (twins in
// kernels/attention.go). AVX2 only: the AVX-512 and AVX-VNNI tables
// share them. Float steps are separate multiplies and adds, in the
// twins' order, so results are bit-identical.

// q80BlockDot adds (f16(dw)·f16(da))·isum of the Q8_0 blocks at wp and ap
// to the scalar sum: DotQ8_0Q8_0's step for one block.
func q80BlockDot(wp, ap Register, ones VecVirtual, sum VecVirtual) {
	x, y := YMM(), YMM()
	VMOVDQU(Mem{Base: wp, Disp: q80Qs}, x)
	VMOVDQU(Mem{Base: ap, Disp: q80Qs}, y)
	VPSIGNB(x, y, y) // y·sign(x)
	VPABSB(x, x)
	VPMADDUBSW(y, x, x)
	VPMADDWD(ones, x, x)
	h := XMM()
	VEXTRACTI128(Imm(1), x, h)
	VPADDD(h, x.AsX(), h)
	hsum4(h)
	VCVTDQ2PS(h, h)
	hw, dw, da := GP32(), XMM(), XMM()
	MOVWLZX(Mem{Base: wp}, hw)
	VMOVD(hw, dw)
	VCVTPH2PS(dw, dw)
	MOVWLZX(Mem{Base: ap}, hw)
	VMOVD(hw, da)
	VCVTPH2PS(da, da)
	VMULSS(da, dw, dw)
	VMULSS(h, dw, dw)
	VADDSS(dw, sum, sum)
}

// dotQ8_0RowsAVX2 is DotQ8_0Rows: rows key rows (stride bytes apart) of
// nb blocks each, against one query of nb blocks.
func dotQ8_0RowsAVX2() {
	TEXT("dotQ8_0RowsAVX2", NOSPLIT, "func(k, q *byte, nb, rows, stride int, dst *float32)")
	Pragma("noescape")
	kp := Load(Param("k"), GP64())
	rows := Load(Param("rows"), GP64())
	dst := Load(Param("dst"), GP64())
	ones := YMM()
	broadcastConst(ones, 0x00010001)
	blockLoop(rows, "q80row", "q80rowsdone")
	wp := GP64()
	MOVQ(kp, wp)
	ap := Load(Param("q"), GP64())
	nb := Load(Param("nb"), GP64())
	sum := XMM()
	VXORPS(sum, sum, sum)
	blockLoop(nb, "q80rowblock", "q80rowend")
	q80BlockDot(wp, ap, ones, sum)
	ADDQ(Imm(q80Size), wp)
	ADDQ(Imm(q80Size), ap)
	loopBack(nb, "q80rowblock")
	Label("q80rowend")
	VMOVSS(sum, Mem{Base: dst})
	ADDQ(Imm(4), dst)
	stride := Load(Param("stride"), GP64())
	ADDQ(stride, kp)
	loopBack(rows, "q80row")
	Label("q80rowsdone")
	VZEROUPPER()
	RET()
}

// expConsts is ExpF32's constant table, 32 bytes (eight lanes) each:
// log2 e, the two parts of ln 2, the six polynomial coefficients, 1.
func expConsts() Mem { return expConstsN("expConsts", 8) }

// expConstsN lays ExpF32's constants out lanes wide, one after another.
func expConstsN(name string, lanes int) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for k, v := range []float32{1.44269504088896341, 0.693359375, -2.12194440e-4,
		1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1, 1} {
		for i := 0; i < lanes; i++ {
			DATA(4*lanes*k+4*i, U32(math.Float32bits(v)))
		}
	}
	return m
}

// expSubF32AVX2x8 is ExpSubF32's vector part over n (a multiple of 8)
// values: x[i] = ExpF32(x[i] − m), and the eight lane sums go to out.
// Each step is ExpF32's operation; constants come from expConsts.
func expSubF32AVX2x8(ec Mem) {
	TEXT("expSubF32AVX2x8", NOSPLIT, "func(x *float32, n int, m float32, out *float32)")
	Pragma("noescape")
	xp := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	mv := YMM()
	VBROADCASTSS(NewParamAddr("m", 16), mv)
	lo, hi := YMM(), YMM()
	broadcastConst(lo, math.Float32bits(-87))
	broadcastConst(hi, math.Float32bits(88))
	bias := YMM()
	broadcastConst(bias, 127)
	acc := YMM()
	VXORPS(acc, acc, acc)
	blockLoop(n, "exploop", "expdone")
	t := YMM()
	VMOVUPS(Mem{Base: xp}, t)
	VSUBPS(mv, t, t)
	y := expF32Vec(t, lo, hi, bias, ec)
	VMOVUPS(y, Mem{Base: xp})
	VADDPS(y, acc, acc)
	ADDQ(Imm(32), xp)
	SUBQ(Imm(8), n)
	JMP(LabelRef("exploop"))
	Label("expdone")
	op := Load(Param("out"), GP64())
	VMOVUPS(acc, Mem{Base: op})
	VZEROUPPER()
	RET()
}

// hadamardSigns holds the sign masks of the in-register butterfly
// stages (h = 1, 2, 4): lanes that take a−c get the sign bit.
func hadamardSigns() Mem {
	m := GLOBL("hadamardSigns", RODATA|NOPTR)
	for s, h := range []int{1, 2, 4} {
		for i := 0; i < 8; i++ {
			v := uint32(0)
			if i&h != 0 {
				v = 0x80000000
			}
			DATA(32*s+4*i, U32(v))
		}
	}
	return m
}

// hadamardAVX2 is Hadamard (kernels/attention.go) on blocks blocks of n
// floats (n a power of two ≥ 16). Stages h = 1, 2, 4 run inside each
// register: y = swap_h(x) + (x with the sign flipped in the a−c lanes),
// which is the twin's a+c and a−c bit for bit (addition commutes,
// negation is exact). Stages h ≥ 8 pair registers through memory (L1).
// The last stage multiplies by norm as the twin's final loop does.
func hadamardAVX2(signs Mem) {
	TEXT("hadamardAVX2", NOSPLIT, "func(x *float32, n, blocks int, norm float32)")
	Pragma("noescape")
	xp := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	blocks := Load(Param("blocks"), GP64())
	nv := YMM()
	VBROADCASTSS(NewParamAddr("norm", 24), nv)
	s1, s2, s4 := YMM(), YMM(), YMM()
	VMOVUPS(signs.Offset(0), s1)
	VMOVUPS(signs.Offset(32), s2)
	VMOVUPS(signs.Offset(64), s4)
	nbytes := GP64()
	MOVQ(n, nbytes)
	SHLQ(Imm(2), nbytes)

	blockLoop(blocks, "hdblock", "hddone")
	// Stages 1, 2, 4 in registers, 8 floats at a time.
	off := GP64()
	XORQ(off, off)
	Label("hdinreg")
	x, t := YMM(), YMM()
	VMOVUPS(Mem{Base: xp, Index: off, Scale: 1}, x)
	VPERMILPS(Imm(0xb1), x, t)
	VXORPS(s1, x, x)
	VADDPS(x, t, x)
	VPERMILPS(Imm(0x4e), x, t)
	VXORPS(s2, x, x)
	VADDPS(x, t, x)
	VPERM2F128(Imm(0x01), x, x, t)
	VXORPS(s4, x, x)
	VADDPS(x, t, x)
	VMOVUPS(x, Mem{Base: xp, Index: off, Scale: 1})
	ADDQ(Imm(32), off)
	CMPQ(off, nbytes)
	JB(LabelRef("hdinreg"))
	// Stages h = 8 .. n/2 (h in bytes: hb = 4h): pairs (j, j+h).
	hb := GP64()
	MOVQ(U64(32), hb)
	Label("hdstage")
	last := GP64()
	MOVQ(hb, last)
	SHLQ(Imm(1), last)
	i := GP64()
	XORQ(i, i)
	CMPQ(last, nbytes) // the last stage (2h == n) also scales
	JE(LabelRef("hdlaststage"))
	Label("hdgroup")
	j := GP64()
	MOVQ(i, j)
	end := GP64()
	LEAQ(Mem{Base: i, Index: hb, Scale: 1}, end)
	Label("hdpair")
	a, c, sum := YMM(), YMM(), YMM()
	VMOVUPS(Mem{Base: xp, Index: j, Scale: 1}, a)
	hj := GP64()
	LEAQ(Mem{Base: j, Index: hb, Scale: 1}, hj)
	VMOVUPS(Mem{Base: xp, Index: hj, Scale: 1}, c)
	VADDPS(c, a, sum)
	VSUBPS(c, a, a)
	VMOVUPS(sum, Mem{Base: xp, Index: j, Scale: 1})
	VMOVUPS(a, Mem{Base: xp, Index: hj, Scale: 1})
	ADDQ(Imm(32), j)
	CMPQ(j, end)
	JB(LabelRef("hdpair"))
	LEAQ(Mem{Base: i, Index: hb, Scale: 2}, i)
	CMPQ(i, nbytes)
	JB(LabelRef("hdgroup"))
	SHLQ(Imm(1), hb)
	JMP(LabelRef("hdstage"))

	Label("hdlaststage")
	Label("hdlastpair")
	a2, c2, sum2 := YMM(), YMM(), YMM()
	VMOVUPS(Mem{Base: xp, Index: i, Scale: 1}, a2)
	hi := GP64()
	LEAQ(Mem{Base: i, Index: hb, Scale: 1}, hi)
	VMOVUPS(Mem{Base: xp, Index: hi, Scale: 1}, c2)
	VADDPS(c2, a2, sum2)
	VSUBPS(c2, a2, a2)
	VMULPS(nv, sum2, sum2)
	VMULPS(nv, a2, a2)
	VMOVUPS(sum2, Mem{Base: xp, Index: i, Scale: 1})
	VMOVUPS(a2, Mem{Base: xp, Index: hi, Scale: 1})
	ADDQ(Imm(32), i)
	CMPQ(i, hb)
	JB(LabelRef("hdlastpair"))

	ADDQ(nbytes, xp)
	loopBack(blocks, "hdblock")
	Label("hddone")
	VZEROUPPER()
	RET()
}

// expF32Vec returns ExpF32 of t's eight lanes (t is clobbered): clamp,
// Cody-Waite reduction, the polynomial and 2^n in the exponent bits, one
// operation per twin step.
func expF32Vec(t, lo, hi, bias VecVirtual, ec Mem) VecVirtual {
	return expF32VecW(t, lo, hi, bias, ec, 32, YMM)
}

// expF32VecW is expF32Vec at any width: ec holds each constant stride
// bytes apart (expConsts: 8 lanes; expConsts16: 16), vec makes the
// temporaries.
func expF32VecW(t, lo, hi, bias VecVirtual, ec Mem, stride int, vec func() VecVirtual) VecVirtual {
	log2e, c1, c2, one := ec.Offset(0), ec.Offset(stride), ec.Offset(2*stride), ec.Offset(stride*9)
	p := func(i int) Mem { return ec.Offset(stride * (3 + i)) }
	nf, r, a, y := vec(), vec(), vec(), vec()
	VMAXPS(t, lo, t) // lo > t ? lo : t — NaN passes, as in the twin
	VMINPS(t, hi, t) // hi < t ? hi : t
	VMULPS(log2e, t, nf)
	ni := vec()
	VCVTPS2DQ(nf, ni) // round half to even (MXCSR default)
	VCVTDQ2PS(ni, nf)
	VMULPS(c1, nf, a)
	VSUBPS(a, t, r)
	VMULPS(c2, nf, a)
	VSUBPS(a, r, r)
	VMULPS(p(0), r, y)
	VADDPS(p(1), y, y)
	for i := 2; i < 6; i++ {
		VMULPS(r, y, y)
		VADDPS(p(i), y, y)
	}
	VMULPS(r, r, a)
	VMULPS(a, y, y)
	VADDPS(r, y, y)
	VADDPS(one, y, y)
	VPADDD(bias, ni, ni)
	VPSLLD(Imm(23), ni, ni)
	VMULPS(ni, y, y)
	return y
}

// swiGLUAVX2 is SwiGLU over n (a multiple of 8) values: gate = x/(1+e)·up
// with e = ExpF32(−x), vdivps and vmulps rounding as the twin's / and *.
func swiGLUAVX2(ec Mem) {
	TEXT("swiGLUAVX2", NOSPLIT, "func(gate, up *float32, n int)")
	Pragma("noescape")
	gp := Load(Param("gate"), GP64())
	upp := Load(Param("up"), GP64())
	n := Load(Param("n"), GP64())
	lo, hi, bias, sign := YMM(), YMM(), YMM(), YMM()
	broadcastConst(lo, math.Float32bits(-87))
	broadcastConst(hi, math.Float32bits(88))
	broadcastConst(bias, 127)
	broadcastConst(sign, 0x80000000)
	blockLoop(n, "swiloop", "swidone")
	x, t := YMM(), YMM()
	VMOVUPS(Mem{Base: gp}, x)
	VXORPS(sign, x, t) // −x, exactly
	e := expF32Vec(t, lo, hi, bias, ec)
	VADDPS(ec.Offset(32*9), e, e) // 1 + e
	VDIVPS(e, x, x)
	VMULPS(Mem{Base: upp}, x, x)
	VMOVUPS(x, Mem{Base: gp})
	ADDQ(Imm(32), gp)
	ADDQ(Imm(32), upp)
	SUBQ(Imm(8), n)
	JMP(LabelRef("swiloop"))
	Label("swidone")
	VZEROUPPER()
	RET()
}

// scaleMaxF32AVX2x8 is ScaleMaxF32's vector part over n (a multiple of 8)
// values: x *= scale, and the eight lane maxima (starting from m) go to
// out. VMAXPS(v, c, c) computes c = (c > v) ? c : v, the twin's maxLane.
func scaleMaxF32AVX2x8() {
	TEXT("scaleMaxF32AVX2x8", NOSPLIT, "func(x *float32, n int, scale, m float32, out *float32)")
	Pragma("noescape")
	xp := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	sv, c := YMM(), YMM()
	VBROADCASTSS(NewParamAddr("scale", 16), sv)
	VBROADCASTSS(NewParamAddr("m", 20), c)
	blockLoop(n, "smloop", "smdone")
	v := YMM()
	VMULPS(Mem{Base: xp}, sv, v)
	VMOVUPS(v, Mem{Base: xp})
	VMAXPS(v, c, c)
	ADDQ(Imm(32), xp)
	SUBQ(Imm(8), n)
	JMP(LabelRef("smloop"))
	Label("smdone")
	op := Load(Param("out"), GP64())
	VMOVUPS(c, Mem{Base: op})
	VZEROUPPER()
	RET()
}

// dotQ8_0Rows8AVX2 is DotQ8_0Rows for groups of eight key rows: the
// eight rows' integer block sums are reduced together (a vphaddd tree
// and one cross-lane add, instead of a horizontal sum per row), and the
// float step runs with one key per lane — per block, per lane, the
// twin's sum += (dk·dq)·float(isum), so the result is bit-identical.
// Rows are addressed from two bases (rows 0-3 and 4-7) with stride and
// 3·stride as index registers.
func dotQ8_0Rows8AVX2() {
	TEXT("dotQ8_0Rows8AVX2", NOSPLIT, "func(k, q *byte, nb, groups, stride int, dst *float32)")
	Pragma("noescape")
	gstart := Load(Param("k"), GP64())
	groups := Load(Param("groups"), GP64())
	s := Load(Param("stride"), GP64())
	dst := Load(Param("dst"), GP64())
	s3 := GP64()
	LEAQ(Mem{Base: s, Index: s, Scale: 2}, s3)
	ones := YMM()
	broadcastConst(ones, 0x00010001)

	blockLoop(groups, "q8r8group", "q8r8done")
	b0, b4 := GP64(), GP64()
	MOVQ(gstart, b0)
	LEAQ(Mem{Base: gstart, Index: s, Scale: 4}, b4)
	qp := Load(Param("q"), GP64())
	nb := Load(Param("nb"), GP64())
	acc := YMM()
	VXORPS(acc, acc, acc)
	blockLoop(nb, "q8r8block", "q8r8end")
	y := YMM()
	VMOVDQU(Mem{Base: qp, Disp: q80Qs}, y)
	row := func(j int, disp int) Mem {
		base := b0
		if j >= 4 {
			base = b4
		}
		switch j % 4 {
		case 0:
			return Mem{Base: base, Disp: disp}
		case 1:
			return Mem{Base: base, Index: s, Scale: 1, Disp: disp}
		case 2:
			return Mem{Base: base, Index: s, Scale: 2, Disp: disp}
		}
		return Mem{Base: base, Index: s3, Scale: 1, Disp: disp}
	}
	var p [8]VecVirtual
	for j := range p {
		x, t := YMM(), YMM()
		VMOVDQU(row(j, q80Qs), x)
		VPSIGNB(x, y, t) // y·sign(x)
		VPABSB(x, x)
		VPMADDUBSW(t, x, x)
		p[j] = YMM()
		VPMADDWD(ones, x, p[j])
	}
	// hadd tree: lane halves of [K0 K1 K2 K3] and [K4 K5 K6 K7].
	var r2 [4]VecVirtual
	for i := range r2 {
		r2[i] = YMM()
		VPHADDD(p[2*i+1], p[2*i], r2[i])
	}
	r0123, r4567 := YMM(), YMM()
	VPHADDD(r2[1], r2[0], r0123)
	VPHADDD(r2[3], r2[2], r4567)
	lo, hi := YMM(), YMM()
	VPERM2I128(Imm(0x20), r4567, r0123, lo) // [r0123.lane0 | r4567.lane0]
	VPERM2I128(Imm(0x31), r4567, r0123, hi) // [r0123.lane1 | r4567.lane1]
	VPADDD(hi, lo, lo)                      // [K0 .. K7]
	VCVTDQ2PS(lo, lo)
	// d of the eight rows' blocks, widened; times the query block's d.
	dk, g := XMM(), GP32()
	MOVWLZX(row(0, 0), g)
	VMOVD(g, dk)
	for j := 1; j < 8; j++ {
		MOVWLZX(row(j, 0), g)
		VPINSRW(Imm(uint64(j)), g, dk, dk)
	}
	dk8, dq := YMM(), XMM()
	VCVTPH2PS(dk, dk8)
	MOVWLZX(Mem{Base: qp}, g)
	VMOVD(g, dq)
	VCVTPH2PS(dq, dq)
	dq8 := YMM()
	VBROADCASTSS(dq, dq8)
	VMULPS(dq8, dk8, dk8) // float32(dk·dq), as the twin
	VMULPS(lo, dk8, dk8)
	VADDPS(dk8, acc, acc)
	ADDQ(Imm(q80Size), b0)
	ADDQ(Imm(q80Size), b4)
	ADDQ(Imm(q80Size), qp)
	loopBack(nb, "q8r8block")
	Label("q8r8end")
	VMOVUPS(acc, Mem{Base: dst})
	ADDQ(Imm(32), dst)
	LEAQ(Mem{Base: gstart, Index: s, Scale: 8}, gstart)
	loopBack(groups, "q8r8group")
	Label("q8r8done")
	VZEROUPPER()
	RET()
}

// dequantQ8_0RowsAVX2 is DequantQ8_0Rows: per block, d broadcast, then
// 32 values sign-extended, converted and multiplied.
func dequantQ8_0RowsAVX2() { dequantQ8_0RowsKernel("dequantQ8_0RowsAVX2", false) }

// dequantQ8_0RowsAVX512 is dequantQ8_0RowsAVX2 sixteen values per
// conversion: the value tile of decode attention is widened once per
// tile for the whole query group, and on a model with one query per KV
// head (Llama-2-7B) this pass is most of a tile's arithmetic.
func dequantQ8_0RowsAVX512() { dequantQ8_0RowsKernel("dequantQ8_0RowsAVX512", true) }

// dequantQ8_0RowsKernel: per block, d broadcast, then 32 values
// sign-extended, converted and multiplied (one rounding), 8 or 16 lanes.
func dequantQ8_0RowsKernel(name string, wide bool) {
	TEXT(name, NOSPLIT, "func(dst *float32, v *byte, stride, rows, nb int)")
	Pragma("noescape")
	lanes, vec := 8, YMM
	if wide {
		lanes, vec = 16, ZMM
	}
	l := name
	dp := Load(Param("dst"), GP64())
	vrow := Load(Param("v"), GP64())
	rows := Load(Param("rows"), GP64())
	blockLoop(rows, l+"row", l+"done")
	vp := GP64()
	MOVQ(vrow, vp)
	nb := Load(Param("nb"), GP64())
	Label(l + "block")
	hw, d, dv := GP32(), XMM(), vec()
	MOVWLZX(Mem{Base: vp}, hw)
	VMOVD(hw, d)
	VCVTPH2PS(d, d)
	VBROADCASTSS(d, dv)
	for i := 0; i < 32/lanes; i++ {
		x := vec()
		VPMOVSXBD(Mem{Base: vp, Disp: q80Qs + lanes*i}, x)
		VCVTDQ2PS(x, x)
		VMULPS(dv, x, x)
		VMOVUPS(x, Mem{Base: dp, Disp: 4 * lanes * i})
	}
	ADDQ(Imm(128), dp)
	ADDQ(Imm(q80Size), vp)
	DECQ(nb)
	JNZ(LabelRef(l + "block"))
	stride := Load(Param("stride"), GP64())
	ADDQ(stride, vrow)
	loopBack(rows, l+"row")
	Label(l + "done")
	VZEROUPPER()
	RET()
}

// axpyF32RowsKernel is AxpyF32Rows for n a multiple of the chunk: out is
// taken a chunk at a time (regs registers of width bytes) through every
// row, each element summed in row order as in the twin. Each row's adds
// to a register wait for the previous row's (vaddps latency, 4 cycles),
// so the wider the chunk the more of them run at once: 4 ymm registers
// (32 values) left the adders idle most of the time; 8 ymm (64 values)
// or 8 zmm (128, a whole head) keep them busy. nb ≥ 1 chunks, rows ≥ 1.
func axpyF32RowsKernel(name string, regs, width int) {
	TEXT(name, NOSPLIT, "func(out, p, v *float32, rows, chunks int)")
	Pragma("noescape")
	vec := func() VecVirtual {
		if width == 64 {
			return ZMM()
		}
		return YMM()
	}
	chunk := regs * width // bytes
	l := name
	op := Load(Param("out"), GP64())
	vchunk := Load(Param("v"), GP64())
	chunks := Load(Param("chunks"), GP64())
	rowBytes := GP64()
	MOVQ(chunks, rowBytes)
	SHLQ(U8(bits.TrailingZeros(uint(chunk))), rowBytes) // chunk is a power of two
	Label(l + "chunk")
	acc := make([]VecVirtual, regs)
	for i := range acc {
		acc[i] = vec()
		VMOVUPS(Mem{Base: op, Disp: width * i}, acc[i])
	}
	pp := Load(Param("p"), GP64())
	rows := Load(Param("rows"), GP64())
	vp := GP64()
	MOVQ(vchunk, vp)
	Label(l + "row")
	w := vec()
	VBROADCASTSS(Mem{Base: pp}, w)
	for i, a := range acc {
		x := vec()
		VMULPS(Mem{Base: vp, Disp: width * i}, w, x)
		VADDPS(x, a, a)
	}
	ADDQ(Imm(4), pp)
	ADDQ(rowBytes, vp)
	DECQ(rows)
	JNZ(LabelRef(l + "row"))
	for i, a := range acc {
		VMOVUPS(a, Mem{Base: op, Disp: width * i})
	}
	ADDQ(U32(chunk), op)
	ADDQ(U32(chunk), vchunk)
	DECQ(chunks)
	JNZ(LabelRef(l + "chunk"))
	VZEROUPPER()
	RET()
}
