package topology

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"asdsl-bench/internal/testutil"
)

// stripHeader drops a fixture's "# " header lines.
func stripHeader(s string) string {
	lines := strings.Split(s, "\n")
	i := 0
	for i < len(lines) && strings.HasPrefix(lines[i], "# ") {
		i++
	}
	return strings.Join(lines[i:], "\n")
}

// The expected sets are the ones worked out in shared/topologies/README.md.
var fixtureCases = []struct {
	file     string
	parse    func(string) (*Topology, error)
	p, e, lp string // CPU lists; "-" means none
	math     string
	pairs    [][]int // SMT groups that must appear
	partial  bool
}{
	{"i9-13900K-inferred.lscpu-e.txt", ParseLscpuExtended, "0-15", "16-31", "-", "0,2,4,6,8,10,12,14", [][]int{{0, 1}, {14, 15}}, false},
	{"i7-14700K.lscpu-e.txt", ParseLscpuExtended, "0-15", "16-27", "-", "0,2,4,6,8,10,12,14", [][]int{{0, 1}}, false},
	{"i9-12900K.lscpu-e.txt", ParseLscpuExtended, "0-15", "16-23", "-", "0,2,4,6,8,10,12,14", [][]int{{2, 3}}, false},
	{"i7-1255U.lscpu-e.txt", ParseLscpuExtended, "0-3", "4-11", "-", "0,2", [][]int{{0, 1}, {2, 3}}, false},
	{"i5-1235U.windows-glpiex.txt", ParseWindowsCores, "0-3", "4-11", "-", "0,2", [][]int{{0, 1}, {2, 3}}, false},
	{"i7-12700H.libcpuid-cpu-types.txt", ParseLibcpuidTypes, "0-11", "12-19", "-", "0,2,4,6,8,10", nil, false},
	{"alderlake-8p8e.sysfs-cpu_core-cpu_atom.txt", ParsePMULists, "0-15", "16-23", "-", "0,2,4,6,8,10,12,14", nil, false},
	{"i7-1370P.sysfs-topology.txt", ParseSysfs, "0-11", "12-19", "-", "0,2,4,6,8,10", [][]int{{0, 1}, {10, 11}, {12}}, false},
	{"i7-1370P.proc-cpuinfo.txt", ParseCpuinfo, "0-11", "12-19", "-", "0,2,4,6,8,10", [][]int{{0, 1}, {12}}, false},
	{"i7-1370P.cpuid-hwloc.txt", ParseHwlocCPUID, "0-11", "12-19", "-", "0,2,4,6,8,10", [][]int{{0, 1}, {12}}, false},
	{"core-ultra-9-185H.lscpu-p.txt", ParseLscpuParse, "0-11", "12-19", "20-21", "0,1,3,6,8,10", [][]int{{0, 5}, {1, 2}, {3, 4}}, false},
	{"meteorlake-h-smt-off-inferred.sysfs-cpu_core-cpu_atom.txt", ParsePMULists, "0-1,3,6,8,10", "12-21", "-", "0,1,3,6,8,10", nil, false},
	{"core-ultra-5-225U.cpuid-hwloc.txt", ParseHwlocCPUID, "0-3", "4-11", "12-13", "0,2", [][]int{{0, 1}, {2, 3}}, false},
	{"core-ultra-7-255H-inferred.lscpu-e.txt", ParseLscpuExtended, "0-5", "6-13", "14-15", "0-5", [][]int{{0}}, false},
	{"core-ultra-7-258V.lscpu-e.txt", ParseLscpuExtended, "0-3", "-", "4-7", "0-3", nil, false},
	{"lunarlake-unnamed.lscpu-e.txt", ParseLscpuExtended, "0-3", "-", "4-7", "0-3", nil, false},
	{"lunarlake-unnamed.cpu_atom.txt", ParsePMULists, "-", "4-7", "-", "", nil, true},
	{"i5-L16G7-lakefield.sysfs-topology.txt", ParseSysfs, "4", "0-3", "-", "4", nil, false},
	{"i5-L16G7-lakefield.cpuid-hwloc.txt", ParseHwlocCPUID, "4", "0-3", "-", "4", nil, false},
	{"i7-1165G7.lscpu-p.txt", ParseLscpuParse, "0-7", "-", "-", "0-3", [][]int{{0, 4}, {3, 7}}, false},
	{"i7-1165G7.sysfs-topology.txt", ParseSysfs, "0-7", "-", "-", "0-3", [][]int{{0, 4}, {3, 7}}, false},
	{"ryzen-7-5800X.lscpu-e.txt", ParseLscpuExtended, "0-15", "-", "-", "0-7", [][]int{{0, 8}, {7, 15}}, false},
	{"ryzen-ai-9-hx370.cpuid-hwloc.txt", ParseHwlocCPUID, "0-3,12-15", "4-11,16-23", "-", "0-3", [][]int{{0, 12}, {4, 16}}, false},
}

