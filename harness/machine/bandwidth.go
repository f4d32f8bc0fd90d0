// Package machine describes the computer the benchmarks run on: CPU,
// instruction sets, the kernels chosen, and measured memory bandwidth —
// the roofline every decode figure is compared against.
package machine

import (
	"fmt"
	"time"

	"asdsl-bench/engine"
	"asdsl-bench/engine/hugemem"
	"asdsl-bench/engine/pool"
	"asdsl-bench/kernels"
)

// Bandwidth is a measured memory throughput.
type Bandwidth struct {
	Threads int
	ReadGBs float64 // best pass of the best read pattern
	CopyGBs float64 // bytes read + bytes written per second, best
	Streams int     // streams per thread of the best read pass
	// Prefetch says the best read pass used the decode GEMV's software
	// prefetch (readPattern).
	Prefetch bool
	Passes   int   // read passes timed, all patterns
	Pinned   bool  // the threads ran pinned where the math threads run
	Bytes    int64 // working set
	// Suspect says why the figure still disagrees with the others of the
	// same measurement after it was taken again ("" when consistent).
	Suspect string
}

// Describe says how the figure was taken: best pattern, passes,
// pinning, copy figure, and the suspicion if any.
func (b Bandwidth) Describe() string {
	pin := "pinned"
	if !b.Pinned {
		pin = "not pinned"
	}
	pat := fmt.Sprintf("%d stream(s) per thread", b.Streams)
	if b.Prefetch {
		pat += " with software prefetch"
	}
	s := fmt.Sprintf("best of %d passes, %s, %s; copy %.1f GB/s", b.Passes, pat, pin, b.CopyGBs)
	if b.Suspect != "" {
		s += "; SUSPECT: " + b.Suspect
	}
	return s
}

// readPattern is one way of reading a thread's share: as streams
// interleaved streams (a page of each in turn), or as one stream with
// the decode GEMV's software prefetch (kernels.SumU64Prefetch; several
// streams do not prefetch: pf bytes ahead would fall in another
// stream's page).
type readPattern struct {
	streams  int
	prefetch bool
}

// readPatterns are the read patterns tried; the yardstick keeps the
// best. One core's stream runs as fast as its outstanding misses and
// its hardware prefetchers allow. On some cores several streams keep
// more misses busy, on others (a Zen 5 VM here: 1 stream 30 GB/s, 2
// streams 26, 4 streams 22) they only cost. The same VM has minutes in
// which two threads read about half their usual rate with every plain
// pattern, while the decode GEMV, which prefetches in software, streams
// far more (47 GB/s against a 28 GB/s yardstick). A read that
// prefetches as the GEMV does was then the best pattern: in four such
// samples at 2 threads the best plain pattern read 27.0-29.1 GB/s and
// the prefetching one 32.8-34.9. In ordinary minutes it reads 15-20%
// less (48-51 against 57-61), so it is one more pattern, not a
// replacement: the yardstick keeps the best.
var readPatterns = []readPattern{{1, false}, {2, false}, {4, false}, {1, true}}

// streamStride is how much of one stream is read before the next.
const streamStride = 4096

// unitBytes is the piece of the working set a thread takes at a time,
// handed out as a decode GEMV's rows are (long runs first, then single
// units), so the threads finish together however the host treats them.
const unitBytes = 64 << 10

// MeasureBandwidth reads a working set of size bytes (far larger than the
// caches) on threads threads pinned like a session's math threads, reps
// passes of each read pattern in turn, and keeps the best; then the same
// for a copy between two halves. The buffer comes from hugemem, like the
// repacked weights, so the roofline is the one the weights' own pages
// allow (2 MiB pages read ~13% faster here).
func MeasureBandwidth(threads int, size int64, reps int) Bandwidth {
	r := NewReader(threads, size)
	defer r.Close()
	return r.measure(reps)
}

func (r *Reader) measure(reps int) Bandwidth {
	bw := Bandwidth{Threads: r.threads, Bytes: r.size, Pinned: r.pinned}
	for range reps {
		if gbs, p := r.passEach(); gbs > bw.ReadGBs {
			bw.ReadGBs, bw.Streams, bw.Prefetch = gbs, p.streams, p.prefetch
		}
		bw.Passes += len(readPatterns)
	}
	for range reps {
		bw.CopyGBs = max(bw.CopyGBs, r.copyPass())
	}
	return bw
}

// MeasureBandwidths measures each thread count and cross-checks the
// figures: more threads must not read slower than fewer (by more than
// 10%), and a read must not be slower than half the copy figure (a copy
// counts every byte twice, and reading is the cheaper half). Either
// means a neighbour took a core or the memory for part of the passes:
// the count is measured again with twice the passes, and if it still
// disagrees, Suspect says so. log, when not nil, gets one line per
// re-measurement.
func MeasureBandwidths(counts []int, size int64, reps int, log func(string)) map[int]Bandwidth {
	out := map[int]Bandwidth{}
	for _, t := range counts {
		out[t] = MeasureBandwidth(t, size, reps)
	}
	for _, t := range counts {
		why := inconsistent(out, t)
		if why == "" {
			continue
		}
		if log != nil {
			log(fmt.Sprintf("read bandwidth, %d thread(s): %s; measuring again", t, why))
		}
		again := MeasureBandwidth(t, size, 2*reps)
		again.ReadGBs = max(again.ReadGBs, out[t].ReadGBs)
		again.CopyGBs = max(again.CopyGBs, out[t].CopyGBs)
		again.Passes += out[t].Passes
		out[t] = again
		if why := inconsistent(out, t); why != "" {
			again.Suspect = why
			out[t] = again
		}
	}
	return out
}

