//go:build windows

package pool

import (
	"fmt"

	"golang.org/x/sys/windows"
)

var (
	kernel32                  = windows.NewLazySystemDLL("kernel32.dll")
	procSetThreadAffinityMask = kernel32.NewProc("SetThreadAffinityMask")
)

// pinThread binds the calling OS thread to one CPU of its processor
// group (CPUs 0-63).
func pinThread(cpu int) error {
	if cpu >= 64 {
		return fmt.Errorf("CPU %d is outside processor group 0", cpu)
	}
	r, _, err := procSetThreadAffinityMask.Call(uintptr(windows.CurrentThread()), uintptr(1)<<cpu)
	if r == 0 {
		return fmt.Errorf("SetThreadAffinityMask: %v", err)
	}
	return nil
}

func threadID() int { return int(windows.GetCurrentThreadId()) }
