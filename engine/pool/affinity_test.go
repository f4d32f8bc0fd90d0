package pool

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// allowedCPUs lists the CPUs this process may run on (nil off Linux).
func allowedCPUs(t *testing.T) []int {
	if runtime.GOOS != "linux" {
		return nil
	}
	return threadAllowed(t, os.Getpid())
}

// threadAllowed reads a thread's Cpus_allowed_list from procfs; nil when
// the thread is gone.
func threadAllowed(t *testing.T, tid int) []int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return parseCPUList(t, strings.TrimSpace(v))
		}
	}
	t.Fatalf("no Cpus_allowed_list for thread %d", tid)
	return nil
}

func parseCPUList(t *testing.T, s string) []int {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			t.Fatalf("cpu list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				t.Fatalf("cpu list %q", s)
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out
}
