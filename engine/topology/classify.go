package topology

import "sort"

// Classify fills in the Kind of every CPU the source left Unknown, from
// the best evidence available, and records how in Notes:
//
//  1. Kinds reported by the source (CPUID 0x1A, PMU lists, Windows
//     efficiency class) stand; an E-core without an L3 is LP-E.
//  2. Caches: a core without an L3 is LP-E; one sharing its L2 (cluster)
//     with other cores is E; one with a private L2 is P. (Frequencies are
//     not used: on Arrow Lake-H the E-cores reach 86% of the P-cores'.)
//  3. Performance ratings, only where no cache evidence exists: a core
//     whose CPPC highest_perf (else maximum frequency) is below 80% of
//     the best is E. (Lakefield: 28 vs 43. The favoured cores of Turbo
//     Boost Max differ by a few percent only. Arrow Lake-H E-cores reach
//     86% in frequency, which is why caches come first.)
//  4. SMT: where some cores have two threads and others one, the
//     two-thread cores are the P-cores (Intel hybrids with HT on).
//  5. Otherwise every core is P.
//
// If a rule leaves no P-core at all (an all-E-core part such as an N100),
// every core with an L3 — or every core — counts as P, since the math
// threads must run somewhere.
func (t *Topology) Classify() {
	unknown := false
	for _, c := range t.CPUs {
		if c.Kind == Unknown {
			unknown = true
		}
	}
	if !unknown {
		t.refineLowPower()
		t.ensureP()
		return
	}
	cores := t.coreMap()
	switch {
	case t.haveCacheInfo():
		// L2 sharing: how many distinct cores use each L2 id.
		coresPerL2 := map[int]map[int]bool{}
		for _, c := range t.CPUs {
			if c.L2 >= 0 {
				if coresPerL2[c.L2] == nil {
					coresPerL2[c.L2] = map[int]bool{}
				}
				coresPerL2[c.L2][c.Core] = true
			}
		}
		for i := range t.CPUs {
			c := &t.CPUs[i]
			if c.Kind != Unknown {
				continue
			}
			switch {
			case c.L3 == 0:
				c.Kind = LowPower
			case c.L2 >= 0 && len(coresPerL2[c.L2]) > 1:
				c.Kind = Efficiency
			default:
				c.Kind = Performance
			}
		}
		t.Notes = append(t.Notes, "kinds from caches: no L3 = LP-E, shared L2 = E, private L2 = P")
	case t.perfSpread():
		best := 0.0
		for _, c := range t.CPUs {
			best = max(best, c.rating())
		}
		for i := range t.CPUs {
			if t.CPUs[i].Kind == Unknown {
				if t.CPUs[i].rating() < 0.8*best {
					t.CPUs[i].Kind = Efficiency
				} else {
					t.CPUs[i].Kind = Performance
				}
			}
		}
		t.Notes = append(t.Notes, "kinds from performance ratings: below 80% of the best = E")
	case t.SiblingsKnown && asymmetricSMT(cores):
		for i := range t.CPUs {
			if t.CPUs[i].Kind == Unknown {
				if len(cores[t.CPUs[i].Core]) > 1 {
					t.CPUs[i].Kind = Performance
				} else {
					t.CPUs[i].Kind = Efficiency
				}
			}
		}
		t.Notes = append(t.Notes, "kinds from SMT: two-thread cores = P, one-thread cores = E")
	default:
		for i := range t.CPUs {
			if t.CPUs[i].Kind == Unknown {
				t.CPUs[i].Kind = Performance
			}
		}
		t.Notes = append(t.Notes, "no evidence of a hybrid CPU: every core is P")
	}
	t.ensureP()
}

// rating is CPPC highest_perf when known, else the maximum frequency.
func (c CPU) rating() float64 {
	if c.Perf > 0 {
		return c.Perf
	}
	return c.MaxMHz
}

// perfSpread reports whether every CPU has a rating and they differ by
// more than 20%.
func (t *Topology) perfSpread() bool {
	lo, hi := 0.0, 0.0
	for i, c := range t.CPUs {
		r := c.rating()
		if r <= 0 {
			return false
		}
		if i == 0 || r < lo {
			lo = r
		}
		hi = max(hi, r)
	}
	return lo < 0.8*hi
}

func (t *Topology) refineLowPower() {
	for i := range t.CPUs {
		if t.CPUs[i].Kind == Efficiency && t.CPUs[i].L3 == 0 {
			t.CPUs[i].Kind = LowPower
		}
	}
}

func (t *Topology) ensureP() {
	if t.Partial {
		return
	}
	for _, c := range t.CPUs {
		if c.Kind == Performance {
			return
		}
	}
	withL3 := false
	for _, c := range t.CPUs {
		if c.L3 != 0 {
			withL3 = true
		}
	}
	for i := range t.CPUs {
		if !withL3 || t.CPUs[i].L3 != 0 {
			t.CPUs[i].Kind = Performance
		}
	}
	t.Notes = append(t.Notes, "no P-core found: the fastest available cores are used as P")
}

func (t *Topology) haveCacheInfo() bool {
	for _, c := range t.CPUs {
		if c.L2 >= 0 || c.L3 >= 0 {
			return true
		}
	}
	return false
}

func (t *Topology) coreMap() map[int][]int {
	m := map[int][]int{}
	for _, c := range t.CPUs {
		m[c.Core] = append(m[c.Core], c.ID)
	}
	return m
}

func asymmetricSMT(cores map[int][]int) bool {
	one, many := false, false
	for _, ids := range cores {
		if len(ids) > 1 {
			many = true
		} else {
			one = true
		}
	}
	return one && many
}

// assumeAdjacentPairs sets Core when a source gives no SMT pairing: the
// CPUs of each kind are paired 2k, 2k+1 when threadsPerCore is 2 (the
// usual Linux numbering of Intel hybrids, though not universal: the Core
// Ultra 9 185H pairs 0 with 5). The assumption is recorded.
func (t *Topology) assumeAdjacentPairs(threadsPerCore map[Kind]int) {
	byKind := map[Kind][]int{}
	for _, c := range t.CPUs {
		byKind[c.Kind] = append(byKind[c.Kind], c.ID)
	}
	next := 0
	core := map[int]int{}
	for _, k := range []Kind{Performance, Efficiency, LowPower, Unknown} {
		ids := byKind[k]
		sort.Ints(ids)
		n := max(1, threadsPerCore[k])
		for i, id := range ids {
			if i%n == 0 {
				next++
			}
			core[id] = next
		}
	}
	for i := range t.CPUs {
		t.CPUs[i].Core = core[t.CPUs[i].ID]
	}
	t.SiblingsKnown = false
	t.Notes = append(t.Notes, "SMT pairing not in the source: siblings assumed adjacent")
}
