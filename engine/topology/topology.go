// Package topology finds the physical cores of a machine, their SMT
// siblings and, on hybrid CPUs, which are performance (P), efficiency (E)
// or low-power efficiency (LP-E) cores — and from that the CPUs the math
// threads should run on: one per physical P-core.
//
// Evidence comes from several sources, each parsed into the same CPU
// records: CPUID leaf 0x1A core types, Linux sysfs topology and the
// cpu_core/cpu_atom PMU lists, lscpu tables, /proc/cpuinfo, Windows
// processor information, libcpuid. Parsers are pure functions of text,
// so they are tested on real dumps recorded on other machines.
package topology

import (
	"fmt"
	"sort"
	"strings"
)

// Kind is a core's class on a hybrid CPU.
type Kind uint8

// Core kinds. Unknown is resolved by Classify.
const (
	Unknown Kind = iota
	Performance
	Efficiency
	LowPower // LP-E: efficiency cores outside the main cluster, no L3
)

func (k Kind) String() string {
	return [...]string{"unknown", "P", "E", "LP-E"}[k]
}

// CPU is one logical processor.
type CPU struct {
	ID     int     // OS logical CPU number
	Core   int     // identifies the physical core (unique in the machine); -1 unknown
	Kind   Kind    // as reported by the source, or Unknown
	MaxMHz float64 // 0 when unknown
	Perf   float64 // ACPI CPPC highest_perf; 0 when unknown
	L2     int     // id of its L2 (or L2 cluster); -1 unknown
	L3     int     // 1 has an L3, 0 has none, -1 unknown
	Online bool
}

// Topology is a machine's CPUs and how they were classified.
type Topology struct {
	Source        string
	CPUs          []CPU
	SiblingsKnown bool     // Core is real; false: SMT pairing was assumed
	Partial       bool     // the source lists only some CPUs (e.g. cpu_atom alone)
	Notes         []string // how kinds were decided, for "asdsl-bench machine"
}

// Cores returns the SMT groups: logical CPUs per physical core, each
// sorted, ordered by their lowest CPU.
func (t *Topology) Cores() [][]int {
	byCore := map[int][]int{}
	for _, c := range t.CPUs {
		byCore[c.Core] = append(byCore[c.Core], c.ID)
	}
	var out [][]int
	for _, ids := range byCore {
		sort.Ints(ids)
		out = append(out, ids)
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// Set returns the logical CPUs of a kind, sorted.
func (t *Topology) Set(k Kind) []int {
	var out []int
	for _, c := range t.CPUs {
		if c.Kind == k {
			out = append(out, c.ID)
		}
	}
	sort.Ints(out)
	return out
}

// Hybrid reports whether more than one kind of core is present.
func (t *Topology) Hybrid() bool {
	seen := map[Kind]bool{}
	for _, c := range t.CPUs {
		seen[c.Kind] = true
	}
	return len(seen) > 1
}

// MathThreads returns one online CPU per physical P-core (its
// lowest-numbered online thread): compute-bound threads gain nothing from
// an SMT sibling and lose a lot on an E-core, since every op waits for
// the slowest thread.
func (t *Topology) MathThreads() []int {
	var out []int
	for _, core := range t.Cores() {
		for _, id := range core {
			c := t.cpu(id)
			if c.Kind == Performance && c.Online {
				out = append(out, id)
				break
			}
		}
	}
	sort.Ints(out)
	return out
}

func (t *Topology) cpu(id int) *CPU {
	for i := range t.CPUs {
		if t.CPUs[i].ID == id {
			return &t.CPUs[i]
		}
	}
	return nil
}

// Summary is a one-paragraph description for people.
func (t *Topology) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d logical CPUs, %d cores (source: %s)", len(t.CPUs), len(t.Cores()), t.Source)
	for _, k := range []Kind{Performance, Efficiency, LowPower} {
		if s := t.Set(k); len(s) > 0 {
			fmt.Fprintf(&b, "; %s: %s", k, FormatList(s))
		}
	}
	fmt.Fprintf(&b, "; math threads: %s", FormatList(t.MathThreads()))
	return b.String()
}
