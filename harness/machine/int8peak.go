package machine

import (
	"runtime"
	"sync"
	"time"

	"asdsl-bench/kernels"
)

// Int8Peak is the machine's int8 multiply-accumulate peak: the roof for
// quantized prompt processing, as read bandwidth is for decode.
type Int8Peak struct {
	Threads int
	GMACs   float64 // u8×s8 products per second, all threads, 1e9
	Instr   string  // the instruction measured ("" without SIMD)
}

// MeasureInt8Peak runs kernels.Int8Peak on threads locked OS threads for
// about dur and keeps the best of reps runs. The instruction stream has
// no loads and twelve independent chains, so it is bound by the
// multiply ports, at whatever clock the core holds under that load.
func MeasureInt8Peak(threads int, dur time.Duration, reps int) Int8Peak {
	return MeasureInt8PeakOf(kernels.Int8Peak, threads, dur, reps)
}

// MeasureInt8PeakOf is MeasureInt8Peak for one kernel table's
// instruction (Ops.Int8Peak): a prompt run on the AVX2 or AVX-VNNI table
// is judged against what that table can issue, not against AVX-512.
func MeasureInt8PeakOf(peak func(rounds int) (int64, string), threads int, dur time.Duration, reps int) Int8Peak {
	p := Int8Peak{Threads: threads}
	if peak == nil {
		return p
	}
	// Calibrate rounds to about dur on one thread.
	rounds := 1 << 16
	for {
		t0 := time.Now()
		_, instr := peak(rounds)
		p.Instr = instr
		if instr == "" {
			return p
		}
		if el := time.Since(t0); el > dur/8 || rounds > 1<<30 {
			rounds = int(float64(rounds) * float64(dur) / float64(max(el, time.Microsecond)))
			break
		}
		rounds *= 4
	}
	for r := 0; r < reps; r++ {
		var wg sync.WaitGroup
		var total int64
		var mu sync.Mutex
		t0 := time.Now()
		for k := 0; k < threads; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				n, _ := peak(rounds)
				mu.Lock()
				total += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		p.GMACs = max(p.GMACs, float64(total)/time.Since(t0).Seconds()/1e9)
	}
	return p
}
