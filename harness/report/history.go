package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"asdsl-bench/harness/results"
)

// History draws decode tokens/s per phase across stored runs, for the
// bench (model and workload) that most runs of the most frequent suite
// share: one line per phase, one point per run, each labelled with its
// value. Runs come from different sessions and hosts, whose speed drifts
// by tens of percent, so the chart shows trends, not small changes; the
// gate's alternated A/B is what judges a change. Empty when fewer than
// two runs share a bench.
func History(runs []*results.Run) string {
	suites := map[string]int{}
	for _, r := range runs {
		suites[r.Suite]++
	}
	suite, best := "", 0
	for s, n := range suites {
		if n > best || (n == best && s < suite) {
			suite, best = s, n
		}
	}
	keys := map[string]int{}
	for _, r := range runs {
		if r.Suite != suite {
			continue
		}
		seen := map[string]bool{}
		for _, p := range r.Phases {
			for _, b := range p.Benches {
				k := b.Model + "/" + b.Workload
				if b.Generate > 0 && !strings.Contains(b.Model, "@") && !seen[k] {
					seen[k] = true
					keys[k]++
				}
			}
		}
	}
	key, n := "", 0
	for k, c := range keys {
		// The most shared bench; among equals the largest model name sorts
		// last, which is arbitrary but stable.
		if c > n || (c == n && k > key) {
			key, n = k, c
		}
	}
	if n < 2 {
		return ""
	}
	type point struct {
		run int
		v   float64
	}
	series := map[string][]point{}
	var labels []string
	for _, r := range runs {
		if r.Suite != suite {
			continue
		}
		idx := len(labels)
		labels = append(labels, ShortCommit(r.Commit))
		for _, p := range r.Phases {
			for _, b := range p.Benches {
				if b.Model+"/"+b.Workload == key {
					if v := b.Median(results.DecodeTPS); v > 0 {
						series[p.Name] = append(series[p.Name], point{idx, v})
					}
					break
				}
			}
		}
	}
	maxV := 0.0
	for _, ps := range series {
		for _, p := range ps {
			maxV = math.Max(maxV, p.v)
		}
	}
	const W, H, left, right, top, bottom = 900, 340, 60, 120, 30, 50
	x := func(i int) float64 {
		if len(labels) == 1 {
			return left
		}
		return left + float64(i)*float64(W-left-right)/float64(len(labels)-1)
	}
	y := func(v float64) float64 { return top + (1-v/(maxV*1.1))*float64(H-top-bottom) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", W, H)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="18" font-size="13">decode tokens/s per phase across runs: suite %s, %s (runs from different sessions: trends, not small changes)</text>`+"\n", left, suite, key)
	for i, l := range labels {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="9" text-anchor="middle">%s</text>`+"\n", x(i), H-bottom+16+10*(i%2), l)
	}
	colors := []string{"#999999", "#bbbb33", "#33aa33", "#1f77b4", "#9467bd", "#d62728", "#ff7f0e", "#17becf"}
	names := make([]string, 0, len(series))
	for name := range series {
		names = append(names, name)
	}
	sort.Strings(names)
	for ci, name := range names {
		ps := series[name]
		c := colors[ci%len(colors)]
		var pts []string
		for _, p := range ps {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.run), y(p.v)))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/><text x="%.1f" y="%.1f" font-size="8" fill="%s">%s</text>`+"\n", x(p.run), y(p.v), c, x(p.run)+4, y(p.v)-4, c, Rate(p.v))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"/>`+"\n", strings.Join(pts, " "), c)
		last := ps[len(ps)-1]
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" fill="%s">%s</text>`+"\n", W-right+30, y(last.v)+4, c, name)
	}
	b.WriteString("</svg>\n")
	return b.String()
}
