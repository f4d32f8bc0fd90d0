//go:build unix

package gguf

import (
	"errors"
	"syscall"
)

// processRunning reports whether a process with this id exists (signal
// 0 checks without sending anything; EPERM means it exists but is
// another user's).
func processRunning(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
