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

// blockAhead holds a repacked GEMV's weights one block ahead, in
// registers: sub-block j of block i is computed from a register loaded
// while block i-1 was, and once unpacked the register takes block i+1's
// sub-block j (on the last block, the same block again, so nothing past
// the matrix is read).
//
// Why: streaming from DRAM on one core, the AVX-512 Q4_K GEMV read 65%
// of the measured bandwidth while its arithmetic, from L2, ran at 1.8x
// that bandwidth; from L3 it was no faster than 40 GB/s against 80 for a
// plain read. A stream runs as fast as the misses in flight, and every
// vector instruction waiting for a block's data holds a scheduler entry:
// at about 13 per cache line the window filled within one block, so the
// next block's loads were not issued until this one's data came. Loaded
// a block earlier in program order, the loads go out a block sooner and
// the arithmetic finds its data arrived. On the 768 MB roofline (Zen 5,
// 1 thread, three alternated rounds): 22.8–23.5 → 29.5–29.8 GB/s, 0.65–
// 0.68 → 0.83–0.84 of the read bandwidth; from L3 (8 MB) 33–41 → 44–46.
type blockAhead struct {
	q    []VecVirtual
	wp   Register
	nb   Register
	np   Register // the block the reloads read
	off  int      // where q[0]'s bytes start in a block
	size int      // bytes per block
}

// newBlockAhead loads the first block's vectors q (each at its width,
// from byte off on) into registers before the loop over nb blocks at wp
// opens. With no blocks it jumps to done (it would read one).
func newBlockAhead(wp, nb Register, done string, off, size int, q ...VecVirtual) *blockAhead {
	CMPQ(nb, Imm(0))
	JE(LabelRef(done))
	b := &blockAhead{q: q, wp: wp, nb: nb, np: GP64(), off: off, size: size}
	for j := range q {
		loadVec(Mem{Base: b.wp, Disp: off + int(q[j].Size())*j}, q[j])
	}
	return b
}

// blockAheadZ is newBlockAhead on n fresh ZMM registers when on, else
// nil (the kernel then loads each block's weights where it uses them).
func blockAheadZ(on bool, wp, nb Register, done string, off, size, n int) *blockAhead {
	if !on {
		return nil
	}
	q := make([]VecVirtual, n)
	for j := range q {
		q[j] = ZMM()
	}
	return newBlockAhead(wp, nb, done, off, size, q...)
}

// next, at the top of the loop body, points the reloads at the next
// block, or at this one on the last (nothing on a nil blockAhead).
func (b *blockAhead) next() {
	if b == nil {
		return
	}
	LEAQ(Mem{Base: b.wp, Disp: b.size}, b.np)
	CMPQ(b.nb, Imm(1))
	CMOVQEQ(b.wp, b.np)
}

// reload refills q[j] from the next block; call it once q[j] is used.
func (b *blockAhead) reload(j int) {
	loadVec(Mem{Base: b.np, Disp: b.off + int(b.q[j].Size())*j}, b.q[j])
}

// loadVec is an unaligned load at the register's width.
func loadVec(m Mem, v VecVirtual) {
	if v.Size() == 64 {
		VMOVDQU64(m, v)
	} else {
		VMOVDQU(m, v)
	}
}
