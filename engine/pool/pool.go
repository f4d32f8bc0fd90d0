// Package pool runs the engine's math on a fixed set of OS threads, each
// locked and (where the OS allows) pinned to one CPU.
//
// Concurrency contract: a Pool runs one Main at a time (Exec serialises
// callers). Inside Main, worker 0 — the thread Main runs on — may call
// Parallel to split a loop across all workers; workers synchronise only
// at the start and end of each Parallel, never inside a kernel. Between
// Parallel calls the helpers spin for a short while (the next op usually
// follows within microseconds) and then park on a channel.
package pool

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Task is a loop body: Run handles indices [start, end) on worker w.
// Implementations are long-lived structs whose fields carry the op's
// arguments, so a Parallel call allocates nothing.
type Task interface {
	Run(w, start, end int)
}

// Mainer is the serial driver of a computation (a model's forward pass).
type Mainer interface {
	Main()
}

// spinFor is how long an idle helper polls before parking. Ops of a
// decode step follow each other within microseconds; parking and waking
// through the scheduler costs tens (a futex wake in this VM). With 50 µs
// the TinyLlama mock's decode at 2 threads spent 12% of its CPU time in
// futex wake-ups; 500 µs gave 19.9–23.3 t/s against 17.9–19.5 (same
// session, alternating binaries).
const spinFor = 500 * time.Microsecond

// yieldAfter is how long worker 0 waits for the helpers to finish an op
// before it yields its P (see Parallel). Ops' tails are microseconds.
const yieldAfter = 100 * time.Microsecond

// Pool is a set of pinned worker threads.
type Pool struct {
	n    int
	cpus []int

	mu       sync.Mutex // serialises Exec
	mainReq  chan Mainer
	mainDone chan struct{}

	task      Task
	total     int64
	chunk     int64
	guided    bool
	next      atomic.Int64
	remaining atomic.Int32
	gen       atomic.Uint32
	sleeping  []atomic.Bool
	wake      []chan struct{}
	closed    atomic.Bool
	resting   atomic.Bool // Rest: idle helpers park at once until the next Main

	info  []WorkerInfo
	wg    sync.WaitGroup
	fewPs bool // GOMAXPROCS < workers: spinning helpers must yield

	// Worker 0's time waiting for helpers at the end of Parallel, when
	// clockWaits is set (a time breakdown); only worker 0 touches them.
	clockWaits bool
	waited     time.Duration
}

// WorkerInfo says where a worker thread runs.
type WorkerInfo struct {
	Worker int
	TID    int    // OS thread id (Linux); 0 elsewhere
	CPU    int    // the CPU it is pinned to; -1 when not pinned
	Pinned bool   // pinning succeeded
	Err    string // why pinning failed or was not attempted
}

// New starts n workers. cpus, when not empty, lists one CPU per worker
// to pin it to (len(cpus) must be n).
func New(n int, cpus []int) *Pool {
	if n < 1 {
		n = 1
	}
	if len(cpus) != n {
		cpus = nil
	}
	p := &Pool{n: n, cpus: cpus, mainReq: make(chan Mainer), mainDone: make(chan struct{}),
		sleeping: make([]atomic.Bool, n), wake: make([]chan struct{}, n), info: make([]WorkerInfo, n),
		fewPs: runtime.GOMAXPROCS(0) < n}
	ready := make(chan struct{}, n)
	for w := 0; w < n; w++ {
		p.wake[w] = make(chan struct{}, 1)
		p.wg.Add(1)
		go p.worker(w, ready)
	}
	for w := 0; w < n; w++ {
		<-ready
	}
	return p
}

// testAfterReady, when set (tests only), runs in each worker right after
// it signals ready: a test delays a helper there to open the window in
// which a job starts before the helper has begun waiting.
var testAfterReady func(w int)

// Size is the number of workers.
func (p *Pool) Size() int { return p.n }

// Workers reports each worker's thread and CPU.
func (p *Pool) Workers() []WorkerInfo { return append([]WorkerInfo(nil), p.info...) }

func (p *Pool) worker(w int, ready chan<- struct{}) {
	defer p.wg.Done()
	// The thread stays locked to this goroutine for good: once pinned,
	// its CPU mask is not the process's, and a thread handed back to Go's
	// scheduler with a one-CPU mask would later run other goroutines, and
	// fork other processes, confined to that CPU (a child inherits the
	// mask of the thread that forks it: the gate's A/B children ran both
	// math threads on one core at half speed). A goroutine that exits
	// locked takes its thread with it.
	runtime.LockOSThread()
	inf := WorkerInfo{Worker: w, CPU: -1, TID: threadID()}
	if p.cpus != nil {
		inf.CPU = p.cpus[w]
		if err := pinThread(p.cpus[w]); err != nil {
			inf.Err = err.Error()
		} else {
			inf.Pinned = true
		}
	} else {
		inf.Err = "no CPU list given"
	}
	p.info[w] = inf
	// The generation is read before signalling ready: once New returns, a
	// job may start at any moment, and a helper that read the counter
	// after that job's increment would wait for the next job instead —
	// while worker 0 waits for it to finish this one.
	seen := p.gen.Load()
	ready <- struct{}{}
	if testAfterReady != nil {
		testAfterReady(w)
	}
	if w == 0 {
		for m := range p.mainReq {
			p.resting.Store(false)
			m.Main()
			p.mainDone <- struct{}{}
		}
		return
	}
	for {
		seen = p.waitGen(w, seen)
		if p.closed.Load() {
			return
		}
		p.runChunks(w)
		p.remaining.Add(-1)
	}
}

