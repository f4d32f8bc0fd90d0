package hostload

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// USER_HZ: /proc/stat counts in clock ticks of 1/100 s on every Linux
// architecture Go supports.
const tick = 10 * time.Millisecond

func take() (Snapshot, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return Snapshot{}, err
	}
	defer f.Close()
	var s Snapshot
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || !strings.HasPrefix(fields[0], "cpu") {
			continue
		}
		if fields[0] != "cpu" {
			s.CPUs++
			continue
		}
		// user nice system idle iowait irq softirq steal [guest guest_nice]:
		// guest time is already counted in user and nice.
		if len(fields) < 9 {
			return Snapshot{}, fmt.Errorf("/proc/stat: short cpu line %q", sc.Text())
		}
		var v [8]uint64
		for i := range v {
			if v[i], err = strconv.ParseUint(fields[1+i], 10, 64); err != nil {
				return Snapshot{}, fmt.Errorf("/proc/stat: %v", err)
			}
		}
		busy := v[0] + v[1] + v[2] + v[5] + v[6]
		s.Busy = time.Duration(busy) * tick
		s.Steal = time.Duration(v[7]) * tick
		s.Total = time.Duration(busy+v[3]+v[4]+v[7]) * tick
		s.ok = true
	}
	if err := sc.Err(); err != nil {
		return Snapshot{}, err
	}
	if !s.ok {
		return Snapshot{}, fmt.Errorf("/proc/stat has no cpu line")
	}
	return s, nil
}

// SelfCPU is the CPU time this process has used (all threads, user and
// system), for Between when the measured work runs in-process.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// RunDelay is the time the given threads of this process spent runnable
// but waiting for a CPU, summed, since they started: the second field of
// /proc/self/task/TID/schedstat, kept by the scheduler in nanoseconds.
// Unlike /proc/stat's 10 ms ticks it resolves a single preemption of a
// 4 ms prefill, and it counts only what delayed these threads.
func RunDelay(tids []int) (time.Duration, error) {
	var sum time.Duration
	for _, tid := range tids {
		data, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/schedstat")
		if err != nil {
			return 0, err
		}
		f := strings.Fields(string(data))
		if len(f) < 2 {
			return 0, fmt.Errorf("/proc/self/task/%d/schedstat: %q", tid, data)
		}
		ns, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/self/task/%d/schedstat: %v", tid, err)
		}
		sum += time.Duration(ns)
	}
	return sum, nil
}
