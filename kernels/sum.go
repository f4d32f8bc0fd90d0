package kernels

import (
	"sync"
	"unsafe"
)

// SumU64 adds up b (len a multiple of 512) as little-endian uint64
// words. It exists to measure read bandwidth: the SIMD version streams
// memory as fast as loads can be issued. The result keeps the compiler
// and CPU from skipping the reads.
func SumU64(b []byte) uint64 {
	if len(b)%512 != 0 {
		panic("kernels.SumU64: length not a multiple of 512")
	}
	if len(b) == 0 {
		return 0
	}
	if f := sumU64Fast; f != nil {
		return f(b)
	}
	return sumU64Generic(b)
}

// sumU64Fast is set by the architecture file when a SIMD version exists
// and the CPU supports it.
var sumU64Fast func([]byte) uint64

// SumU64Prefetch is SumU64 with the decode GEMV's software prefetch:
// every cache line pf bytes ahead into L1 and 2·pf ahead into L2. The
// sum is SumU64's (a prefetch only warms caches, and past the end of b
// it cannot fault). Without a SIMD version it is SumU64.
func SumU64Prefetch(b []byte, pf int) uint64 {
	if len(b)%512 != 0 {
		panic("kernels.SumU64Prefetch: length not a multiple of 512")
	}
	if len(b) == 0 {
		return 0
	}
	if f := sumU64PrefetchFast; f != nil {
		return f(b, pf)
	}
	return sumU64Generic(b)
}

// sumU64PrefetchFast is sumU64Fast's prefetching twin.
var sumU64PrefetchFast func([]byte, int) uint64

func sumU64Generic(b []byte) uint64 {
	w := unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), len(b)/8)
	var s [8]uint64
	for i := 0; i < len(w); i += 8 {
		for k := 0; k < 8; k++ {
			s[k] += w[i+k]
		}
	}
	return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7]
}

// Int8Peak runs rounds of the int8 multiply-accumulate instruction of
// the best kernel table this CPU supports (Ops.Int8Peak: vpdpbusd on 64
// bytes with AVX-512 VNNI, on 32 with AVX-VNNI, else AVX2 vpmaddubsw on
// 32) and returns how many u8×s8 products it computed and the
// instruction used. Divided by the time it took, that is one core's int8
// peak: quantized GEMMs (prefill) are judged against it, as GEMV
// (decode) is judged against read bandwidth. Without a SIMD table it
// returns 0, "".
func Int8Peak(rounds int) (macs int64, instr string) {
	peak := bestInt8Peak()
	if peak == nil || rounds <= 0 {
		return 0, ""
	}
	return peak(rounds)
}

// bestInt8Peak is the best supported table's probe, looked up once.
var bestInt8Peak = sync.OnceValue(func() func(int) (int64, string) { return defaultChoice().Int8Peak })