// waitGen spins, then parks, until a new job generation starts.
func (p *Pool) waitGen(w int, seen uint32) uint32 {
	deadline := time.Now().Add(spinFor)
	for i := 0; ; i++ {
		if g := p.gen.Load(); g != seen {
			return g
		}
		if i&255 == 255 {
			if p.resting.Load() || time.Now().After(deadline) {
				break
			}
			// With fewer Ps than workers (GOMAXPROCS lowered) a spinning
			// thread would hold the P another worker needs. Otherwise never
			// yield: Gosched on a locked thread hands its P off and back
			// through futex wake-ups (12% of a 2-thread decode's CPU time).
			if p.fewPs {
				runtime.Gosched()
			}
		}
	}
	p.sleeping[w].Store(true)
	if g := p.gen.Load(); g != seen {
		// A job arrived while going to sleep: cancel the sleep, unless the
		// starter already claimed it — then its wake-up must be drained.
		if !p.sleeping[w].CompareAndSwap(true, false) {
			<-p.wake[w]
		}
		return g
	}
	<-p.wake[w]
	return p.gen.Load()
}

func (p *Pool) runChunks(w int) {
	t, total, chunk := p.task, p.total, p.chunk
	if p.guided {
		share := 2 * int64(p.n) * chunk
		for {
			s := p.next.Load()
			if s >= total {
				return
			}
			n := max(1, (total-s)/share) * chunk
			if !p.next.CompareAndSwap(s, s+n) {
				continue
			}
			t.Run(w, int(s), int(min(s+n, total)))
		}
	}
	for {
		s := p.next.Add(chunk) - chunk
		if s >= total {
			return
		}
		t.Run(w, int(s), int(min(s+chunk, total)))
	}
}

// Exec runs m.Main on worker 0 and waits for it. Concurrent callers are
// served one at a time.
func (p *Pool) Exec(m Mainer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mainReq <- m
	<-p.mainDone
}

// Rest parks the idle helpers now instead of after spinFor, until the
// next Exec. A caller that turns to another pool on the same CPUs calls
// it: speculative decoding alternates a draft's pool and the target's,
// and each one's helpers, spinning for the next op that was not coming,
// took CPU time from the other's math. Spinning stays the rule between
// the Execs of one pool (decode's tokens), where it saves a wake-up.
func (p *Pool) Rest() { p.resting.Store(true) }

// ParallelGuided is Parallel with guided chunking: each worker takes
// half of an even share of what remains, in whole multiples of chunk
// (at least one). A loop of equal-cost items (a decode GEMV's rows)
// starts with long contiguous runs — few cold starts for the prefetcher
// — and ends in pieces of one chunk, so the workers finish together
// however the machine treated them.
func (p *Pool) ParallelGuided(t Task, total, chunk int) {
	p.guided = true
	p.Parallel(t, total, chunk)
	p.guided = false
}

// Parallel runs t over [0, total) on all workers, handing out chunks of
// the given size (dynamic chunking: a worker that finishes early takes
// the next chunk). It must be called from within Main.
func (p *Pool) Parallel(t Task, total, chunk int) {
	if total <= 0 {
		return
	}
	chunk = max(1, chunk)
	if p.n == 1 || total <= chunk {
		t.Run(0, 0, total)
		return
	}
	p.task, p.total, p.chunk = t, int64(total), int64(chunk)
	p.next.Store(0)
	p.remaining.Store(int32(p.n - 1))
	p.gen.Add(1)
	for w := 1; w < p.n; w++ {
		if p.sleeping[w].CompareAndSwap(true, false) {
			p.wake[w] <- struct{}{}
		}
	}
	p.runChunks(0)
	var since, waitStart time.Time
	if p.clockWaits {
		waitStart = time.Now()
	}
	for i := 1; p.remaining.Load() != 0; i++ {
		if i&1023 != 0 {
			continue
		}
		// A helper without a P cannot finish while this thread spins on
		// one: yield at once where there are fewer Ps than workers, else
		// only after a long wait (a helper woken from its park while other
		// goroutines hold the remaining Ps). Yielding at every short wait
		// cost futex hand-offs: Gosched on a locked thread passes its P to
		// another thread and waits for it back, which a 2-thread decode
		// did at most op boundaries.
		if p.fewPs {
			runtime.Gosched()
		} else if since.IsZero() {
			since = time.Now()
		} else if time.Since(since) > yieldAfter {
			runtime.Gosched()
		}
	}
	if p.clockWaits {
		p.waited += time.Since(waitStart)
	}
	p.task = nil
}

// ClockWaits turns the wait clock on or off (see Waited). Call it
// between Execs, not from within one.
func (p *Pool) ClockWaits(on bool) { p.clockWaits = on }

// Waited is the total time worker 0 has spent, since the wait clock was
// first turned on, waiting at the end of Parallel for helpers to finish
// their chunks: a parallel op's cost of ending together. Read it from
// Main or between Execs.
func (p *Pool) Waited() time.Duration { return p.waited }

// Close stops the workers.
func (p *Pool) Close() {
	if p.closed.Swap(true) {
		return
	}
	close(p.mainReq)
	p.gen.Add(1)
	for w := 1; w < p.n; w++ {
		if p.sleeping[w].CompareAndSwap(true, false) {
			p.wake[w] <- struct{}{}
		}
	}
	p.wg.Wait()
}
