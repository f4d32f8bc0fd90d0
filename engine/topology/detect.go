package topology

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/klauspost/cpuid/v2"
	ktopo "github.com/klauspost/cpuid/v2/topology"
)

// Detect describes this machine. On Linux it reads sysfs (topology,
// hybrid PMU lists, CPPC) through ParseSysfs; where that leaves the
// kinds undecided on a hybrid CPU, CPUID leaf 0x1A read on each CPU
// (klauspost/cpuid's per-core scan) decides. Elsewhere it uses the
// per-core CPUID scan alone, or, failing that, one P-core per CPU.
func Detect() *Topology {
	if runtime.GOOS == "linux" {
		if t, err := detectSysfs("/sys"); err == nil {
			if cpuid.CPU.Supports(cpuid.HYBRID_CPU) && !kindsFromSource(t) {
				applyCPUIDScan(t)
			}
			return t
		}
	}
	if sys, err := cpuid.ScanTopology(); err == nil && sys.Scanned {
		return fromScan(sys)
	}
	t := &Topology{Source: "CPU count only"}
	for i := 0; i < runtime.NumCPU(); i++ {
		t.CPUs = append(t.CPUs, CPU{ID: i, Core: i, L2: -1, L3: -1, Online: true})
	}
	t.Classify()
	return t
}

// detectSysfs gathers the files ParseSysfs reads, as "path:content".
func detectSysfs(root string) (*Topology, error) {
	var b strings.Builder
	add := func(path string) {
		if data, err := os.ReadFile(path); err == nil {
			fmt.Fprintf(&b, "%s:%s\n", path, strings.TrimSpace(string(data)))
		}
	}
	cpuDirs, _ := filepath.Glob(filepath.Join(root, "devices/system/cpu/cpu[0-9]*"))
	if len(cpuDirs) == 0 {
		return nil, fmt.Errorf("no %s/devices/system/cpu", root)
	}
	sort.Strings(cpuDirs)
	for _, d := range cpuDirs {
		for _, f := range []string{"topology/thread_siblings_list", "topology/core_id", "topology/cluster_cpus_list",
			"topology/physical_package_id", "cpufreq/cpuinfo_max_freq", "acpi_cppc/highest_perf"} {
			add(filepath.Join(d, f))
		}
	}
	add(filepath.Join(root, "devices/system/cpu/online"))
	add(filepath.Join(root, "devices/cpu_core/cpus"))
	add(filepath.Join(root, "devices/cpu_atom/cpus"))
	t, err := ParseSysfs(b.String())
	if err != nil {
		return nil, err
	}
	t.Source = "sysfs (live)"
	return t, nil
}

func kindsFromSource(t *Topology) bool {
	for _, n := range t.Notes {
		if strings.HasPrefix(n, "kinds from") || strings.HasPrefix(n, "no evidence") {
			return false
		}
	}
	return true
}

// applyCPUIDScan overwrites kinds with CPUID core types read on each CPU.
func applyCPUIDScan(t *Topology) {
	sys, err := cpuid.ScanTopology()
	if err != nil || !sys.Scanned {
		t.Notes = append(t.Notes, "hybrid CPU but the per-CPU CPUID scan failed: "+fmt.Sprint(err))
		return
	}
	kinds := scanKinds(sys)
	for i := range t.CPUs {
		if k, ok := kinds[t.CPUs[i].ID]; ok && k != Unknown {
			t.CPUs[i].Kind = k
		}
	}
	t.refineLowPower()
	t.Notes = append(t.Notes, "kinds from CPUID leaf 0x1A read on each CPU")
}

func scanKinds(sys *ktopo.System) map[int]Kind {
	out := map[int]Kind{}
	for _, p := range sys.Packages {
		for _, g := range p.Groups {
			for _, c := range g.Cores {
				k := Unknown
				switch c.Type {
				case ktopo.Performance:
					k = Performance
				case ktopo.Efficiency, ktopo.Dense:
					k = Efficiency
				case ktopo.LPEfficiency:
					k = LowPower
				}
				for _, th := range c.Threads {
					out[th.ID] = k
				}
			}
		}
	}
	return out
}

func fromScan(sys *ktopo.System) *Topology {
	t := &Topology{Source: "CPUID scan", SiblingsKnown: true}
	kinds := scanKinds(sys)
	core := 0
	for _, p := range sys.Packages {
		for _, g := range p.Groups {
			for _, c := range g.Cores {
				for _, th := range c.Threads {
					t.CPUs = append(t.CPUs, CPU{ID: th.ID, Core: core, Kind: kinds[th.ID], L2: -1, L3: -1, Online: true})
				}
				core++
			}
		}
	}
	sort.Slice(t.CPUs, func(i, j int) bool { return t.CPUs[i].ID < t.CPUs[j].ID })
	t.Classify()
	return t
}
