package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// The dot products of the small and unquantized tensors: Q8_0·Q8_0 (Q8_0
// models), F32 and F16 (F32/F16 models, and attention's q·k). Each keeps
// its Go twin's arithmetic exactly: integer sums per block for Q8_0, and
// for the float dots the twin's eight partial sums are the eight lanes of
// a YMM register (multiply, then add: no FMA, which would round once
// where the twin rounds twice).

// dotQ8_0Q8_0AVX2 is DotQ8_0Q8_0: per 32-value block the signed products
// are summed exactly (vpsignb makes the weights unsigned for vpmaddubsw,
// moving their signs onto the activations; |q| ≤ 127 so pairs fit int16),
// then sum += (f16(dw)·f16(da))·float(isum) as in the twin.
func dotQ8_0Q8_0AVX2() {
	TEXT("dotQ8_0Q8_0AVX2", NOSPLIT, "func(w, a *byte, nb int) float32")
	Pragma("noescape")
	wp := Load(Param("w"), GP64())
	ap := Load(Param("a"), GP64())
	nb := Load(Param("nb"), GP64())
	sum := XMM()
	VXORPS(sum, sum, sum)
	ones := YMM()
	broadcastConst(ones, 0x00010001)

	blockLoop(nb, "q80block", "q80done")
	q80BlockDot(wp, ap, ones, sum)
	ADDQ(Imm(q80Size), wp)
	ADDQ(Imm(q80Size), ap)
	loopBack(nb, "q80block")

	Label("q80done")
	VZEROUPPER()
	Store(sum, ReturnIndex(0))
	RET()
}

// dotF32AVX2x8 accumulates w·a over n (a multiple of 8) elements into
// eight lane sums written to out, exactly as DotF32's s[0..7].
func dotF32AVX2x8() {
	TEXT("dotF32AVX2x8", NOSPLIT, "func(w, a *float32, n int, out *float32)")
	Pragma("noescape")
	wp := Load(Param("w"), GP64())
	ap := Load(Param("a"), GP64())
	n := Load(Param("n"), GP64())
	acc := YMM()
	VXORPS(acc, acc, acc)
	blockLoop(n, "f32loop", "f32done")
	p := YMM()
	VMOVUPS(Mem{Base: wp}, p)
	VMULPS(Mem{Base: ap}, p, p)
	VADDPS(p, acc, acc)
	ADDQ(Imm(32), wp)
	ADDQ(Imm(32), ap)
	SUBQ(Imm(8), n)
	JMP(LabelRef("f32loop"))
	Label("f32done")
	op := Load(Param("out"), GP64())
	VMOVUPS(acc, Mem{Base: op})
	VZEROUPPER()
	RET()
}

// dotF16AVX2x8 is dotF32AVX2x8 for fp16 rows (converted with vcvtph2ps,
// which is exact).
func dotF16AVX2x8() {
	TEXT("dotF16AVX2x8", NOSPLIT, "func(w, a *uint16, n int, out *float32)")
	Pragma("noescape")
	wp := Load(Param("w"), GP64())
	ap := Load(Param("a"), GP64())
	n := Load(Param("n"), GP64())
	acc := YMM()
	VXORPS(acc, acc, acc)
	blockLoop(n, "f16loop", "f16done")
	p, q := YMM(), YMM()
	VCVTPH2PS(Mem{Base: wp}, p)
	VCVTPH2PS(Mem{Base: ap}, q)
	VMULPS(q, p, p)
	VADDPS(p, acc, acc)
	ADDQ(Imm(16), wp)
	ADDQ(Imm(16), ap)
	SUBQ(Imm(8), n)
	JMP(LabelRef("f16loop"))
	Label("f16done")
	op := Load(Param("out"), GP64())
	VMOVUPS(acc, Mem{Base: op})
	VZEROUPPER()
	RET()
}

// axpyF32AVX2 is AxpyF32 (y += a·x) for n a multiple of 8: multiply,
// then add, lane by lane — each element is the Go loop's own arithmetic,
// so the result is bit-identical.
func axpyF32AVX2() {
	TEXT("axpyF32AVX2", NOSPLIT, "func(a float32, x, y *float32, n int)")
	Pragma("noescape")
	av := YMM()
	VBROADCASTSS(NewParamAddr("a", 0), av)
	xp := Load(Param("x"), GP64())
	yp := Load(Param("y"), GP64())
	n := Load(Param("n"), GP64())
	blockLoop(n, "axpyloop", "axpydone")
	p := YMM()
	VMULPS(Mem{Base: xp}, av, p)
	VADDPS(Mem{Base: yp}, p, p)
	VMOVUPS(p, Mem{Base: yp})
	ADDQ(Imm(32), xp)
	ADDQ(Imm(32), yp)
	SUBQ(Imm(8), n)
	JMP(LabelRef("axpyloop"))
	Label("axpydone")
	VZEROUPPER()
	RET()
}
