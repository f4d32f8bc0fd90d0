//go:build !linux

package measure

type counterSet struct{}

func openCounters([]int) *counterSet { return &counterSet{} }

func (*counterSet) reset() {}

func (*counterSet) read() Counters {
	return Counters{HardwareUnavailable: "performance counters are read through Linux perf_event_open only",
		SoftwareUnavailable: "performance counters are read through Linux perf_event_open only", Values: map[string]float64{}}
}
