package measure

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// cpuTimes is a snapshot of /proc/stat: per CPU, busy and total jiffies.
type cpuTimes map[int][2]uint64

func readCPUTimes() (cpuTimes, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := cpuTimes{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || !strings.HasPrefix(fields[0], "cpu") || fields[0] == "cpu" {
			continue
		}
		id, err := strconv.Atoi(fields[0][3:])
		if err != nil {
			continue
		}
		var total, idle uint64
		for i, s := range fields[1:] {
			v, _ := strconv.ParseUint(s, 10, 64)
			total += v
			if i == 3 || i == 4 { // idle, iowait
				idle += v
			}
		}
		out[id] = [2]uint64{total - idle, total}
	}
	return out, sc.Err()
}

// busy returns, per CPU, the fraction of time busy between two snapshots.
func busy(a, b cpuTimes) map[int]float64 {
	out := map[int]float64{}
	for id, t1 := range b {
		t0 := a[id]
		if dt := t1[1] - t0[1]; dt > 0 {
			out[id] = float64(t1[0]-t0[0]) / float64(dt)
		}
	}
	return out
}

// threadStat reads a thread's last CPU and its CPU time (utime+stime, in
// clock ticks) from /proc/self/task/TID/stat.
func threadStat(tid int) (cpu int, ticks uint64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/stat", tid))
	if err != nil {
		return 0, 0, err
	}
	s := string(data)
	// The command name is in parentheses and may contain spaces.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("bad stat line")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): utime is field 14, stime 15, processor 39.
	if len(f) < 37 {
		return 0, 0, fmt.Errorf("short stat line")
	}
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	cpu, _ = strconv.Atoi(f[36])
	return cpu, ut + st, nil
}
