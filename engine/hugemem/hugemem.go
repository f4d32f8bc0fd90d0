// Package hugemem allocates the large, long-lived buffers the decode
// path streams (the repacked weights) in memory the OS may back with
// 2 MiB pages.
//
// Why: decode reads gigabytes per token front to back. With 4 KiB pages
// every 4 KiB is a new translation, and the second-level TLB (about 2k
// entries, 8 MiB) holds none of them by the time the stream comes back,
// so each page costs a page walk in the middle of the stream. On this
// project's VM (Linux, transparent huge pages in "madvise" mode) 2 MiB
// pages raised a one-thread streaming read from 13.5 to 15.3 GB/s and the
// Q4_K GEMV by 9–18% at one thread (README, under Commands).
//
// Alloc never fails for want of huge pages: where they cannot be had
// (another OS, THP disabled, mmap refused) it returns ordinary memory.
package hugemem

import "sync"

// PageSize is the huge page size the allocator aligns to.
const PageSize = 2 << 20

// minBytes: smaller buffers come from the Go heap. A buffer under one
// huge page cannot use one, and small ones are not worth a mapping.
const minBytes = 4 * PageSize

// Alloc returns n zeroed bytes and a function that releases them. The
// release function may be called more than once (only the first call
// frees); after it, the bytes must not be used. Heap-backed buffers
// release to the garbage collector.
func Alloc(n int) (b []byte, release func()) {
	if n >= minBytes {
		if b, unmap := allocHuge(n); b != nil {
			var once sync.Once
			return b, func() { once.Do(unmap) }
		}
	}
	return make([]byte, n), func() {}
}

// Mode describes what the OS does with the advice, for `machine` and
// reports, e.g. "transparent huge pages: madvise (repacked weights
// advise 2 MiB pages)".
func Mode() string { return mode() }

// Available says whether Alloc can return memory in 2 MiB pages here
// (Linux with transparent huge pages "always" or "madvise"): where it
// cannot, copying a mapping into Alloc's memory gains nothing.
func Available() bool { return available() }
