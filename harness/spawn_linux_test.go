package harness

import (
	"bytes"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A child started by startUnpinned from a thread pinned to CPU 0 may
// still run on every CPU (cmd.Start from that thread would confine it
// to CPU 0, as the old anchor runs were).
func TestStartUnpinnedFromPinnedThread(t *testing.T) {
	var mine unix.CPUSet
	if err := unix.SchedGetaffinity(0, &mine); err != nil || mine.Count() < 2 {
		t.Skipf("needs 2 CPUs to tell the masks apart (have %d, %v)", mine.Count(), err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var one unix.CPUSet
	one.Set(0)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		t.Skip(err)
	}
	defer unix.SchedSetaffinity(0, &mine)
	allowed := func(start func(*exec.Cmd) error) string {
		cmd := exec.Command("grep", "Cpus_allowed_list", "/proc/self/status")
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := start(cmd); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(strings.TrimPrefix(out.String(), "Cpus_allowed_list:"))
	}
	if got := allowed((*exec.Cmd).Start); got != "0" {
		t.Skipf("a child of a thread pinned to CPU 0 runs on %q here: the inheritance this guards against does not apply", got)
	}
	if got := allowed(startUnpinned); got == "0" {
		t.Errorf("startUnpinned's child is confined to CPU 0 like its parent thread")
	}
}
