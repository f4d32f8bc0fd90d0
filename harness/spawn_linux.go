package harness

import (
	"os/exec"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// startUnpinned starts cmd from a fresh OS thread allowed on every CPU.
// A child inherits the CPU mask of the thread that forks it, and the
// harness's threads may be pinned to one CPU each (the engine's math
// threads): a llama-bench anchor started from one ran both its threads
// on that CPU and measured 2 threads at the speed of 1. The thread is
// left locked, so it exits with the goroutine and its changed mask
// never returns to Go's scheduler.
func startUnpinned(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		var all unix.CPUSet
		for i := 0; i < 8*int(unsafe.Sizeof(all)); i++ {
			all.Set(i) // the kernel keeps only the CPUs this process may use
		}
		if err := unix.SchedSetaffinity(0, &all); err != nil {
			done <- err
			return
		}
		done <- cmd.Start()
	}()
	return <-done
}
