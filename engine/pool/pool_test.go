package pool

import (
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

type sumTask struct {
	data    []int64
	out     []int64 // per worker
	hits    atomic.Int64
	chunk   int
	unalign atomic.Int64 // pieces not starting on a chunk boundary
	pieces  atomic.Int64
}

func (s *sumTask) Run(w, a, b int) {
	for i := a; i < b; i++ {
		s.out[w] += s.data[i]
	}
	s.hits.Add(int64(b - a))
	s.pieces.Add(1)
	if s.chunk > 0 && a%s.chunk != 0 {
		s.unalign.Add(1)
	}
}

type driver struct {
	p      *Pool
	t      *sumTask
	reps   int
	guided bool
}

func (d *driver) Main() {
	for r := 0; r < d.reps; r++ {
		if d.guided {
			d.p.ParallelGuided(d.t, len(d.t.data), 7)
		} else {
			d.p.Parallel(d.t, len(d.t.data), 7)
		}
	}
}

// Both chunkings hand out every index exactly once, in pieces that
// start on chunk boundaries; guided chunking uses fewer pieces.
func TestParallelCoversEveryIndexOnce(t *testing.T) {
	for _, guided := range []bool{false, true} {
		for _, n := range []int{1, 2, 3} {
			p := New(n, nil)
			task := &sumTask{data: make([]int64, 1001), out: make([]int64, n), chunk: 7}
			var want int64
			for i := range task.data {
				task.data[i] = int64(i)
				want += int64(i)
			}
			d := &driver{p: p, t: task, reps: 50, guided: guided}
			p.Exec(d)
			var got int64
			for _, v := range task.out {
				got += v
			}
			if got != 50*want || task.hits.Load() != 50*1001 || task.unalign.Load() != 0 {
				t.Fatalf("guided=%v n=%d: sum %d want %d, hits %d, %d pieces off a chunk boundary",
					guided, n, got, 50*want, task.hits.Load(), task.unalign.Load())
			}
			if per := task.pieces.Load() / 50; n > 1 && guided && per >= 1001/7 {
				t.Fatalf("n=%d: guided chunking took %d pieces per loop, fixed chunks take %d", n, per, (1001+6)/7)
			}
			p.Close()
		}
	}
}

// Workers park after idling and still wake for the next job.
func TestWakeAfterPark(t *testing.T) {
	p := New(2, nil)
	defer p.Close()
	task := &sumTask{data: make([]int64, 100), out: make([]int64, 2)}
	d := &driver{p: p, t: task, reps: 1}
	for i := 0; i < 20; i++ {
		p.Exec(d)
		if i%5 == 0 {
			// long enough for the helper to park
			for j := 0; j < 3; j++ {
				p.Exec(&sleeper{})
			}
		}
	}
	if task.hits.Load() != 20*100 {
		t.Fatalf("hits %d", task.hits.Load())
	}
}

type sleeper struct{}

func (sleeper) Main() {
	for i := 0; i < 200000; i++ {
	}
}

func TestPinning(t *testing.T) {
	cpus := allowedCPUs(t)
	if len(cpus) == 0 { // not Linux: pinning is reported as unsupported, never claimed
		p := New(2, []int{0, 1})
		defer p.Close()
		for _, w := range p.Workers() {
			if w.Pinned == (w.Err != "") {
				t.Fatalf("worker %d: pinned %v but error %q", w.Worker, w.Pinned, w.Err)
			}
		}
		return
	}
	want := []int{cpus[len(cpus)-1], cpus[0]} // reversed, so an ignored list shows
	p := New(2, want)
	for i, w := range p.Workers() {
		if !w.Pinned || w.Err != "" {
			t.Fatalf("worker %d not pinned to allowed CPU %d: %s", w.Worker, want[i], w.Err)
		}
		if w.CPU != want[i] {
			t.Fatalf("worker %d reports CPU %d, asked for %d", w.Worker, w.CPU, want[i])
		}
		// The kernel's view of the thread: exactly the one CPU.
		if got := threadAllowed(t, w.TID); len(got) != 1 || got[0] != want[i] {
			t.Fatalf("worker %d (thread %d): kernel allows CPUs %v, want [%d]", w.Worker, w.TID, got, want[i])
		}
	}
	// Without a CPU list nothing is pinned, and the reason is given.
	q := New(2, nil)
	for _, w := range q.Workers() {
		if w.Pinned || w.Err == "" || w.CPU != -1 {
			t.Fatalf("unpinned pool reports %+v", w)
		}
	}
	q.Close()
	// A pinned thread must not return to Go's scheduler with its one-CPU
	// mask: goroutines (and processes they start) would inherit it. After
	// Close, no thread of this process may be confined to fewer CPUs
	// than the process is allowed.
	p.Close()
	confined := func() string {
		tasks, _ := os.ReadDir("/proc/self/task")
		for _, e := range tasks {
			tid, _ := strconv.Atoi(e.Name())
			if tid == os.Getpid() {
				// The main thread cannot exit: a worker that ran on it
				// and ended locked leaves it parked for good, never to
				// run another goroutine (Go's "wedged" m0).
				continue
			}
			if got := threadAllowed(t, tid); got != nil && len(got) < len(cpus) {
				return fmt.Sprintf("thread %d still confined to CPUs %v after Close (process allows %v)", tid, got, cpus)
			}
		}
		return ""
	}
	// An exiting locked thread leaves /proc/self/task shortly after its
	// goroutine ends; one that went back to the scheduler never does.
	deadline := time.Now().Add(2 * time.Second)
	for msg := confined(); msg != ""; msg = confined() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A Parallel call allocates nothing.
func TestParallelAllocatesNothing(t *testing.T) {
	p := New(2, nil)
	defer p.Close()
	task := &sumTask{data: make([]int64, 1000), out: make([]int64, 2)}
	d := &driver{p: p, t: task, reps: 10}
	allocs := testing.AllocsPerRun(20, func() { p.Exec(d) })
	if allocs != 0 {
		t.Fatalf("%v allocations per Exec", allocs)
	}
}

// A job that starts while a helper is still between "ready" and its first
// wait must not be lost (it was: the helper read the job counter after
// the job's increment, waited for the next job, and worker 0 waited for
// the helper forever — a hang seen in CI on a loaded 2-core machine).
func TestJobRightAfterNewIsNotLost(t *testing.T) {
	testAfterReady = func(w int) {
		if w == 1 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	defer func() { testAfterReady = nil }()
	p := New(2, nil)
	task := &sumTask{data: make([]int64, 100), out: make([]int64, 2)}
	done := make(chan struct{})
	go func() {
		p.Exec(&driver{p: p, t: task, reps: 1})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		// Not closed: Close would wait for the stuck workers.
		t.Fatal("the first job after New never finished: a helper missed it")
	}
	p.Close()
	if task.hits.Load() != 100 {
		t.Fatalf("hits %d", task.hits.Load())
	}
}

// After Rest the idle helper parks (sleeping) without waiting out
// spinFor, and the next job still wakes it and covers every index.
// (The wait below only bounds a hang: a helper that kept spinning until
// spinFor would park too, so the test checks the state, not the time.)
func TestRestParksAndWakes(t *testing.T) {
	p := New(2, nil)
	defer p.Close()
	task := &sumTask{data: make([]int64, 100), out: make([]int64, 2)}
	d := &driver{p: p, t: task, reps: 3}
	for i := 0; i < 50; i++ {
		p.Exec(d)
		p.Rest()
		deadline := time.Now().Add(5 * time.Second)
		for !p.sleeping[1].Load() {
			if time.Now().After(deadline) {
				t.Fatal("the helper did not park after Rest")
			}
		}
	}
	if task.hits.Load() != 50*3*100 {
		t.Fatalf("hits %d, want %d", task.hits.Load(), 50*3*100)
	}
}
