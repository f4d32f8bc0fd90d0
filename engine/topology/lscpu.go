package topology

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// ParseLscpuExtended reads an `lscpu -e` / `lscpu --all --extended`
// table. Columns are found by header name; CORE and SOCKET give the
// physical core, L1d:L1i:L2:L3 the cache ids, ONLINE and MAXMHZ the rest.
func ParseLscpuExtended(text string) (*Topology, error) {
	sc := bufio.NewScanner(strings.NewReader(text))
	var cols map[string]int
	t := &Topology{Source: "lscpu -e", SiblingsKnown: true}
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if cols == nil {
			if f[0] == "CPU" {
				cols = map[string]int{}
				for i, name := range f {
					cols[name] = i
				}
			}
			continue
		}
		get := func(name string) (string, bool) {
			i, ok := cols[name]
			if !ok || i >= len(f) {
				return "", false
			}
			return f[i], true
		}
		idS, _ := get("CPU")
		id, err := strconv.Atoi(idS)
		if err != nil {
			break // end of the table
		}
		c := CPU{ID: id, Core: -1, L2: -1, L3: -1, Online: true}
		core, _ := get("CORE")
		sock, _ := get("SOCKET")
		if n, err := strconv.Atoi(core); err == nil {
			s, _ := strconv.Atoi(sock)
			c.Core = s<<20 | n
		}
		if cache, ok := get("L1d:L1i:L2:L3"); ok {
			c.L2, c.L3 = parseCacheIDs(strings.Split(cache, ":"))
		}
		if on, ok := get("ONLINE"); ok {
			c.Online = on == "yes"
		}
		if mhz, ok := get("MAXMHZ"); ok {
			c.MaxMHz, _ = strconv.ParseFloat(mhz, 64)
		}
		t.CPUs = append(t.CPUs, c)
	}
	if len(t.CPUs) == 0 {
		return nil, fmt.Errorf("lscpu -e: no CPU rows found")
	}
	t.Classify()
	return t, nil
}

// parseCacheIDs reads the cache-id fields of one lscpu row. Four fields
// are L1d, L1i, L2, L3. Three mean no L3 (LP-E cores). Some lscpu
// versions print only two for a few cores ("2:0" where the next row has
// "18:18:2:0"): those are the L2 and L3 ids.
func parseCacheIDs(f []string) (l2, l3 int) {
	num := func(s string) int {
		n, err := strconv.Atoi(s)
		if err != nil {
			return -1
		}
		return n
	}
	switch len(f) {
	case 4:
		return num(f[2]), boolInt(f[3] != "")
	case 3:
		return num(f[2]), 0
	case 2:
		return num(f[0]), boolInt(f[1] != "")
	}
	return -1, -1
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ParseLscpuParse reads `lscpu -p` (`--parse`) CSV rows
// "CPU,Core,Socket,Node,,L1d,L1i,L2,L3". Only the first table in the
// text is used (a dump may hold a second, --physical, one).
func ParseLscpuParse(text string) (*Topology, error) {
	t := &Topology{Source: "lscpu -p", SiblingsKnown: true}
	started := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		id, err := strconv.Atoi(f[0])
		if err != nil || len(f) < 3 {
			if started {
				break
			}
			continue
		}
		started = true
		core, err1 := strconv.Atoi(f[1])
		sock, err2 := strconv.Atoi(f[2])
		c := CPU{ID: id, Core: -1, L2: -1, L3: -1, Online: true}
		if err1 == nil && err2 == nil {
			c.Core = sock<<20 | core
		}
		if len(f) > 5 {
			c.L2, c.L3 = parseCacheIDs(f[5:])
		}
		t.CPUs = append(t.CPUs, c)
	}
	if len(t.CPUs) == 0 {
		return nil, fmt.Errorf("lscpu -p: no CPU rows found")
	}
	t.Classify()
	return t, nil
}
