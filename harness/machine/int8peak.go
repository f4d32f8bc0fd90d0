package machine

import (
	"time"

	"asdsl-bench/engine"
	"asdsl-bench/engine/pool"
	"asdsl-bench/kernels"
)

// Int8Peak is the machine's int8 multiply-accumulate peak: the roof for
// quantized prompt processing, as read bandwidth is for decode.
type Int8Peak struct {
	Threads int
	GMACs   float64 // u8×s8 products per second, all threads, 1e9
	Instr   string  // the instruction measured ("" without SIMD)
}

// MeasureInt8Peak runs kernels.Int8Peak on threads pinned threads for
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
	threads = max(1, threads)
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
	// On threads pinned where the math threads run: an unpinned pair can
	// share a core for part of a run, and the peak then reads half.
	p2 := pool.New(threads, engine.MathCPUs(threads))
	defer p2.Close()
	task := &peakTask{peak: peak, rounds: rounds, ran: make([][8]int64, threads)}
	for r := 0; r < reps; r++ {
		m := &passMain{p: p2, t: task, n: threads}
		clear(task.ran)
		p2.Exec(m)
		var total int64
		workers := 0
		for _, n := range task.ran {
			total += n[0]
			if n[0] > 0 {
				workers++
			}
		}
		if workers < threads {
			continue // one thread ran two shares: not the peak of threads threads
		}
		p.GMACs = max(p.GMACs, float64(total)/m.d.Seconds()/1e9)
	}
	return p
}

// peakTask runs the peak kernel once per item; ran[w] counts the
// multiply-adds worker w did, on its own cache line.
type peakTask struct {
	peak   func(rounds int) (int64, string)
	rounds int
	ran    [][8]int64
}

func (t *peakTask) Run(w, start, end int) {
	for range end - start {
		n, _ := t.peak(t.rounds)
		t.ran[w][0] += n
	}
}
