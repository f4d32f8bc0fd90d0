package topology

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var sysfsCPU = regexp.MustCompile(`/cpu/cpu(\d+)/(.+)$`)

// ParseSysfs reads Linux sysfs files given as "path:content" lines (the
// form `grep -H ” FILES` prints): per-CPU topology (core_id,
// thread_siblings_list or core_cpus_list, cluster_cpus_list,
// physical_package_id), cpufreq/cpuinfo_max_freq, the online list, and
// the hybrid PMU lists /sys/devices/cpu_core/cpus and cpu_atom/cpus.
func ParseSysfs(text string) (*Topology, error) {
	type rec struct {
		siblings, cluster []int
		coreID, pkg       int
		maxKHz, perf      float64
	}
	recs := map[int]*rec{}
	var online, pCPUs, eCPUs []int
	haveOnline, havePMU := false, false
	for _, line := range strings.Split(text, "\n") {
		path, val, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch {
		case strings.HasSuffix(path, "/cpu_core/cpus"):
			pCPUs, _ = ParseList(val)
			havePMU = true
			continue
		case strings.HasSuffix(path, "/cpu_atom/cpus"):
			eCPUs, _ = ParseList(val)
			havePMU = true
			continue
		case strings.HasSuffix(path, "/system/cpu/online"):
			online, _ = ParseList(val)
			haveOnline = true
			continue
		}
		m := sysfsCPU.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		id, _ := strconv.Atoi(m[1])
		r := recs[id]
		if r == nil {
			r = &rec{coreID: -1}
			recs[id] = r
		}
		switch m[2] {
		case "topology/thread_siblings_list", "topology/core_cpus_list":
			r.siblings, _ = ParseList(val)
		case "topology/cluster_cpus_list":
			r.cluster, _ = ParseList(val)
		case "topology/core_id":
			r.coreID, _ = strconv.Atoi(val)
		case "topology/physical_package_id":
			r.pkg, _ = strconv.Atoi(val)
		case "cpufreq/cpuinfo_max_freq":
			r.maxKHz, _ = strconv.ParseFloat(val, 64)
		case "acpi_cppc/highest_perf":
			r.perf, _ = strconv.ParseFloat(val, 64)
		}
	}
	if len(recs) == 0 {
		if havePMU {
			return fromPMULists(pCPUs, eCPUs, "sysfs cpu_core/cpu_atom")
		}
		return nil, fmt.Errorf("sysfs: no per-CPU topology files found")
	}
	isOnline := map[int]bool{}
	for _, id := range online {
		isOnline[id] = true
	}
	t := &Topology{Source: "sysfs", SiblingsKnown: true}
	kinds := map[int]Kind{}
	for _, id := range pCPUs {
		kinds[id] = Performance
	}
	for _, id := range eCPUs {
		kinds[id] = Efficiency
	}
	// A cluster (cluster_cpus_list) is the set of CPUs sharing an L2.
	ids := make([]int, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		r := recs[id]
		c := CPU{ID: id, Core: -1, L2: -1, L3: -1, Online: !haveOnline || isOnline[id], Kind: kinds[id], MaxMHz: r.maxKHz / 1000, Perf: r.perf}
		if len(r.siblings) > 0 {
			c.Core = r.siblings[0]
		} else if r.coreID >= 0 {
			c.Core = r.pkg<<20 | r.coreID
		} else {
			c.Core = id
		}
		if len(r.cluster) > 0 {
			c.L2 = r.cluster[0]
		}
		t.CPUs = append(t.CPUs, c)
	}
	t.Classify()
	return t, nil
}

// ParsePMULists reads the hybrid PMU CPU lists from text holding the
// output of `cat /sys/devices/cpu_core/cpus` and `.../cpu_atom/cpus`
// (shell prompts and all): each list is the first line after the
// command that parses as a CPU list.
func ParsePMULists(text string) (*Topology, error) {
	var pCPUs, eCPUs []int
	var want *[]int
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.Contains(line, "cpu_core/cpus"):
			want = &pCPUs
			continue
		case strings.Contains(line, "cpu_atom/cpus"):
			want = &eCPUs
			continue
		}
		if want == nil {
			continue
		}
		if l, err := ParseList(line); err == nil && len(l) > 0 {
			*want = l
			want = nil
		}
	}
	if len(pCPUs) == 0 && len(eCPUs) == 0 {
		return nil, fmt.Errorf("no cpu_core or cpu_atom list found")
	}
	return fromPMULists(pCPUs, eCPUs, "cpu_core/cpu_atom lists")
}

// fromPMULists builds a topology from the two lists alone. They carry
// no SMT pairing: a P list that is one even-length run is taken as
// adjacent sibling pairs, anything else as one thread per core.
func fromPMULists(pCPUs, eCPUs []int, source string) (*Topology, error) {
	t := &Topology{Source: source, Partial: len(pCPUs) == 0}
	for _, id := range pCPUs {
		t.CPUs = append(t.CPUs, CPU{ID: id, Kind: Performance, L2: -1, L3: -1, Online: true})
	}
	for _, id := range eCPUs {
		t.CPUs = append(t.CPUs, CPU{ID: id, Kind: Efficiency, L2: -1, L3: -1, Online: true})
	}
	pPerCore := 1
	if n := len(pCPUs); n > 0 && n%2 == 0 && pCPUs[n-1]-pCPUs[0] == n-1 && len(eCPUs) > 0 {
		pPerCore = 2
	}
	t.assumeAdjacentPairs(map[Kind]int{Performance: pPerCore})
	if len(eCPUs) == 0 {
		t.Notes = append(t.Notes, "no cpu_atom list: E-cores, if any, unknown")
	}
	t.Classify()
	return t, nil
}
