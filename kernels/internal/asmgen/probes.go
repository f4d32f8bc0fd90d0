package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Machine probes for the harness: a memory read loop (read bandwidth)
// and a multiply-accumulate loop (the int8 peak).

// sumU64AVX2 adds up n bytes (a multiple of 256) as uint64 words: the
// memory bandwidth probe. Eight independent 256-bit accumulators keep
// enough loads in flight to saturate the memory system rather than the
// add latency.
func sumU64AVX2() { sumU64YMM("sumU64AVX2", false) }

// sumU64PrefetchAVX2 is sumU64AVX2 with the GEMV's software prefetch
// (sumU64PrefetchAVX512).
func sumU64PrefetchAVX2() { sumU64YMM("sumU64PrefetchAVX2", true) }

func sumU64YMM(name string, prefetch bool) {
	p, n, pf := sumU64Frame(name, prefetch)
	acc := zeroedY(8)
	l := sumU64Loop("sum", "psum", p, n, pf)
	for i := range acc {
		VPADDQ(Mem{Base: p, Disp: 32 * i}, acc[i], acc[i])
	}
	for i := range acc {
		VPADDQ(Mem{Base: p, Disp: 256 + 32*i}, acc[i], acc[i])
	}
	ADDQ(U32(512), p)
	SUBQ(U32(512), n)
	JMP(LabelRef(l + "loop"))
	Label(l + "done")
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

// int8PeakAVX512 issues n rounds of 12 independent vpdpbusd (ZMM, 64
// u8×s8 multiply-adds each) on registers only: the machine's int8
// multiply-accumulate peak, against which prefill GEMMs are judged.
func int8PeakAVX512() {
	int8PeakKernel("int8PeakAVX512", ZMM, func(a, acc VecVirtual) { vpdpbusd(a, a, acc) })
}

// int8PeakAVX2 is the same with vpmaddubsw (YMM, 32 u8×s8 products
// summed in pairs), AVX2's int8 multiply.
func int8PeakAVX2() {
	int8PeakKernel("int8PeakAVX2", YMM, func(a, acc VecVirtual) { VPMADDUBSW(a, acc, acc) })
}

// int8PeakKernel emits a probe: n rounds of mac on twelve independent
// accumulators (started as copies of a register of ones), no loads, so
// the multiply ports bound it.
func int8PeakKernel(name string, vec func() VecVirtual, mac func(a, acc VecVirtual)) {
	TEXT(name, NOSPLIT, "func(n int)")
	n := Load(Param("n"), GP64())
	a := vec()
	broadcastConst(a, 0x01010101)
	var acc [12]VecVirtual
	for i := range acc {
		acc[i] = vec()
		if a.Size() == 64 {
			VMOVDQA64(a, acc[i])
		} else {
			VMOVDQA(a, acc[i])
		}
	}
	Label(name + "loop")
	for i := range acc {
		mac(a, acc[i])
	}
	DECQ(n)
	JNZ(LabelRef(name + "loop"))
	VZEROUPPER()
	RET()
}

// sumU64Frame opens a read probe: func(p *byte, n int) uint64, or with
// prefetch func(p *byte, n, pf int) uint64 (pf nil without).
func sumU64Frame(name string, prefetch bool) (p, n, pf Register) {
	if prefetch {
		TEXT(name, NOSPLIT, "func(p *byte, n, pf int) uint64")
	} else {
		TEXT(name, NOSPLIT, "func(p *byte, n int) uint64")
	}
	Pragma("noescape")
	p = Load(Param("p"), GP64())
	n = Load(Param("n"), GP64())
	if prefetch {
		pf = Load(Param("pf"), GP64())
	}
	return p, n, pf
}

// sumU64Loop opens a probe's loop over n bytes, 512 at a time, with the
// prefetches when pf is set, and returns its label prefix: plain, or
// prefetching for the prefetching probe.
func sumU64Loop(plain, prefetching string, p, n, pf Register) string {
	label := plain
	if pf != nil {
		label = prefetching
	}
	blockLoop(n, label+"loop", label+"done")
	if pf != nil {
		prefetchBlock(p, pf, 8)
	}
	return label
}

// sumU64AVX512 is sumU64AVX2 with 64-byte loads: one load per cache
// line, as the memory system delivers them. (A C check of the "41 GB/s
// with ZMM loads" some tools report found the compiler had dropped six of
// the eight accumulators; with all eight, one core reads ~15 GB/s here
// either way.)
func sumU64AVX512() { sumU64ZMM("sumU64AVX512", false) }

// sumU64PrefetchAVX512 is sumU64AVX512 with the decode GEMV's software
// prefetch (prefetchBlock: each line pf bytes ahead into L1 and 2·pf
// into L2), func(p *byte, n, pf int) uint64: the read the GEMV is up
// against when the hardware prefetchers alone fall short.
func sumU64PrefetchAVX512() { sumU64ZMM("sumU64PrefetchAVX512", true) }

func sumU64ZMM(name string, prefetch bool) {
	p, n, pf := sumU64Frame(name, prefetch)
	var acc [8]VecVirtual
	for k := range acc {
		acc[k] = ZMM()
		VPXORQ(acc[k], acc[k], acc[k])
	}
	l := sumU64Loop("zsum", "zpsum", p, n, pf)
	for k := range acc {
		VPADDQ(Mem{Base: p, Disp: 64 * k}, acc[k], acc[k])
	}
	ADDQ(U32(512), p)
	SUBQ(U32(512), n)
	JMP(LabelRef(l + "loop"))
	Label(l + "done")
	for k := 1; k < 8; k++ {
		VPADDQ(acc[k], acc[0], acc[0])
	}
	y, x := YMM(), XMM()
	VEXTRACTI64X4(Imm(1), acc[0], y)
	VPADDQ(y, acc[0].AsY(), y)
	VEXTRACTI128(Imm(1), y, x)
	VPADDQ(x, y.AsX(), x)
	t := XMM()
	VPSHUFD(Imm(0x4e), x, t)
	VPADDQ(t, x, x)
	r := GP64()
	VMOVQ(x, r)
	VZEROUPPER()
	Store(r, ReturnIndex(0))
	RET()
}

// int8PeakAVXVNNI is int8PeakAVX512 in 256-bit registers, re-encoded as
// VEX (AVX-VNNI, vexvnni.go): the roof of the AVX-VNNI table's prompt
// kernels (Alder Lake), against which its prefill is reported. Twelve
// chains plus one register fit Y0-Y15, as VEX requires.
func int8PeakAVXVNNI() {
	int8PeakKernel("int8PeakAVXVNNI", YMM, func(a, acc VecVirtual) { vpdpbusd(a, a, acc) })
}
