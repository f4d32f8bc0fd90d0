package topology

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseCpuinfo reads /proc/cpuinfo: processor, physical id and core id
// give the cores. It holds no cache sharing or core type, so on a hybrid
// part only SMT asymmetry can tell P from E.
func ParseCpuinfo(text string) (*Topology, error) {
	t := &Topology{Source: "/proc/cpuinfo", SiblingsKnown: true}
	var cur *CPU
	pkg := 0
	flush := func() {
		if cur != nil {
			t.CPUs = append(t.CPUs, *cur)
			cur = nil
		}
	}
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "processor":
			flush()
			id, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("/proc/cpuinfo: bad processor line %q", line)
			}
			cur = &CPU{ID: id, Core: -1, L2: -1, L3: -1, Online: true}
			pkg = 0
		case "physical id":
			pkg, _ = strconv.Atoi(v)
		case "core id":
			if cur != nil {
				n, _ := strconv.Atoi(v)
				cur.Core = pkg<<20 | n
			}
		}
	}
	flush()
	if len(t.CPUs) == 0 {
		return nil, fmt.Errorf("/proc/cpuinfo: no processors found")
	}
	for i := range t.CPUs {
		if t.CPUs[i].Core < 0 {
			t.CPUs[i].Core = t.CPUs[i].ID
			t.SiblingsKnown = false
		}
	}
	t.Classify()
	return t, nil
}
