//go:build !linux

package hostload

import (
	"fmt"
	"runtime"
	"time"
)

func take() (Snapshot, error) {
	return Snapshot{}, fmt.Errorf("host load is measured from /proc/stat, which %s does not have", runtime.GOOS)
}

// SelfCPU is unknown here; Between never gets valid snapshots anyway.
func SelfCPU() time.Duration { return 0 }

// RunDelay needs Linux's per-thread schedstat.
func RunDelay(tids []int) (time.Duration, error) {
	return 0, fmt.Errorf("run-queue delay is read from /proc/self/task/*/schedstat, which %s does not have", runtime.GOOS)
}
