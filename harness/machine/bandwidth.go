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
	size &^= int64(512*threads - 1)
	buf, release := hugemem.Alloc(int(size))
	defer release()
	for i := range buf { // fault every page in before timing
		if i%4096 == 0 {
			buf[i] = 1
		}
	}
	bw := Bandwidth{Threads: threads, Bytes: size}
	part := size / int64(threads) &^ 511
	run := func(f func(k int)) time.Duration {
		var wg sync.WaitGroup
		start := time.Now()
		for k := 0; k < threads; k++ {
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
	var sink uint64
	var mu sync.Mutex
	for r := 0; r < reps; r++ {
		d := run(func(k int) {
			s := kernels.SumU64(buf[int64(k)*part : int64(k+1)*part])
			mu.Lock()
			sink += s
			mu.Unlock()
		})
		bw.ReadGBs = max(bw.ReadGBs, float64(part*int64(threads))/d.Seconds()/1e9)
	}
	half := size / 2 / int64(threads) &^ 511
	for r := 0; r < reps; r++ {
		d := run(func(k int) {
			src := buf[int64(k)*half : int64(k+1)*half]
			dst := buf[size/2+int64(k)*half : size/2+int64(k+1)*half]
			copy(dst, src)
		})
		bw.CopyGBs = max(bw.CopyGBs, float64(2*half*int64(threads))/d.Seconds()/1e9)
	}
	runtime.KeepAlive(sink)
	return bw
}
