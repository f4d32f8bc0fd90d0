package hostload

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pinHere locks the goroutine to its thread and pins the thread to cpu.
// The goroutine must end without unlocking: the runtime then retires the
// thread with its affinity.
func pinHere(cpu int) (tid int, err error) {
	runtime.LockOSThread()
	var set unix.CPUSet
	set.Set(cpu)
	return unix.Gettid(), unix.SchedSetaffinity(0, &set)
}

// Two threads that spin on one CPU share it: each waits on the run queue
// about half the time, and RunDelay must see those waits. This is what
// tells a preempted prefill from a slow one.
func TestRunDelaySeesACompetitor(t *testing.T) {
	var stop atomic.Bool
	started := make(chan error)
	go func() {
		_, err := pinHere(0)
		started <- err
		for err == nil && !stop.Load() {
		}
	}()
	if err := <-started; err != nil {
		t.Skipf("cannot pin a thread: %v", err)
	}
	defer stop.Store(true)

	done := make(chan time.Duration)
	go func() {
		tid, err := pinHere(0)
		if err != nil {
			t.Error(err)
			done <- 0
			return
		}
		d0, err := RunDelay([]int{tid})
		if err != nil {
			t.Error(err)
			done <- 0
			return
		}
		start := time.Now()
		for time.Since(start) < 200*time.Millisecond {
		}
		d1, err := RunDelay([]int{tid})
		if err != nil {
			t.Error(err)
		}
		done <- d1 - d0
	}()
	waited := <-done
	// CFS gives each of the two about 100 ms of the 200; a quarter of
	// that is the floor no fair scheduler goes under.
	if waited < 25*time.Millisecond {
		t.Fatalf("a thread sharing its CPU with a spinning one waited %v of 200 ms on the run queue", waited)
	}
	t.Logf("waited %v of 200 ms", waited)
}

func TestRunDelayRejectsAThreadNotOurs(t *testing.T) {
	if _, err := RunDelay([]int{1 << 30}); err == nil {
		t.Fatal("RunDelay read a thread that does not exist")
	}
}
