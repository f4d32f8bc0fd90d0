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