func list(t *testing.T, s string) []int {
	if s == "-" || s == "" {
		return nil
	}
	l, err := ParseList(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// topologyDir is ../shared/topologies, or its copy in testdata/.
func topologyDir(t *testing.T) string {
	return testutil.Fixture(t, "topologies", "topologies")
}

func TestRecordedTopologies(t *testing.T) {
	dir := topologyDir(t)
	for _, c := range fixtureCases {
		t.Run(c.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			topo, err := c.parse(stripHeader(string(raw)))
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, got []int, want string) {
				if w := list(t, want); !reflect.DeepEqual(got, w) {
					t.Errorf("%s: got %s, want %s", what, FormatList(got), FormatList(w))
				}
			}
			check("P", topo.Set(Performance), c.p)
			check("E", topo.Set(Efficiency), c.e)
			check("LP-E", topo.Set(LowPower), c.lp)
			math := topo.MathThreads()
			check("math threads", math, c.math)
			// Exactly one math thread per P-core and none elsewhere.
			seen := map[int]bool{}
			for _, id := range math {
				cpu := topo.cpu(id)
				if cpu.Kind != Performance {
					t.Errorf("math thread %d is a %s CPU", id, cpu.Kind)
				}
				if seen[cpu.Core] {
					t.Errorf("two math threads on the core of CPU %d", id)
				}
				seen[cpu.Core] = true
			}
			cores := topo.Cores()
			for _, pair := range c.pairs {
				found := false
				for _, g := range cores {
					if reflect.DeepEqual(g, pair) {
						found = true
					}
				}
				if !found {
					t.Errorf("SMT group %v not found in %v", pair, cores)
				}
			}
			t.Log(topo.Summary(), topo.Notes)
		})
	}
}

// The partial Ryzen 9 table and every other fixture must parse with
// every parser without a panic (errors are fine).
func TestParsersNeverPanic(t *testing.T) {
	dir := topologyDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	parsers := []func(string) (*Topology, error){ParseLscpuExtended, ParseLscpuParse, ParseSysfs, ParsePMULists, ParseCpuinfo, ParseHwlocCPUID, ParseWindowsCores, ParseLibcpuidTypes}
	for _, e := range entries {
		raw, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		for _, p := range parsers {
			if topo, err := p(stripHeader(string(raw))); err == nil {
				_ = topo.MathThreads()
			}
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "ryzen-9-7950X.lscpu-e.PARTIAL.txt"))
	topo, err := ParseLscpuExtended(stripHeader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range topo.Cores() {
		if reflect.DeepEqual(g, []int{0, 16}) {
			found = true
		}
	}
	if !found {
		t.Errorf("7950X partial: {0,16} not paired: %v", topo.Cores())
	}
}

func TestParseList(t *testing.T) {
	got, err := ParseList("0-1,3,6,8,10")
	if err != nil || !reflect.DeepEqual(got, []int{0, 1, 3, 6, 8, 10}) {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"1-", "a", "3-1", "0-99999999"} {
		if _, err := ParseList(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if FormatList([]int{0, 1, 2, 5, 7, 8}) != "0-2,5,7-8" {
		t.Error("FormatList")
	}
}

// Detect on this machine must give a usable answer: every CPU listed,
// at least one math thread, each on its own core.
func TestDetectThisMachine(t *testing.T) {
	topo := Detect()
	t.Log(topo.Summary(), topo.Notes)
	if len(topo.CPUs) == 0 || len(topo.MathThreads()) == 0 {
		t.Fatalf("no CPUs or math threads: %+v", topo)
	}
}
