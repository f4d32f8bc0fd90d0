//go:build !purego

package kernels

import (
	"unsafe"

	"github.com/klauspost/cpuid/v2"
)

// Registration happens during package variable initialisation, which
// Go completes before any init function runs — so the choice made in
// dispatch.go's init sees every ISA of this build.
var _ = registerAMD64()

func registerAMD64() bool {
	isaTable = append(isaTable, isaEntry{name: "avx2", ranking: 10, ok: hasAVX2, ops: avx2Ops})
	if ok, _ := hasAVX2(); ok {
		sumU64Fast = func(b []byte) uint64 { return sumU64AVX2(&b[0], len(b)) }
	}
	return true
}

func hasAVX2() (bool, string) {
	if !cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3, cpuid.F16C) {
		return false, "needs AVX2, FMA and F16C"
	}
	return true, ""
}

func avx2Ops() Ops {
	o := GenericOps
	o.ISA = "avx2"
	o.DotQ4KQ8K = dotQ4KQ8KAVX2Slices
	o.DotQ6KQ8K = dotQ6KQ8KAVX2Slices
	return o
}

func dotQ6KQ8KAVX2Slices(w []BlockQ6K, a []BlockQ8K) float32 {
	if len(w) == 0 {
		return 0
	}
	_ = a[len(w)-1]
	return dotQ6KQ8KAVX2((*byte)(unsafe.Pointer(&w[0])), (*byte)(unsafe.Pointer(&a[0])), len(w), prefetchDistance)
}

func dotQ4KQ8KAVX2Slices(w []BlockQ4K, a []BlockQ8K) float32 {
	if len(w) == 0 {
		return 0
	}
	_ = a[len(w)-1] // the kernel reads len(w) activation blocks
	return dotQ4KQ8KAVX2((*byte)(unsafe.Pointer(&w[0])), (*byte)(unsafe.Pointer(&a[0])), len(w), prefetchDistance)
}
