//go:build unix

package measure

import (
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// peakRSS is the process's maximum resident set size in bytes: since
// the last resetPeakRSS where that worked, else over its lifetime.
func peakRSS() int64 {
	if runtime.GOOS == "linux" {
		if hwm, ok := vmHWM(); ok {
			return hwm
		}
	}
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return ru.Maxrss // bytes on macOS
	}
	return ru.Maxrss * 1024 // KiB on Linux
}

// resetPeakRSS starts a new high-water mark, so each bench reports its
// own peak and not the largest of every bench before it in the process.
// Linux resets VmHWM when "5" is written to /proc/self/clear_refs (no
// privilege needed for one's own process); elsewhere it reports false
// and the peak stays the process's lifetime maximum.
func resetPeakRSS() bool {
	if runtime.GOOS != "linux" {
		return false
	}
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// vmHWM reads the resident set's high-water mark from /proc/self/status.
func vmHWM() (int64, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}
