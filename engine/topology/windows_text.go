package topology

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var glpiLine = regexp.MustCompile(`Core (\d+): Efficiency Class = (\d+), Thread Count = (\d+)`)

// ParseWindowsCores reads lines "Core N: Efficiency Class = E, Thread
// Count = T" (from GetLogicalProcessorInformationEx). A higher efficiency
// class is a faster core: the highest class is P, the rest E. Without
// processor masks the logical numbers are assumed consecutive in core
// order, as Windows usually assigns them.
func ParseWindowsCores(text string) (*Topology, error) {
	t := &Topology{Source: "Windows processor information"}
	type core struct{ class, threads int }
	var cores []core
	top := -1
	for _, m := range glpiLine.FindAllStringSubmatch(text, -1) {
		class, _ := strconv.Atoi(m[2])
		threads, _ := strconv.Atoi(m[3])
		if threads < 1 || threads > 8 {
			return nil, fmt.Errorf("windows cores: thread count %d", threads)
		}
		cores = append(cores, core{class, threads})
		top = max(top, class)
	}
	if len(cores) == 0 {
		return nil, fmt.Errorf("windows cores: no \"Core N: Efficiency Class\" lines")
	}
	id := 0
	for i, c := range cores {
		k := Efficiency
		if c.class == top {
			k = Performance
		}
		for j := 0; j < c.threads; j++ {
			t.CPUs = append(t.CPUs, CPU{ID: id, Core: i, Kind: k, L2: -1, L3: -1, Online: true})
			id++
		}
	}
	t.SiblingsKnown = true
	t.Notes = append(t.Notes, "logical CPU numbers assumed consecutive in core order")
	t.Classify()
	return t, nil
}

var libcpuidType = regexp.MustCompile(`(?s)affinity mask:\s*0x([0-9a-fA-F]+).*?purpose:\s*(\d+).*?counts:\s*(\d+)\s+(\d+)`)

// ParseLibcpuidTypes reads libcpuid's per-type listing: an affinity mask,
// a purpose (1 performance, 2 efficiency, 3 low-power) and counts
// "cores logical total". Siblings are assumed adjacent within a mask.
func ParseLibcpuidTypes(text string) (*Topology, error) {
	t := &Topology{Source: "libcpuid"}
	perCore := map[Kind]int{}
	for _, blk := range strings.Split(text, "Type #")[1:] {
		m := libcpuidType.FindStringSubmatch(blk)
		if m == nil {
			continue
		}
		mask, err := strconv.ParseUint(m[1], 16, 64)
		if err != nil {
			return nil, fmt.Errorf("libcpuid: bad mask %q", m[1])
		}
		purpose, _ := strconv.Atoi(m[2])
		cores, _ := strconv.Atoi(m[3])
		logical, _ := strconv.Atoi(m[4])
		k := map[int]Kind{1: Performance, 2: Efficiency, 3: LowPower}[purpose]
		if cores > 0 {
			perCore[k] = logical / cores
		}
		for id := 0; id < 64; id++ {
			if mask&(1<<id) != 0 {
				t.CPUs = append(t.CPUs, CPU{ID: id, Kind: k, L2: -1, L3: -1, Online: true})
			}
		}
	}
	if len(t.CPUs) == 0 {
		return nil, fmt.Errorf("libcpuid: no types found")
	}
	t.assumeAdjacentPairs(perCore)
	t.Classify()
	return t, nil
}
