//go:build linux

package measure

import (
	"fmt"
	"strings"

	perf "github.com/hodgesds/perf-utils"
)

// openCounters opens hardware and software counters on each math thread
// (perf_event_open counts one thread unless asked to follow children).
// Hardware counters are often absent in VMs: then the reason is kept and
// the software ones are still collected.
func openCounters(tids []int) *counterSet {
	cs := &counterSet{}
	for _, tid := range tids {
		hw, err := perf.NewHardwareProfiler(tid, -1, perf.CpuCyclesProfiler|perf.CpuInstrProfiler|perf.CacheRefProfiler|perf.CacheMissesProfiler)
		if err != nil || hw == nil || !hw.HasProfilers() {
			if cs.hwErr == "" {
				cs.hwErr = hardwareReason(err)
			}
		} else if err := hw.Start(); err != nil {
			cs.hwErr = fmt.Sprintf("starting hardware counters: %v", err)
			hw.Close()
		} else {
			cs.hw = append(cs.hw, hw)
		}
		sw, err := perf.NewSoftwareProfiler(tid, -1, perf.TaskClockProfiler|perf.ContextSwitchProfiler|perf.CpuMigrationProfiler|perf.PageFaultProfiler)
		if err != nil || sw == nil || !sw.HasProfilers() {
			if cs.swErr == "" {
				cs.swErr = fmt.Sprintf("perf_event_open for software events failed: %v", err)
			}
			continue
		}
		if err := sw.Start(); err != nil {
			cs.swErr = fmt.Sprintf("starting software counters: %v", err)
			sw.Close()
			continue
		}
		cs.sw = append(cs.sw, sw)
	}
	if len(cs.hw) > 0 {
		cs.hwErr = ""
	}
	return cs
}

type counterSet struct {
	hw           []perf.HardwareProfiler
	sw           []perf.SoftwareProfiler
	hwErr, swErr string
}

func (cs *counterSet) reset() {
	for _, p := range cs.hw {
		p.Reset()
	}
	for _, p := range cs.sw {
		p.Reset()
	}
}

// read sums the counters over the threads and closes them; a second
// read finds none left (so an early return can close them by reading).
func (cs *counterSet) read() Counters {
	defer func() { cs.hw, cs.sw = nil, nil }()
	c := Counters{HardwareUnavailable: cs.hwErr, SoftwareUnavailable: cs.swErr, Values: map[string]float64{}}
	add := func(name string, v *uint64) {
		if v != nil {
			c.Values[name] += float64(*v)
		}
	}
	for _, p := range cs.hw {
		var hp perf.HardwareProfile
		if err := p.Profile(&hp); err == nil {
			add("cycles", hp.CPUCycles)
			add("instructions", hp.Instructions)
			add("cache-references", hp.CacheRefs)
			add("cache-misses", hp.CacheMisses)
		}
		p.Stop()
		p.Close()
	}
	for _, p := range cs.sw {
		var sp perf.SoftwareProfile
		if err := p.Profile(&sp); err == nil {
			add("task-clock-ns", sp.TaskClock)
			add("context-switches", sp.ContextSwitches)
			add("cpu-migrations", sp.CPUMigrations)
			add("page-faults", sp.PageFaults)
		}
		p.Stop()
		p.Close()
	}
	return c
}

// hardwareReason says in one sentence why hardware counters are missing.
func hardwareReason(err error) string {
	msg := fmt.Sprint(err)
	switch {
	case strings.Contains(msg, "no such file"):
		msg = "perf_event_open returns ENOENT for hardware events: this CPU or VM does not expose hardware counters"
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "operation not permitted"):
		msg = "perf_event_open is not permitted (see /proc/sys/kernel/perf_event_paranoid)"
	}
	return msg + "; software counters (task clock, context switches, migrations, page faults) are reported instead, and `asdsl-bench cachegrind` simulates the caches"
}