// inconsistent says what is wrong with the figure for t threads beside
// the others, or "".
func inconsistent(bw map[int]Bandwidth, t int) string {
	b := bw[t]
	if b.CopyGBs > 0 && b.ReadGBs < 0.5*b.CopyGBs {
		return fmt.Sprintf("read %.1f GB/s is below half the copy figure (%.1f GB/s)", b.ReadGBs, b.CopyGBs)
	}
	for u, o := range bw {
		if u < t && b.ReadGBs < 0.9*o.ReadGBs {
			return fmt.Sprintf("read %.1f GB/s is below the %d-thread figure (%.1f GB/s)", b.ReadGBs, u, o.ReadGBs)
		}
	}
	return ""
}

// Reader measures read bandwidth one pass at a time over a fixed working
// set, so a caller can interleave its passes with those of what it
// compares against the bandwidth (the GEMV roofline): on a shared host
// the machine's speed drifts by tens of percent within a minute, and
// alternating passes see the same drift. Its threads are a pool pinned
// to the CPUs a session of as many math threads uses.
type Reader struct {
	threads int
	size    int64
	buf     []byte
	release func()
	pool    *pool.Pool
	pinned  bool
	read    readTask
	copy    copyTask
}

// NewReader allocates and faults in size bytes (rounded down to whole
// units) for threads threads.
func NewReader(threads int, size int64) *Reader {
	threads = max(1, threads)
	size = max(size&^(2*unitBytes-1), 2*unitBytes)
	buf, release := hugemem.Alloc(int(size))
	for i := 0; i < len(buf); i += 4096 { // fault every page in before timing
		buf[i] = 1
	}
	p := pool.New(threads, engine.MathCPUs(threads))
	pinned := true
	for _, w := range p.Workers() {
		pinned = pinned && w.Pinned
	}
	r := &Reader{threads: threads, size: size, buf: buf, release: release, pool: p, pinned: pinned}
	r.read = readTask{buf: buf, sums: make([][8]uint64, threads)}
	r.copy = copyTask{buf: buf}
	return r
}

// PassEach reads the working set once in each read pattern and returns
// the best GB/s. Its helpers park at once afterwards: PassEach runs
// between the engine's own work on the same CPUs (a tg test's
// repetitions, a batch curve's rounds, the roofline's alternation), and
// helpers spinning for a next pass would take the first half
// millisecond of that work's CPU time.
func (r *Reader) PassEach() float64 {
	gbs, _ := r.passEach()
	r.pool.Rest()
	return gbs
}

// passEach is PassEach with the pattern that read fastest.
func (r *Reader) passEach() (gbs float64, best readPattern) {
	for _, p := range readPatterns {
		if g := r.pass(p); g > gbs {
			gbs, best = g, p
		}
	}
	return gbs, best
}

// pass reads the working set once in pattern p and returns GB/s.
func (r *Reader) pass(p readPattern) float64 {
	r.read.readPattern = p
	d := r.timed(&r.read, len(r.buf)/unitBytes)
	return float64(len(r.buf)) / d.Seconds() / 1e9
}

func (r *Reader) copyPass() float64 {
	n := len(r.buf) / 2 / unitBytes
	d := r.timed(&r.copy, n)
	return float64(2*n*unitBytes) / d.Seconds() / 1e9
}

// Pinned says whether every reading thread is pinned.
func (r *Reader) Pinned() bool { return r.pinned }

// Close frees the working set and stops the threads.
func (r *Reader) Close() {
	r.pool.Close()
	r.release()
}

// timed runs t over n units on the pool and returns the wall time.
func (r *Reader) timed(t pool.Task, n int) time.Duration {
	m := &passMain{p: r.pool, t: t, n: n}
	r.pool.Exec(m)
	return m.d
}

type passMain struct {
	p *pool.Pool
	t pool.Task
	n int
	d time.Duration
}

func (m *passMain) Main() {
	t0 := time.Now()
	m.p.ParallelGuided(m.t, m.n, 1)
	m.d = time.Since(t0)
}

// readTask sums units [start, end) of buf; each worker keeps its sum on
// its own cache line (sums[w]) so the sums cost no coherence traffic.
type readTask struct {
	buf []byte
	readPattern
	sums [][8]uint64
}

func (t *readTask) Run(w, start, end int) {
	run := t.buf[start*unitBytes : end*unitBytes]
	s := min(t.streams, len(run)/streamStride)
	if s <= 1 {
		if t.prefetch {
			t.sums[w][0] += kernels.SumU64Prefetch(run, kernels.DefaultPrefetch)
		} else {
			t.sums[w][0] += kernels.SumU64(run)
		}
		return
	}
	// s equal parts of whole strides, read a stride of each in turn;
	// what is left over is read at the end.
	part := len(run) / s / streamStride * streamStride
	var sum uint64
	for off := 0; off < part; off += streamStride {
		for k := 0; k < s; k++ {
			sum += kernels.SumU64(run[k*part+off : k*part+off+streamStride])
		}
	}
	sum += kernels.SumU64(run[s*part:])
	t.sums[w][0] += sum
}

// copyTask copies units [start, end) of buf's first half to its second.
type copyTask struct{ buf []byte }

func (t *copyTask) Run(_, start, end int) {
	half := len(t.buf) / 2
	copy(t.buf[half+start*unitBytes:half+end*unitBytes], t.buf[start*unitBytes:end*unitBytes])
}
