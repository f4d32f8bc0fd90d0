// Package machine describes the computer the benchmarks run on: CPU,
// instruction sets, the kernels chosen, and measured memory bandwidth —
// the roofline every decode figure is compared against.
package machine

import (
	"runtime"
	"sync"
	"time"

	"asdsl-bench/engine/hugemem"
	"asdsl-bench/kernels"
)

// Bandwidth is a measured memory throughput.
type Bandwidth struct {
	Threads int
	ReadGBs float64 // best of the repetitions
	CopyGBs float64 // bytes read + bytes written per second, best
	Bytes   int64   // working set
}

// MeasureBandwidth reads a working set of size bytes (far larger than the
// caches) with the given number of threads, reps times, and keeps the
// best; then the same for a copy between two halves. Each thread works on
// its own contiguous slice, as a row-parallel GEMV does. The buffer comes
// from hugemem, like the repacked weights, so the roofline is the one the
// weights' own pages allow (2 MiB pages read ~13% faster here).
func MeasureBandwidth(threads int, size int64, reps int) Bandwidth {
	r := NewReader(threads, size)
	defer r.Close()
	bw := Bandwidth{Threads: threads, Bytes: r.size}
	for range reps {
		bw.ReadGBs = max(bw.ReadGBs, r.Pass())
	}
	half := r.size / 2 / int64(threads) &^ 511
	for range reps {
		d := r.run(func(k int) {
			src := r.buf[int64(k)*half : int64(k+1)*half]
			dst := r.buf[r.size/2+int64(k)*half : r.size/2+int64(k+1)*half]
			copy(dst, src)
		})
		bw.CopyGBs = max(bw.CopyGBs, float64(2*half*int64(threads))/d.Seconds()/1e9)
	}
	return bw
}

// Reader measures read bandwidth one pass at a time over a fixed working
// set, so a caller can interleave its passes with those of what it
// compares against the bandwidth (the GEMV roofline): on a shared host
// the machine's speed drifts by tens of percent within a minute, and
// alternating passes see the same drift.
type Reader struct {
	threads int
	size    int64
	part    int64
	buf     []byte
	release func()
	sink    uint64
	mu      sync.Mutex
}

// NewReader allocates and faults in size bytes (rounded down to whole
// 512-byte steps per thread) for threads threads.
func NewReader(threads int, size int64) *Reader {
	threads = max(1, threads)
	size &^= int64(512*threads - 1)
	buf, release := hugemem.Alloc(int(size))
	for i := 0; i < len(buf); i += 4096 { // fault every page in before timing
		buf[i] = 1
	}
	return &Reader{threads: threads, size: size, part: size / int64(threads) &^ 511, buf: buf, release: release}
}

// Pass reads the working set once, each thread its own contiguous
// slice, and returns GB/s.
func (r *Reader) Pass() float64 {
	d := r.run(func(k int) {
		s := kernels.SumU64(r.buf[int64(k)*r.part : int64(k+1)*r.part])
		r.mu.Lock()
		r.sink += s // keeps the reads from being skipped
		r.mu.Unlock()
	})
	return float64(r.part*int64(r.threads)) / d.Seconds() / 1e9
}

// Close frees the working set.
func (r *Reader) Close() { r.release() }

// run times f(k) on threads locked OS threads, one per k.
func (r *Reader) run(f func(k int)) time.Duration {
	var wg sync.WaitGroup
	start := time.Now()
	for k := 0; k < r.threads; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			f(k)
		}()
	}
	wg.Wait()
	return time.Since(start)
}
