package measure

import (
	"time"

	"asdsl-bench/harness/hostload"
)

// runLoad measures the share of the machine other processes took during
// an interval of in-process work (hostload: /proc/stat in 10 ms ticks,
// minus this process's own CPU time). It is the measure for runs of a
// second or more, such as phase 7's; the run-queue wait of the math
// threads (hostload.LostClock), which resolves a 4 ms prefill, would
// count there the waits speculation's two worker pools cause each other
// on the same CPUs (17% of a run on a quiet host), which are the
// engine's, not the host's.
type runLoad struct {
	snap  hostload.Snapshot
	own   time.Duration
	snapE error
}

func (r *runLoad) start() {
	r.snap, r.snapE = hostload.Take()
	r.own = hostload.SelfCPU()
}

// stop returns the interval's disturbance, -1 when it could not be read.
func (r *runLoad) stop() float64 {
	if r.snapE != nil {
		return -1
	}
	s1, err := hostload.Take()
	if err != nil {
		return -1
	}
	l, err := hostload.Between(r.snap, s1, hostload.SelfCPU()-r.own)
	if err != nil {
		return -1
	}
	return l.Disturbance()
}
