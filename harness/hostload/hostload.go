// Package hostload measures how much of the machine other processes took
// while a benchmark ran: the CPU time every process used (from
// /proc/stat) minus the time the benchmark's own process used, as a
// share of all CPUs, and the hypervisor's steal time.
//
// A timing taken while another process held a core measures the
// scheduler, not the engine: the gate uses these figures to call such a
// sample disturbed, and to say "inconclusive" where a verdict would
// otherwise blame the code for the host's load.
package hostload

import (
	"fmt"
	"time"
)

// Snapshot is the machine's cumulative CPU accounting at one instant.
type Snapshot struct {
	Busy, Steal, Total time.Duration // summed over CPUs
	CPUs               int
	ok                 bool
}

// Load is what happened between two snapshots.
type Load struct {
	// Other is the share of all CPUs' time used by processes other than
	// the measured one (0..1).
	Other float64 `json:"other"`
	// Steal is the share of all CPUs' time the hypervisor gave to other
	// guests (0..1).
	Steal float64 `json:"steal"`
}

// Disturbance is the share of the machine the measurement did not have:
// other processes plus steal.
func (l Load) Disturbance() float64 { return l.Other + l.Steal }

func (l Load) String() string {
	return fmt.Sprintf("other processes %.0f%%, steal %.0f%%", 100*l.Other, 100*l.Steal)
}

// Take reads the machine's CPU accounting. It fails where the platform
// does not expose it (then the caller reports the load as unmeasured).
func Take() (Snapshot, error) { return take() }

// Between returns the load between two snapshots, given the CPU time the
// measured process used in that interval.
func Between(a, b Snapshot, own time.Duration) (Load, error) {
	if !a.ok || !b.ok {
		return Load{}, fmt.Errorf("host load not measured")
	}
	total := b.Total - a.Total
	if total <= 0 {
		// Too short for the kernel's tick: nothing can be said, and
		// nothing was seen.
		return Load{}, nil
	}
	other := float64(b.Busy-a.Busy-own) / float64(total)
	steal := float64(b.Steal-a.Steal) / float64(total)
	return Load{Other: clamp01(other), Steal: clamp01(steal)}, nil
}

func clamp01(x float64) float64 {
	switch {
	case x < 0:
		return 0
	case x > 1:
		return 1
	}
	return x
}

// LostClock reads the run-queue delay (RunDelay) of a benchmark's math
// threads around a timed interval. Read it outside the interval: a read
// costs a few microseconds per thread.
type LostClock struct {
	tids []int
	at   time.Duration
	ok   bool
}

// NewLostClock starts a clock on the given threads of this process.
func NewLostClock(tids []int) *LostClock {
	c := &LostClock{tids: tids}
	c.Restart()
	return c
}

// Restart marks the start of the next interval.
func (c *LostClock) Restart() {
	var err error
	c.at, err = RunDelay(c.tids)
	c.ok = err == nil && len(c.tids) > 0
}

// Share is the threads' delay since Restart as a share of the timed
// interval (capped at 1), or -1 when it cannot be read. Summed over the
// threads, it bounds from above what the waits cost work that waits for
// its slowest thread.
func (c *LostClock) Share(timed time.Duration) float64 {
	if !c.ok || timed <= 0 {
		return -1
	}
	now, err := RunDelay(c.tids)
	if err != nil {
		return -1
	}
	return min(1, float64(now-c.at)/float64(timed))
}
