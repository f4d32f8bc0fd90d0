package measure

import (
	"time"

	"asdsl-bench/engine"
	"asdsl-bench/harness/hostload"
)

// mathTIDs are the OS threads of the sessions' worker pools (Linux; none
// where the OS gives no thread ids).
func mathTIDs(ss ...*engine.Session) []int {
	var tids []int
	for _, s := range ss {
		if s == nil {
			continue
		}
		for _, w := range s.Workers() {
			if w.TID != 0 {
				tids = append(tids, w.TID)
			}
		}
	}
	return tids
}

// runLoad measures how disturbed an interval of in-process work was: the
// larger of the share of the machine other processes took (10 ms ticks)
// and the share of the interval the math threads waited for a CPU
// (nanoseconds). Read outside timed regions.
type runLoad struct {
	lost  *hostload.LostClock
	snap  hostload.Snapshot
	own   time.Duration
	t0    time.Time
	snapE error
}

func newRunLoad(tids []int) *runLoad { return &runLoad{lost: hostload.NewLostClock(tids)} }

func (r *runLoad) start() {
	r.snap, r.snapE = hostload.Take()
	r.own = hostload.SelfCPU()
	r.lost.Restart()
	r.t0 = time.Now()
}

// stop returns the interval's disturbance, -1 when nothing could be read.
func (r *runLoad) stop() float64 {
	d := r.lost.Share(time.Since(r.t0))
	if r.snapE == nil {
		if s1, err := hostload.Take(); err == nil {
			if l, err := hostload.Between(r.snap, s1, hostload.SelfCPU()-r.own); err == nil {
				d = max(d, l.Disturbance())
			}
		}
	}
	return d
}
