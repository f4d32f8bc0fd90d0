package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The pieces every kernel family opens and closes with: constants
// broadcast to a register, the block loop's head and tail, and the
// one-row dots' frame. They emit exactly what each kernel wrote out
// before, so the generated assembly does not change.

// broadcastConst fills every dword of x (an XMM or YMM) with v.
func broadcastConst(x VecVirtual, v uint32) {
	g := GP32()
	MOVL(U32(v), g)
	VMOVD(g, x.AsX())
	VPBROADCASTD(x.AsX(), x)
}

// broadcastConstZ fills every dword of the ZMM x with v (the EVEX
// vpbroadcastd takes a general register).
func broadcastConstZ(x VecVirtual, v uint32) {
	g := GP32()
	MOVL(U32(v), g)
	VPBROADCASTD(g, x)
}

// zeroedY is n zeroed YMM accumulators.
func zeroedY(n int) []VecVirtual {
	accs := make([]VecVirtual, n)
	for i := range accs {
		accs[i] = YMM()
		VPXOR(accs[i], accs[i], accs[i])
	}
	return accs
}

// zeroedZ is n zeroed ZMM accumulators.
func zeroedZ(n int) []VecVirtual {
	accs := make([]VecVirtual, n)
	for i := range accs {
		accs[i] = ZMM()
		VPXORD(accs[i], accs[i], accs[i])
	}
	return accs
}

// blockLoop opens a loop over nb blocks at label top; the loop leaves
// for label done when nb reaches zero.
func blockLoop(nb Register, top, done string) {
	Label(top)
	CMPQ(nb, Imm(0))
	JE(LabelRef(done))
}

// advance moves every pointer by one block of by bytes.
func advance(by int, ptrs ...Register) {
	for _, p := range ptrs {
		ADDQ(U32(by), p)
	}
}

// loopBack counts a block off nb and returns to the loop's top.
func loopBack(nb Register, top string) {
	DECQ(nb)
	JMP(LabelRef(top))
}

// prefetchAhead asks for the lines at offs of the block pf bytes past
// p (Ops.Prefetch): weights stream from memory once, and the loads then
// overlap this block's arithmetic. Prefetches never fault, so running
// past the matrix is harmless.
func prefetchAhead(p, pf Register, offs ...int) {
	for _, off := range offs {
		PREFETCHT0(Mem{Base: p, Index: pf, Scale: 1, Disp: off})
	}
}

// dotFrame opens a one-row dot, func(w, a *byte, nb, pf int) float32:
// the weight and activation pointers, the block count, the prefetch
// distance and a zeroed scalar sum.
func dotFrame(name string) (wp, ap, nb, pf Register, sum VecVirtual) {
	TEXT(name, NOSPLIT, "func(w, a *byte, nb, pf int) float32")
	Pragma("noescape")
	wp = Load(Param("w"), GP64())
	ap = Load(Param("a"), GP64())
	nb = Load(Param("nb"), GP64())
	pf = Load(Param("pf"), GP64())
	sum = XMM()
	VXORPS(sum, sum, sum)
	return
}

// returnSum closes a one-row dot at label done, returning sum.
func returnSum(done string, sum VecVirtual) {
	Label(done)
	VZEROUPPER()
	Store(sum, ReturnIndex(0))
	RET()
}

// storeSum4 closes a 4-column GEMM at label done, writing its four sums
// to out.
func storeSum4(done string, sum4 VecVirtual) {
	Label(done)
	op := Load(Param("out"), GP64())
	VMOVUPS(sum4, Mem{Base: op})
	VZEROUPPER()
	RET()
}
