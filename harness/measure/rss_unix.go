//go:build unix

package measure

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// peakRSS is the process's maximum resident set size in bytes.
func peakRSS() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return ru.Maxrss // bytes on macOS
	}
	return ru.Maxrss * 1024 // KiB on Linux
}
