package phases

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"asdsl-bench/engine"
	"asdsl-bench/engine/topology"
	"asdsl-bench/internal/shared"
)

// topologyCheck: the P-core detection on recorded hybrid dumps, and
// pinning on this machine.
var topologyCheck = Check{Name: "P-core detection and pinning", Run: func(env *Env) (string, error) {
	var recorded []string // which CPUs each recorded hybrid's math threads would use
	dir, err := shared.Fixture("topologies", "topologies")
	if err != nil {
		return "", err
	}
	for _, c := range []struct {
		file  string
		parse func(string) (*topology.Topology, error)
		math  string
	}{
		{"i5-L16G7-lakefield.sysfs-topology.txt", topology.ParseSysfs, "4"},
		{"core-ultra-9-185H.lscpu-p.txt", topology.ParseLscpuParse, "0-1,3,6,8,10"},
		{"i7-1370P.cpuid-hwloc.txt", topology.ParseHwlocCPUID, "0,2,4,6,8,10"},
	} {
		raw, err := os.ReadFile(filepath.Join(dir, c.file))
		if err != nil {
			return "", err
		}
		body := string(raw)
		for strings.HasPrefix(body, "# ") {
			_, body, _ = strings.Cut(body, "\n")
		}
		t, err := c.parse(body)
		if err != nil {
			return "", fmt.Errorf("%s: %v", c.file, err)
		}
		if got := topology.FormatList(t.MathThreads()); got != c.math {
			return "", fmt.Errorf("%s: math threads %s, want %s", c.file, got, c.math)
		}
		recorded = append(recorded, strings.SplitN(c.file, ".", 2)[0]+" would use CPUs "+c.math)
	}
	// Pinning: the math threads start and each one that was given a CPU
	// is on it (a failed sched_setaffinity fails the check).
	live := topology.Detect()
	g, err := engine.NewGEMV(len(live.MathThreads()))
	if err != nil {
		return "", err
	}
	defer g.Close()
	var pinned []int
	for _, w := range g.Workers() {
		if w.CPU >= 0 && !w.Pinned {
			return "", fmt.Errorf("worker %d not pinned to CPU %d: %s", w.Worker, w.CPU, w.Err)
		}
		if w.Pinned {
			pinned = append(pinned, w.CPU)
		}
	}
	where := "threads not pinned on this OS"
	if len(pinned) > 0 {
		where = "math threads pinned to CPUs " + topology.FormatList(pinned)
	}
	return fmt.Sprintf("here: %s; %s; recorded hybrids: %s", live.Summary(), where, strings.Join(recorded, ", ")), nil
}}
