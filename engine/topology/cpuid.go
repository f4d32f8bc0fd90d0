package topology

import (
	"fmt"
	"strconv"
	"strings"
)

// Regs is the output of one CPUID query.
type Regs struct{ EAX, EBX, ECX, EDX uint32 }

// Leaf identifies a CPUID query: EAX in, ECX (sub-leaf) in.
type Leaf struct{ EAX, ECX uint32 }

// FromCPUID classifies CPUs from per-CPU CPUID results (each taken while
// bound to that CPU):
//   - Intel: leaf 0x1A EAX[31:24] is the core type (0x40 Core = P, 0x20
//     Atom = E); an Atom core without an L3 (leaf 4 sub-leaf 3 empty) is
//     LP-E, as LP-E and E report the same type. The core is the x2APIC id
//     (leaf 0xB EDX) shifted by the SMT width (leaf 0xB sub-leaf 0 EAX).
//   - AMD: leaf 0x80000026 EBX[31:28] is 0 for a full core, 1 for a dense
//     (Zen c) one; the core is leaf 0x8000001E EBX[7:0].
func FromCPUID(perCPU map[int]map[Leaf]Regs) (*Topology, error) {
	if len(perCPU) == 0 {
		return nil, fmt.Errorf("cpuid: no CPUs")
	}
	t := &Topology{Source: "CPUID", SiblingsKnown: true}
	for id := 0; id < 1<<16 && len(t.CPUs) < len(perCPU); id++ {
		r, ok := perCPU[id]
		if !ok {
			continue
		}
		c := CPU{ID: id, Core: -1, L2: -1, L3: -1, Online: true}
		if typ, ok := r[Leaf{0x1a, 0}]; ok && typ.EAX != 0 {
			switch typ.EAX >> 24 {
			case 0x40:
				c.Kind = Performance
			case 0x20:
				c.Kind = Efficiency
			}
		}
		if amd, ok := r[Leaf{0x80000026, 0}]; ok && amd != (Regs{}) {
			if amd.EBX>>28 == 0 {
				c.Kind = Performance
			} else {
				c.Kind = Efficiency
			}
		}
		if l3, ok := r[Leaf{4, 3}]; ok {
			if l3.EAX&0x1f == 0 { // cache type 0: no such cache
				c.L3 = 0
			} else {
				c.L3 = 1
			}
		}
		switch {
		case r[Leaf{0xb, 0}] != (Regs{}):
			b := r[Leaf{0xb, 0}]
			c.Core = int(b.EDX >> (b.EAX & 0x1f))
		case r[Leaf{0x8000001e, 0}] != (Regs{}):
			c.Core = int(r[Leaf{0x8000001e, 0}].EBX & 0xff)
		default:
			c.Core = id
			t.SiblingsKnown = false
		}
		t.CPUs = append(t.CPUs, c)
	}
	t.Classify()
	return t, nil
}

// ParseHwlocCPUID reads a dump made by hwloc-gather-cpuid: per CPU a
// "==> puN <==" header, then lines "mask eax ebx ecx edx => eax ebx ecx
// edx" in hex (inputs, then outputs).
func ParseHwlocCPUID(text string) (*Topology, error) {
	perCPU := map[int]map[Leaf]Regs{}
	cur := -1
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "==> pu") {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(line, "==> pu"), " <=="))
			if err != nil {
				return nil, fmt.Errorf("hwloc cpuid: bad header %q", line)
			}
			cur = n
			perCPU[cur] = map[Leaf]Regs{}
			continue
		}
		in, out, ok := strings.Cut(line, "=>")
		if !ok || cur < 0 {
			continue
		}
		fi, fo := strings.Fields(in), strings.Fields(out)
		if len(fi) != 5 || len(fo) != 4 {
			continue
		}
		var v [9]uint32
		for i, s := range append(fi[1:], fo...) {
			x, err := strconv.ParseUint(s, 16, 32)
			if err != nil {
				return nil, fmt.Errorf("hwloc cpuid: bad number in %q", line)
			}
			v[i] = uint32(x)
		}
		perCPU[cur][Leaf{v[0], v[2]}] = Regs{v[4], v[5], v[6], v[7]}
	}
	t, err := FromCPUID(perCPU)
	if err != nil {
		return nil, err
	}
	t.Source = "CPUID (hwloc dump)"
	return t, nil
}
